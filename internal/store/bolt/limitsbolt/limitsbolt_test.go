package limitsbolt

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/limits/limitstest"
)

// openFile opens the store on the bbolt file at path.
func openFile(t *testing.T, path string) (*bbolt.DB, *Store) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(db)
	if err != nil {
		t.Fatal(err)
	}
	return db, s
}

func TestStore(t *testing.T) {
	paths := map[limits.Store]string{}
	dbs := map[limits.Store]*bbolt.DB{}
	openAt := func(t *testing.T, path string) limits.Store {
		db, s := openFile(t, path)
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

// The counts are written behind: a store dropped without Flush keeps what
// was written by the last FlushEvery, and a flush is due again once that
// much time has passed, without anyone calling Flush.
func TestCountsWrittenBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	open := func() (*bbolt.DB, *Store) {
		db, s := openFile(t, path)
		s.FlushEvery, s.Now = time.Minute, func() time.Time { return now }
		return db, s
	}
	ctx := context.Background()
	caps := []limits.Cap{{Key: "device:a", Max: 100}}
	take := func(s *Store) int {
		t.Helper()
		_, counts, err := s.TakeDaily(ctx, "2026-12-05", caps)
		if err != nil {
			t.Fatal(err)
		}
		return counts[0]
	}
	db, s := open()
	take(s)
	take(s)
	db.Close() // a crash within the minute: nothing was written yet
	db, s = open()
	if n := take(s); n != 1 {
		t.Fatalf("after a crash the count is %d, want 1 (this take alone)", n)
	}
	now = now.Add(time.Minute)
	if n := take(s); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	db.Close() // the minute had passed: that take wrote the counts
	db, s = open()
	if n := take(s); n != 3 {
		t.Fatalf("after FlushEvery the count is %d, want 3", n)
	}
	take(s)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, s = open()
	defer db.Close()
	if n := take(s); n != 5 {
		t.Fatalf("after Flush the count is %d, want 5", n)
	}
}
