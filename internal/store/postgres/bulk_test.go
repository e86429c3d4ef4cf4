package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/registry"
)

// resident makes the i-th of a set of distinct residents, each with a CIE.
func resident(i int) *registry.Person {
	letters := func(v int) string {
		return string([]byte{byte('A' + v%26), byte('A' + v/26%26), byte('A' + v/676%26)})
	}
	sur, name := letters(i%17576), letters(i/17576)
	day := 1 + i%28
	first15 := fmt.Sprintf("%s%s80A%02dF205", sur, name, day)
	birth := registry.Date{Year: 1980, Month: 1, Day: day}
	return &registry.Person{
		CF: first15 + string(codicefiscale.CheckChar(first15)), Surname: sur + "ELLI", GivenNames: name + "O",
		Sex: registry.Male, BirthDate: birth, BirthPlace: "F205", Citizenships: []string{registry.Italy},
		CivilStatus: registry.Single,
		Documents: []registry.Document{{Kind: registry.CIE, Number: fmt.Sprintf("CA%05dAA", i), NIS: fmt.Sprintf("%012d", 100000000000+i),
			Issued: registry.Date{Year: 2020, Month: 1, Day: 1}, Expires: registry.Date{Year: 2030, Month: 1, Day: 1}}},
	}
}

// TestBulkLoadRefusesDuplicates checks the conflict checks of an update
// large enough to read the bulk index: for codes put before it was read,
// after, in the same update and in the next, and once a replacement has
// made the update drop the index.
func TestBulkLoadRefusesDuplicates(t *testing.T) {
	s := open(t, pg.Database(t))
	const n = bulkAfter + 500
	sameNIS := resident(n + 1)
	sameNIS.Documents[0].NIS = resident(3).Documents[0].NIS
	// Same code, no CIE: only the code check can refuse them.
	sameCF := func(i int) *registry.Person { p := resident(i); p.Documents = nil; return p }
	lower := sameCF(2)
	lower.CF = strings.ToLower(lower.CF)
	duplicates := func() []*registry.Person {
		return []*registry.Person{sameCF(1), lower, sameNIS, sameCF(n - 1)}
	}
	run := func(stage string, from, to int, replace bool) {
		t.Helper()
		err := s.Update(context.Background(), func(rw registry.Writer) error {
			for i := from; i < to; i++ {
				if err := rw.PutPerson(resident(i)); err != nil {
					return err
				}
			}
			w := rw.(*writer)
			if to-from >= bulkAfter && w.bulk == nil {
				t.Fatalf("%s: an update of %d persons read no bulk index; this test checks nothing", stage, to-from)
			}
			if replace {
				p, err := w.PersonByCF(resident(from).CF)
				if err != nil {
					return err
				}
				p.GivenNames = "RENAMED"
				if err := w.PutPerson(p); err != nil {
					return err
				}
				if w.bulk != nil {
					t.Errorf("%s: a replacement kept the bulk index", stage)
				}
			}
			for i, p := range duplicates() {
				if err := w.PutPerson(p); !errors.Is(err, registry.ErrConflict) {
					t.Errorf("%s: PutPerson(duplicate %d, %s) = %v, want ErrConflict", stage, i, p.CF, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
	}
	run("same update", 0, n, false)
	run("next update", n+2, n+3, false)
	run("after a replacement", n+3, n+3+bulkAfter, true)
	err := s.View(context.Background(), func(r registry.Reader) error {
		want := n + 1 + bulkAfter
		if got, err := r.CountPersons(); err != nil || got != want {
			t.Errorf("CountPersons = %d, %v; want %d", got, err, want)
		}
		p, err := r.PersonByNIS(resident(n + 3 + bulkAfter - 1).Documents[0].NIS)
		if err != nil || p.CF != resident(n+3+bulkAfter-1).CF {
			t.Errorf("the last person put in bulk: %v, %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
