package main

import (
	"os"
	"slices"
	"testing"

	"github.com/sportello/sportello/internal/depcheck"
)

// The hub links no windowing, USB or smart-card code (it builds with
// CGO_ENABLED=0 and runs on a server), and only the stores below
// internal/store/bolt import bbolt: everything above them reaches storage
// through store.Store, so a PostgreSQL hub runs the same code.
func TestHubDependencies(t *testing.T) {
	g, err := depcheck.Load("../..", "./cmd/hub", append(os.Environ(), "CGO_ENABLED=0"))
	if err != nil {
		t.Fatal(err)
	}
	if bad := g.Linked("fyne.io", "github.com/google/gousb", "github.com/ebfe/scard", depcheck.Module+"/internal/kiosk", depcheck.Module+"/internal/cardreader"); len(bad) > 0 {
		t.Errorf("the hub links kiosk-side packages: %v", bad)
	}
	// bbolt and the bbolt stores are named only by the stores themselves
	// and by the hub's constructor, which opens the file (internal/hub);
	// cmd/hub and every package above the stores reach storage through
	// store.Store.
	boltDir := depcheck.Module + "/internal/store/bolt"
	hubDir := depcheck.Module + "/internal/hub"
	if above := depcheck.Outside(g.Importers("go.etcd.io/bbolt"), boltDir, hubDir); len(above) > 0 {
		t.Errorf("%v import bbolt: only the stores in internal/store/bolt and the hub's constructor (internal/hub) may; go through store.Store", above)
	}
	var named []string
	for _, p := range g.Linked(boltDir) {
		for _, imp := range depcheck.Outside(g.Importers(p), boltDir, hubDir) {
			// boltfile is the file format and lock, no store: the shared
			// command-line helpers print its structure check.
			if p == boltDir+"/boltfile" && imp == depcheck.Module+"/internal/cmdline" {
				continue
			}
			named = append(named, imp+" imports "+p)
		}
	}
	slices.Sort(named)
	for _, n := range slices.Compact(named) {
		t.Errorf("%s: only internal/store/bolt and the hub's constructor (internal/hub) may; go through store.Store", n)
	}
}
