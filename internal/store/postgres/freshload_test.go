package postgres

import (
	"context"
	"errors"
	"flag"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/storetest"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/synth"
)

// schemaOf lists the registry tables' constraints and indexes as the
// catalogue defines them, in a fixed order.
func schemaOf(t *testing.T, conn string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	tables := make([]string, len(copyTables))
	for i, c := range copyTables {
		tables[i] = c.name
	}
	var out []string
	for _, sql := range []string{
		`SELECT cl.relname || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) || ' ' || c.convalidated
				FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid
				WHERE cl.relname = ANY($1)`,
		`SELECT tablename || ' ' || indexname || ' ' || indexdef FROM pg_indexes WHERE tablename = ANY($1)`,
	} {
		rows, err := db.Query(ctx, sql, tables)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lines...)
	}
	slices.Sort(out)
	return out
}

var freshToday = registry.Date{Year: 2026, Month: time.March, Day: 2}

// TestFreshLoad seeds an empty registry in one transaction, as hub seed
// --db does: the indexes and foreign keys the load drops are back as the
// migrations made them, and the registry holds what the same city seeded
// into bbolt batch by batch holds.
func TestFreshLoad(t *testing.T) {
	conn := pg.Database(t)
	s := open(t, conn)
	before := schemaOf(t, conn)
	if len(before) < 10 {
		t.Fatalf("the catalogue shows %d constraints and indexes: %v", len(before), before)
	}
	cfg := synth.Config{Persons: 3000, Seed: 7, Today: freshToday, City: synth.DefaultCity(), BatchPersons: 1000}
	var rebuilt int
	probe := &probeStore{Registry: s, seen: func(w *writer) { rebuilt = max(rebuilt, len(w.rebuild)) }}
	if _, err := synth.SeedOne(context.Background(), probe, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if rebuilt == 0 {
		t.Fatal("the load of an empty registry dropped no index: this test checks nothing")
	}
	if after := schemaOf(t, conn); !slices.Equal(before, after) {
		t.Errorf("the schema changed across the load:\nbefore %q\nafter  %q", before, after)
	}
	want, err := registrybolt.Open(filepath.Join(t.TempDir(), "registry.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	if _, err := synth.Seed(context.Background(), want, cfg, nil); err != nil {
		t.Fatal(err)
	}
	storetest.Same(t, want, s)

	// A registry that holds persons keeps its indexes through a bulk load.
	rebuilt = 0
	err = probe.Update(context.Background(), func(w registry.Writer) error {
		for i := range bulkAfter + 10 {
			if err := w.PutPerson(resident(i)); err != nil {
				return err
			}
		}
		if w.(*writer).bulk == nil {
			t.Error("an update of many persons read no bulk index")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt != 0 {
		t.Errorf("a bulk load into a registry of %d persons dropped %d indexes and keys", cfg.Persons, rebuilt)
	}
}

// TestFreshLoadChecksReferences: a row the store did not check (written
// behind its back during the load) is still refused by the foreign keys
// put back at the end, and the failed load leaves the schema and the
// registry as they were.
func TestFreshLoadChecksReferences(t *testing.T) {
	conn := pg.Database(t)
	s := open(t, conn)
	before := schemaOf(t, conn)
	err := s.Update(context.Background(), func(rw registry.Writer) error {
		w := rw.(*writer)
		for i := range bulkAfter + 10 {
			if err := w.PutPerson(resident(i)); err != nil {
				return err
			}
		}
		if len(w.rebuild) == 0 {
			t.Fatal("the load of an empty registry dropped no index: this test checks nothing")
		}
		_, err := w.tx.Exec(w.ctx, "INSERT INTO person_nis (nis, person_id) VALUES ('999999999999', 987654321)")
		return err
	})
	if err == nil {
		t.Fatal("a load with a dangling reference committed")
	}
	if after := schemaOf(t, conn); !slices.Equal(before, after) {
		t.Errorf("the schema changed across the failed load:\nbefore %q\nafter  %q", before, after)
	}
	err = s.View(context.Background(), func(r registry.Reader) error {
		if n, err := r.CountPersons(); err != nil || n != 0 {
			t.Errorf("after the failed load: %d persons, %v", n, err)
		}
		if _, err := r.PersonByCF(resident(1).CF); !errors.Is(err, registry.ErrNotFound) {
			t.Errorf("a person of the failed load: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// probeStore is a Registry whose updates report their writer to seen
// just before they commit.
type probeStore struct {
	*Registry
	seen func(*writer)
}

func (p *probeStore) Update(ctx context.Context, fn func(registry.Writer) error) error {
	return p.Registry.Update(ctx, func(w registry.Writer) error {
		err := fn(w)
		p.seen(w.(*writer))
		return err
	})
}

var seedPersons = flag.Int("seed.persons", 1_400_000, "residents BenchmarkSeed1400000 seeds into PostgreSQL")

// BenchmarkSeed1400000 is hub seed --db: a synthetic city of
// -seed.persons residents into an empty registry on PostgreSQL (durable,
// unix socket), in one transaction (synth.SeedOne). Issue 16's target:
// 1.4 M in under 120 s.
//
//	go test -run '^$' -bench Seed1400000 -benchtime 1x ./internal/store/postgres
func BenchmarkSeed1400000(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		st := openPostgres(b)
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		cfg := synth.Config{Persons: *seedPersons, Seed: 1, Today: benchToday, City: synth.DefaultCity()}
		stats, err := synth.SeedOne(context.Background(), st, cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		secs := time.Since(start).Seconds()
		b.ReportMetric(secs, "s/seed")
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s/seed")
		b.ReportMetric(float64(stats.Persons)/secs, "persons/s")
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
}

// cpuTime is this process's user+system CPU time (the server's is not
// counted): the machine is shared, so wall time alone says as much about
// the neighbours as about the load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
