package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// A database left at an older schema is backed up (BeforeMigrate) before
// the first migration is applied, once; a failed backup leaves the schema
// as it was; a new database and a current one need no backup.
func TestBackupBeforeUpgrade(t *testing.T) {
	ctx := context.Background()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	older, last := ms[len(ms)-2].version, ms[len(ms)-1].version
	type call struct{ from, to int }
	var calls []call
	record := func(_ context.Context, from, to int) error {
		calls = append(calls, call{from, to})
		return nil
	}

	fresh, err := OpenWith(ctx, pg.Database(t), Options{BeforeMigrate: record})
	if err != nil {
		t.Fatal(err)
	}
	fresh.Close()
	if len(calls) != 0 {
		t.Fatalf("a new database was backed up before its first migration: %v", calls)
	}

	conn := pg.Database(t)
	pool, err := pgxpool.New(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, pool, ms[:len(ms)-1], nil); err != nil {
		t.Fatal(err)
	}
	pool.Close()

	refused := errors.New("disk full")
	if db, err := OpenWith(ctx, conn, Options{BeforeMigrate: func(context.Context, int, int) error { return refused }}); !errors.Is(err, refused) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("OpenWith with a failing backup = %v, want it refused", err)
	}
	db, err := OpenWith(ctx, conn, Options{BeforeMigrate: record})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0] != (call{older, last}) {
		t.Errorf("backups before the upgrade: %v, want one from %d to %d", calls, older, last)
	}
	if v, err := db.Version(ctx); err != nil || v != last {
		t.Errorf("schema version after the upgrade = %d, %v; want %d", v, err, last)
	}
	db.Close()
	again, err := OpenWith(ctx, conn, Options{BeforeMigrate: record})
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	if len(calls) != 1 {
		t.Errorf("a current database was backed up again: %v", calls)
	}
}
