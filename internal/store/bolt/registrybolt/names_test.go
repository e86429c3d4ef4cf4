package registrybolt

import (
	"context"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/registry"
)

// A file written before the name index existed is searched by a scan when
// opened read-only, and gets the index at its next writable open.
func TestNameIndexForOlderFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	p := &registry.Person{CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
		BirthDate: registry.Date{Year: 1950, Month: 2, Day: 17}, BirthPlace: "A558", Citizenships: []string{registry.Italy}, CivilStatus: registry.Single}
	if err := s.Update(context.Background(), func(w registry.Writer) error { return w.PutPerson(p) }); err != nil {
		t.Fatal(err)
	}
	// As an older release left it: no names bucket.
	if err := s.DB().Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketNames) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	find := func(s *Store) []*registry.Person {
		t.Helper()
		var ps []*registry.Person
		if err := s.View(context.Background(), func(r registry.Reader) (err error) { ps, err = r.PersonsByName("rossi mar", 0); return err }); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if ps := find(ro); len(ps) != 1 || ps[0].CF != p.CF {
		t.Errorf("read-only, without the index: %v", ps)
	}
	ro.Close()
	rw, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	n := 0
	rw.DB().View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketNames); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if n != 1 {
		t.Fatalf("the name index rebuilt at open holds %d keys, want 1", n)
	}
	if ps := find(rw); len(ps) != 1 || ps[0].CF != p.CF {
		t.Errorf("with the rebuilt index: %v", ps)
	}
}
