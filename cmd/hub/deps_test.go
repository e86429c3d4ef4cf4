package main

import (
	"os"
	"slices"
	"testing"

	"github.com/sportello/sportello/internal/depcheck"
)

// stillImportingBoltStores are the packages above the stores that still
// name a bbolt store package (certbolt, opbolt, …) rather than
// store.Store. The list only shrinks: a package leaving it must be removed
// from it (the test fails otherwise), and a new one fails the test.
// cmd/hub opens the bbolt file and wires the hub; it leaves the list when
// one constructor of the hub (issue 16) does that instead.
var stillImportingBoltStores = []string{
	depcheck.Module + "/cmd/hub",
}

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
	if above := depcheck.Outside(g.Importers("go.etcd.io/bbolt"), depcheck.Module+"/internal/store/bolt"); len(above) > 0 {
		t.Errorf("%v import bbolt: only the stores in internal/store/bolt may; go through store.Store", above)
	}
	boltDir := depcheck.Module + "/internal/store/bolt"
	var named []string
	for _, p := range g.Linked(boltDir) {
		if p == boltDir+"/boltfile" { // the file format and lock, no store
			continue
		}
		named = append(named, depcheck.Outside(g.Importers(p), boltDir)...)
	}
	slices.Sort(named)
	named = slices.Compact(named)
	for _, p := range named {
		if !slices.Contains(stillImportingBoltStores, p) {
			t.Errorf("%s imports a bbolt store package: go through store.Store", p)
		}
	}
	for _, p := range stillImportingBoltStores {
		if !slices.Contains(named, p) {
			t.Errorf("%s no longer imports a bbolt store package: remove it from stillImportingBoltStores", p)
		}
	}
}
