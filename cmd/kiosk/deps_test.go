package main

import (
	"testing"

	"github.com/sportello/sportello/internal/depcheck"
)

// The kiosk links no hub store and none of the hub's server side: it
// reaches the hub over signed HTTPS only. Its own outbox is a bbolt file,
// opened through internal/store/bolt/boltfile (the file format and lock,
// shared with the hub, no store).
func TestKioskDependencies(t *testing.T) {
	g, err := depcheck.Load("../..", "./cmd/kiosk", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := depcheck.Module + "/internal/"
	server := g.Linked(m+"store", m+"hubapi", m+"admin", m+"issuance", m+"seal", m+"settlement", m+"pgtest", "github.com/jackc/pgx/v5")
	if bad := depcheck.Outside(server, m+"store/bolt/boltfile"); len(bad) > 0 {
		t.Errorf("the kiosk links the hub's server side: %v", bad)
	}
}
