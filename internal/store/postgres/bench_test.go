package postgres

import (
	"context"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/operators/operatorstest"
	"github.com/sportello/sportello/internal/pgtest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/synth"
)

// The benchmarks compare store/bolt/registrybolt and this store side by side on the
// same synthetic city (internal/synth, as hub seed makes it), both durable
// at each commit: bbolt as hub seed opens it (fsync at commit), PostgreSQL
// on a server of its own with fsync, synchronous_commit and
// full_page_writes on (DESIGN.md: keep fsync on for benchmarks that claim
// durability), on a unix socket.
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/store/postgres   # import
//	go test -run '^$' -bench PersonByCF ./internal/store/postgres
var benchPersons = flag.Int("registry.persons", 100_000, "residents imported by the benchmarks")

var durable = pgtest.Shared{Settings: []string{"fsync=on", "synchronous_commit=on", "full_page_writes=on"}}

var benchToday = registry.Date{Year: 2026, Month: time.March, Day: 2}

func seed(b *testing.B, st registry.Store) synth.Stats {
	b.Helper()
	cfg := synth.Config{Persons: *benchPersons, Seed: 1, Today: benchToday, City: synth.DefaultCity()}
	stats, err := synth.Seed(context.Background(), st, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	return stats
}

func openBolt(b *testing.B) registry.Store {
	b.Helper()
	s, err := registrybolt.Open(filepath.Join(b.TempDir(), "registry.db"), registrybolt.Options{InitialMmapSize: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(b *testing.B) registry.Store {
	b.Helper()
	s, err := OpenRegistry(context.Background(), durable.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

var backends = []struct {
	name string
	open func(*testing.B) registry.Store
}{
	{"bolt", openBolt},
	{"postgres", openPostgres},
}

// BenchmarkImport seeds -registry.persons residents (in families, with
// their events) into a new, empty store, in synth's batches of up to
// 100,000 persons, one Update each.
func BenchmarkImport(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				st := be.open(b)
				b.StartTimer()
				start := time.Now()
				stats := seed(b, st)
				b.ReportMetric(float64(stats.Persons)/time.Since(start).Seconds(), "persons/s")
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPersonByCF is a counter look-up on a registry of
// -registry.persons residents: one View and one PersonByCF, on codes
// picked at random among the residents'.
func BenchmarkPersonByCF(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			seed(b, st)
			var codes []string
			err := st.View(context.Background(), func(r registry.Reader) error {
				return r.Persons(0, func(p *registry.Person) (bool, error) {
					codes = append(codes, p.CF)
					return true, nil
				})
			})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			ctx := context.Background()
			durations := make([]time.Duration, 0, 1<<16)
			b.ResetTimer()
			for b.Loop() {
				code := codes[rng.IntN(len(codes))]
				start := time.Now()
				err := st.View(ctx, func(r registry.Reader) error {
					_, err := r.PersonByCF(code)
					return err
				})
				durations = append(durations, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
			}
			slices.Sort(durations)
			b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds())/1000, "p50-µs")
			b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds())/1000, "p99-µs")
		})
	}
}

// BenchmarkSignedRequest is the store work of one signed kiosk request
// besides its business (operatorstest.BenchRequests: key and standing,
// nonce, daily counts), on the hub's bbolt file and on PostgreSQL side by
// side.
//
//	go test -run '^$' -bench SignedRequest ./internal/store/postgres
func BenchmarkSignedRequest(b *testing.B) {
	b.Run("bolt", func(b *testing.B) {
		s, err := bolt.Open(filepath.Join(b.TempDir(), "hub.db"), registrybolt.Options{InitialMmapSize: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		operatorstest.BenchRequests(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenStore(context.Background(), durable.Database(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		operatorstest.BenchRequests(b, s)
	})
}
