package limitsbolt

import (
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/limits/limitstest"
)

func TestStore(t *testing.T) {
	paths := map[limits.Store]string{}
	dbs := map[limits.Store]*bbolt.DB{}
	openAt := func(t *testing.T, path string) limits.Store {
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		paths[s], dbs[s] = path, db
		return s
	}
	open := func(t *testing.T) limits.Store {
		return openAt(t, filepath.Join(t.TempDir(), "hub.db"))
	}
	reopen := func(t *testing.T, s limits.Store) limits.Store {
		if err := dbs[s].Close(); err != nil {
			t.Fatal(err)
		}
		return openAt(t, paths[s])
	}
	limitstest.Run(t, open, reopen)
}
