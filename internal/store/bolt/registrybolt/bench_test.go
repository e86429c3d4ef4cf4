package registrybolt

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/registry"
)

var (
	benchTotal = flag.Int("registry.total", 200_000, "persons loaded by BenchmarkPutPersons (Milan: 1400000)")
	benchBatch = flag.Int("registry.batch", 50_000, "persons per Update in the benchmarks")
)

const monthLetters = "ABCDEHLMPRST"

// synthPerson makes the i-th of a set of distinct, plausible persons. The
// surname and name letters come from a bijective scramble of i, so codes
// arrive in random order the way a real load's do.
func synthPerson(i int, fam registry.FamilyID, rel registry.Relationship) *registry.Person {
	const span = 26 * 26 * 26
	x := uint64(i) * 2654435761 % (span * span)
	letters := func(v uint64) string {
		return string([]byte{byte('A' + v%26), byte('A' + v/26%26), byte('A' + v/676%26)})
	}
	sur, name := letters(x%span), letters(x/span)
	r := rand.New(rand.NewPCG(uint64(i), 7))
	year := 1925 + r.IntN(99)
	month := 1 + r.IntN(12)
	day := 1 + r.IntN(28)
	sex := registry.Male
	cday := day
	if r.IntN(2) == 1 {
		sex, cday = registry.Female, day+40
	}
	first15 := fmt.Sprintf("%s%s%02d%c%02dF205", sur, name, year%100, monthLetters[month-1], cday)
	birth := registry.Date{Year: year, Month: time.Month(month), Day: day}
	issued := registry.Date{Year: 2020 + r.IntN(5), Month: time.Month(1 + r.IntN(12)), Day: 1 + r.IntN(28)}
	return &registry.Person{
		CF:           first15 + string(codicefiscale.CheckChar(first15)),
		Surname:      sur + "ELLI",
		GivenNames:   name + "O",
		Sex:          sex,
		BirthDate:    birth,
		BirthPlace:   "F205",
		BirthAct:     fmt.Sprintf("anno %d parte I serie A n. %d", year, 1+r.IntN(9000)),
		Citizenships: []string{registry.Italy},
		CivilStatus:  registry.Single,
		Family:       fam,
		Relationship: rel,
		Residences: []registry.Residence{{
			Address: registry.Address{Street: "Via Padova", Number: fmt.Sprint(1 + r.IntN(300)), CAP: "20127", Comune: "F205"},
			From:    birth,
		}},
		Documents: []registry.Document{{
			Kind: registry.CIE, Number: fmt.Sprintf("CA%05dAA", i%100000), NIS: fmt.Sprintf("%012d", 100000000000+i),
			Issued: issued, Expires: registry.Date{Year: issued.Year + 10, Month: issued.Month, Day: issued.Day}, Issuer: "F205",
		}},
	}
}

// load puts persons [from, to) in families of three, one Update per batch.
func load(tb testing.TB, s *Store, from, to int) {
	ctx := context.Background()
	for start := from; start < to; start += *benchBatch {
		end := min(start+*benchBatch, to)
		err := s.Update(ctx, func(w registry.Writer) error {
			var fam *registry.Family
			for i := start; i < end; i++ {
				rel := registry.Child
				if i%3 == 0 || fam == nil {
					fam = &registry.Family{Kind: registry.Famiglia}
					if err := w.PutFamily(fam); err != nil {
						return err
					}
					rel = registry.Head
				}
				if err := w.PutPerson(synthPerson(i, fam.ID, rel)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkPutPersons loads -registry.total persons in Updates of
// -registry.batch into a new file, as hub seed does.
func BenchmarkPutPersons(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "registry.db")
		s, err := Open(path, Options{NoSync: true, InitialMmapSize: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		load(b, s, 0, *benchTotal)
		b.ReportMetric(float64(*benchTotal)/time.Since(start).Seconds(), "persons/s")
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}

var lookupStore struct {
	s     *Store
	codes []string
}

func lookupFixture(b *testing.B) (*Store, []string) {
	if lookupStore.s == nil {
		path := filepath.Join(b.TempDir(), "registry.db")
		s, err := Open(path, Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		const n = 200_000
		load(b, s, 0, n)
		for i := 0; i < n; i += 97 {
			lookupStore.codes = append(lookupStore.codes, synthPerson(i, 0, 0).CF)
		}
		lookupStore.s = s
		// b.TempDir is removed with the first benchmark: keep the store
		// until the process ends instead of reopening it per benchmark.
	}
	return lookupStore.s, lookupStore.codes
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds())/1000, "p50-µs")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds())/1000, "p99-µs")
}

// BenchmarkPersonByCF is a counter look-up: one View and one PersonByCF
// on a registry of 200,000 persons.
func BenchmarkPersonByCF(b *testing.B) {
	s, codes := lookupFixture(b)
	benchLookups(b, s, codes, rand.New(rand.NewPCG(1, 2)))
}

// BenchmarkPersonByCFOmocode resolves omocode variants through the base form.
func BenchmarkPersonByCFOmocode(b *testing.B) {
	s, codes := lookupFixture(b)
	variants := make([]string, len(codes))
	for i, c := range codes {
		v, err := codicefiscale.Omocode(c, 1)
		if err != nil {
			b.Fatal(err)
		}
		variants[i] = v
	}
	benchLookups(b, s, variants, rand.New(rand.NewPCG(3, 4)))
}

// benchLookups times one View and PersonByCF per iteration, on codes
// picked by rng, and reports the latency percentiles.
func benchLookups(b *testing.B, s *Store, codes []string, rng *rand.Rand) {
	ctx := context.Background()
	durations := make([]time.Duration, 0, 1<<16)
	for b.Loop() {
		code := codes[rng.IntN(len(codes))]
		start := time.Now()
		err := s.View(ctx, func(r registry.Reader) error {
			_, err := r.PersonByCF(code)
			return err
		})
		durations = append(durations, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	reportPercentiles(b, durations)
}

func BenchmarkDecodePerson(b *testing.B) {
	data := appendPerson(nil, synthPerson(42, 7, registry.Head))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := decodePerson(data); err != nil {
			b.Fatal(err)
		}
	}
}
