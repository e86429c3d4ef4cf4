package registrybolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/registry"
)

// putRange puts synthPerson(i) for i in [from, to) and then extra, in one
// Update; the error of each extra PutPerson goes to check, and the Update
// commits whatever check says.
func putRange(t *testing.T, s *Store, from, to int, extra []*registry.Person, check func(i int, err error)) {
	t.Helper()
	err := s.Update(context.Background(), func(w registry.Writer) error {
		for i := from; i < to; i++ {
			if err := w.PutPerson(synthPerson(i, 0, 0)); err != nil {
				return err
			}
		}
		for i, p := range extra {
			check(i, w.PutPerson(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBulkLoadRefusesDuplicates checks the conflict checks of updates large
// enough to build the index filters: in the update that builds them, in a
// later one, and after a reopen, when they are rebuilt from the file.
func TestBulkLoadRefusesDuplicates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()

	const n = 6000
	sameNIS := synthPerson(n+1, 0, 0)
	sameNIS.Documents[0].NIS = synthPerson(3, 0, 0).Documents[0].NIS
	lower := synthPerson(2, 0, 0)
	lower.CF = strings.ToLower(lower.CF)
	duplicates := []*registry.Person{
		synthPerson(1, 0, 0), // a CF put before the filters were built
		lower,
		sameNIS,
		synthPerson(n-1, 0, 0), // one put after
	}
	wantConflicts := func(stage string) func(int, error) {
		return func(i int, err error) {
			if !errors.Is(err, registry.ErrConflict) {
				t.Errorf("%s: PutPerson(duplicate %d) = %v, want ErrConflict", stage, i, err)
			}
		}
	}

	putRange(t, s, 0, n, duplicates, wantConflicts("same update"))
	if s.filters[0] == nil || s.filters[1] == nil {
		t.Fatalf("an update of %d persons built no index filters; this test checks nothing", n)
	}
	putRange(t, s, n, n+1, duplicates, wantConflicts("next update"))

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{NoSync: true}); err != nil {
		t.Fatal(err)
	}
	// More than the threshold again, so the filters are built from the
	// file before the duplicates come.
	putRange(t, s, n+2, n+2+4096, duplicates, wantConflicts("after reopen"))
	if s.filters[0] == nil {
		t.Fatal("the filters were not rebuilt after the reopen")
	}

	err = s.View(context.Background(), func(r registry.Reader) error {
		if c, _ := r.CountPersons(); c != n+2+4096-1 {
			t.Errorf("CountPersons = %d, want %d", c, n+2+4096-1)
		}
		for _, i := range []int{0, 1, n - 1, n, n + 2, n + 4097} {
			want := synthPerson(i, 0, 0)
			got, err := r.PersonByCF(want.CF)
			if err != nil || got.GivenNames != want.GivenNames {
				t.Errorf("PersonByCF(%s) = %v, %v", want.CF, got, err)
			}
			if got, err := r.PersonByNIS(want.Documents[0].NIS); err != nil || got.CF != want.CF {
				t.Errorf("PersonByNIS(%s) = %v, %v", want.Documents[0].NIS, got, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestKeyFilter(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		keys     int
		maxFP    float64
	}{
		{"empty", 1000, 0, 0},
		{"at capacity", 100_000, 100_000, 0.03},
		{"a tenth full", 100_000, 10_000, 0.001},
		{"overfull", 10_000, 40_000, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newKeyFilter(tt.capacity)
			for i := 0; i < tt.keys; i++ {
				f.add(fmt.Appendf(nil, "%012d", i))
			}
			for i := 0; i < tt.keys; i++ {
				if k := fmt.Appendf(nil, "%012d", i); !f.mayContain(k) {
					t.Fatalf("key %s added but not found", k)
				}
			}
			fp := 0
			const probes = 100_000
			for i := 0; i < probes; i++ {
				if f.mayContain(fmt.Appendf(nil, "x%011d", i)) {
					fp++
				}
			}
			if rate := float64(fp) / probes; rate > tt.maxFP {
				t.Errorf("false-positive rate %.4f, want at most %.4f", rate, tt.maxFP)
			}
			if got, want := f.full(), tt.keys > tt.capacity; got != want {
				t.Errorf("full() = %v with %d keys in a filter for %d", got, tt.keys, tt.capacity)
			}
		})
	}
}

// TestPendingPersonEvents reads and replaces person-event entries that are
// still waiting for the commit.
func TestPendingPersonEvents(t *testing.T) {
	s, _ := newStore(t)
	defer s.Close()
	a, b := synthPerson(1, 0, 0), synthPerson(2, 0, 0)
	day := func(d int) registry.Date { return registry.Date{Year: 2020, Month: 1, Day: d} }
	marriage := &registry.Event{Kind: registry.Marriage, Date: day(2)}
	move := &registry.Event{Kind: registry.ResidenceChange, Date: day(1)}
	kinds := func(r registry.Reader, p *registry.Person) string {
		es, err := r.EventsOf(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, e := range es {
			ks = append(ks, string(e.Kind))
		}
		return strings.Join(ks, ",")
	}
	check := func(stage string, r registry.Reader, wantA, wantB string) {
		if got := kinds(r, a); got != wantA {
			t.Errorf("%s: events of a = %q, want %q", stage, got, wantA)
		}
		if got := kinds(r, b); got != wantB {
			t.Errorf("%s: events of b = %q, want %q", stage, got, wantB)
		}
	}
	wantA, wantB := string(registry.ResidenceChange), string(registry.Marriage)
	err := s.Update(context.Background(), func(w registry.Writer) error {
		for _, p := range []*registry.Person{a, b} {
			if err := w.PutPerson(p); err != nil {
				return err
			}
		}
		// b's entry is put before a's: out of key order.
		marriage.Persons = []registry.PersonID{b.ID, a.ID}
		move.Persons = []registry.PersonID{a.ID}
		for _, e := range []*registry.Event{marriage, move} {
			if err := w.PutEvent(e); err != nil {
				return err
			}
		}
		check("before the correction", w, wantA+","+wantB, wantB)
		// The marriage was recorded against a by mistake.
		marriage.Persons = []registry.PersonID{b.ID}
		if err := w.PutEvent(marriage); err != nil {
			return err
		}
		check("in the update", w, wantA, wantB)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(r registry.Reader) error {
		check("after the commit", r, wantA, wantB)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
