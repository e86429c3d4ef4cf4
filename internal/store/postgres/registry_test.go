package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/pgtest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/storetest"
)

var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	for _, sh := range []*pgtest.Shared{&pg, &durable} {
		if err := sh.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// factory opens each store on a database of its own, and Reopen on the
// same database again.
type factory struct {
	mu    sync.Mutex
	conns map[registry.Store]string
}

func open(t *testing.T, conn string) *Registry {
	t.Helper()
	s, err := OpenRegistry(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func (f *factory) Open(t *testing.T) registry.Store {
	t.Helper()
	conn := pg.Database(t)
	s := open(t, conn)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conns[s] = conn
	return s
}

func (f *factory) Reopen(t *testing.T, s registry.Store) registry.Store {
	t.Helper()
	f.mu.Lock()
	conn := f.conns[s]
	f.mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, conn)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conns[s2] = conn
	return s2
}

func TestRegistry(t *testing.T) {
	storetest.Run(t, &factory{conns: map[registry.Store]string{}})
}

// A database a newer release migrated further is refused, not written.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	conn := pg.Database(t)
	db, err := Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	// Numbers may leave gaps: the version is the last migration's.
	last := ms[len(ms)-1].version
	if v, err := db.Version(ctx); err != nil || v != last {
		t.Fatalf("schema version after Open = %d, %v; want %d, the last migration's", v, err, last)
	}
	if _, err := db.pool.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", last+1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(ctx, conn); !errors.Is(err, ErrVersion) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open(newer schema) = %v, want ErrVersion", err)
	}
}

// Each migration commits with its version or not at all: a failing one
// leaves the database at the version before it, and Open fails.
func TestMigrationAtomic(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	last := ms[len(ms)-1].version
	broken := append(ms, migration{version: last + 1, name: "broken",
		sql: "CREATE TABLE half_done (x int); SELECT no_such_function()"})
	if err := migrate(ctx, db.pool, broken, nil); err == nil {
		t.Fatal("a failing migration was reported applied")
	}
	if v, err := db.Version(ctx); err != nil || v != last {
		t.Errorf("schema version after a failed migration = %d, %v; want %d", v, err, last)
	}
	var n int
	if err := db.pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the failed migration's first statement stayed: %d tables, %v", n, err)
	}
	// Applying the known ones again changes nothing.
	if err := migrate(ctx, db.pool, ms, nil); err != nil {
		t.Errorf("migrate on a current database: %v", err)
	}
}

// Hubs starting at once on a new database apply each migration once.
func TestConcurrentOpen(t *testing.T) {
	conn := pg.Database(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(context.Background(), conn)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// After Close the store says so.
func TestClosed(t *testing.T) {
	s := open(t, pg.Database(t))
	s.Close()
	if err := s.View(context.Background(), func(registry.Reader) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
}

// Two hubs on one database write the registry at once: their updates run
// one after the other (the registry lock), so every person gets an ID of
// its own and a codice fiscale put by both is refused to exactly one.
func TestTwoHubsOneDatabase(t *testing.T) {
	conn := pg.Database(t)
	hubs := []*Registry{open(t, conn), open(t, conn)}
	const updates, perUpdate = 15, 3
	var wg sync.WaitGroup
	errs := make(chan error, 2*updates*2)
	for h, s := range hubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range updates {
				err := s.Update(context.Background(), func(w registry.Writer) error {
					for k := range perUpdate {
						if err := w.PutPerson(resident(1000*h + perUpdate*u + k)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("hub %d, update %d: %w", h, u, err)
				}
				// The same code from both hubs: one of them is refused.
				shared := resident(50000 + u)
				errs <- s.Update(context.Background(), func(w registry.Writer) error { return w.PutPerson(shared) })
			}
		}()
	}
	wg.Wait()
	close(errs)
	conflicts := 0
	for err := range errs {
		switch {
		case errors.Is(err, registry.ErrConflict):
			conflicts++
		case err != nil:
			t.Error(err)
		}
	}
	if conflicts != updates {
		t.Errorf("%d of the %d codes put by both hubs were refused, want each once", conflicts, updates)
	}
	err := hubs[0].View(context.Background(), func(r registry.Reader) error {
		want := 2*updates*perUpdate + updates
		if n, err := r.CountPersons(); err != nil || n != want {
			t.Errorf("CountPersons = %d, %v; want %d", n, err, want)
		}
		seen := map[registry.PersonID]bool{}
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if seen[p.ID] {
				t.Errorf("ID %d given twice", p.ID)
			}
			seen[p.ID] = true
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A View whose fn fails, or that stops reading part-way, leaves no
// transaction open on the server and the store goes on working.
func TestViewEnds(t *testing.T) {
	ctx := context.Background()
	s := open(t, pg.Database(t))
	if err := s.Update(ctx, func(w registry.Writer) error {
		for i := range 1500 { // more than a page of Persons
			if err := w.PutPerson(resident(i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	failure := errors.New("clerk cancelled")
	for i := range 8 {
		err := s.View(ctx, func(r registry.Reader) error {
			if _, err := r.PersonByCF(resident(i).CF); err != nil {
				return err
			}
			return failure
		})
		if !errors.Is(err, failure) {
			t.Fatalf("View = %v, want fn's error", err)
		}
		err = s.View(ctx, func(r registry.Reader) error {
			return r.Persons(0, func(*registry.Person) (bool, error) { return false, nil })
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var open int
	err := s.db.pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'").Scan(&open)
	if err != nil || open != 0 {
		t.Errorf("%d connections idle in a transaction, %v; want none", open, err)
	}
	err = s.View(ctx, func(r registry.Reader) error {
		n, err := r.CountPersons()
		if err == nil && n != 1500 {
			t.Errorf("CountPersons = %d, want 1500", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
