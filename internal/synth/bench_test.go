package synth

import (
	"context"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

const benchPersons = 1_400_000

var batchFlag = flag.Int("synth.batch", 0, "persons per Update in BenchmarkSeed1400000 (0: the default)")

var benchToday = registry.Date{Year: 2025, Month: 6, Day: 1}

// bulkOptions are the options hub seed uses: no fsync per commit and the
// map sized for a city-sized registry up front.
func bulkOptions() registrybolt.Options {
	return registrybolt.Options{NoSync: true, InitialMmapSize: 1 << 30}
}

// BenchmarkSeed1400000 seeds a Milan-sized registry into a bolt store:
// run with -benchtime=1x.
func BenchmarkSeed1400000(b *testing.B) {
	cfg := Config{Persons: benchPersons, Seed: 1, Today: benchToday, BatchPersons: *batchFlag}
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "registry.db")
		s, err := registrybolt.Open(path, bulkOptions())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		st, err := Seed(context.Background(), s, cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		secs := time.Since(start).Seconds()
		b.ReportMetric(secs, "s/seed")
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s/seed")
		b.ReportMetric(float64(st.Persons)/secs, "persons/s")
		b.ReportMetric(float64(st.Events), "events")
		if fi, err := os.Stat(path); err == nil {
			b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
		}
	}
}

// cpuTime is the process's user+system CPU time. The machine is shared, so
// wall time alone says as much about the neighbours as about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGenerate1400000 is generation alone, without a store.
func BenchmarkGenerate1400000(b *testing.B) {
	cfg := Config{Persons: benchPersons, Seed: 1, Today: benchToday}
	for b.Loop() {
		start := time.Now()
		if err := Generate(cfg, func(*Batch) error { return nil }); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(benchPersons)/time.Since(start).Seconds(), "persons/s")
	}
}

var lookupStore struct {
	once sync.Once
	dir  string
	s    *registrybolt.Store
	cfs  []string
	err  error
}

// seededStore seeds the 1.4M registry once per process.
func seededStore(b *testing.B) (*registrybolt.Store, []string) {
	ls := &lookupStore
	ls.once.Do(func() {
		if ls.dir, ls.err = os.MkdirTemp("", "synth-lookup-"); ls.err != nil {
			return
		}
		if ls.s, ls.err = registrybolt.Open(filepath.Join(ls.dir, "registry.db"), bulkOptions()); ls.err != nil {
			return
		}
		cfg := Config{Persons: benchPersons, Seed: 1, Today: benchToday}
		if _, ls.err = Seed(context.Background(), ls.s, cfg, nil); ls.err != nil {
			return
		}
		// Measure what a hub sees: hub seed, then hub serve opening the
		// file in a fresh process, not a store warm from the load.
		if ls.err = ls.s.Close(); ls.err != nil {
			return
		}
		if ls.s, ls.err = registrybolt.Open(filepath.Join(ls.dir, "registry.db"), registrybolt.Options{}); ls.err != nil {
			return
		}
		runtime.GC()
		ls.err = ls.s.View(context.Background(), func(r registry.Reader) error {
			n := 0
			return r.Persons(0, func(p *registry.Person) (bool, error) {
				if n%50 == 0 {
					ls.cfs = append(ls.cfs, p.CF)
				}
				n++
				return true, nil
			})
		})
	})
	if ls.err != nil {
		b.Fatal(ls.err)
	}
	return ls.s, ls.cfs
}

func TestMain(m *testing.M) {
	code := m.Run()
	if lookupStore.s != nil {
		lookupStore.s.Close()
	}
	if lookupStore.dir != "" {
		os.RemoveAll(lookupStore.dir)
	}
	os.Exit(code)
}

// BenchmarkLookupByCF1400000 looks up random codici fiscali in a 1.4M
// registry, each in its own read transaction as the hub serves them, and
// reports latency percentiles. Run it with a count, not a duration
// (-benchtime=200000x): one -benchtime=1x iteration measures nothing. The
// registry is seeded once per process, outside the timer.
func BenchmarkLookupByCF1400000(b *testing.B) {
	s, cfs := seededStore(b)
	r := rand.New(rand.NewPCG(7, 7))
	order := make([]string, 1<<16)
	for i := range order {
		order[i] = cfs[r.IntN(len(cfs))]
	}
	lat := make([]time.Duration, 0, max(b.N, 1))
	ctx := context.Background()
	defer debug.SetGCPercent(debug.SetGCPercent(registrybolt.ServeGCPercent)) // as hub serve runs
	cpu0 := cpuTime()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		cf := order[i&(len(order)-1)]
		i++
		t0 := time.Now()
		err := s.View(ctx, func(rd registry.Reader) error {
			_, err := rd.PersonByCF(cf)
			return err
		})
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(len(lat)), "cpu-ns/op")
	reportLatency(b, lat)
}

// reportLatency reports the median, 99th and 99.9th percentiles in µs.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[min(int(float64(len(lat))*q), len(lat)-1)].Nanoseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(0.999), "p999-µs")
}
