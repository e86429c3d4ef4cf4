package registrybolt

import (
	"context"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/registry"
)

// TestCheckRecords: a record that no longer decodes, and an index entry
// left pointing at a record that is gone, are both reported; an intact
// registry has nothing to report.
func TestCheckRecords(t *testing.T) {
	s, _ := newStore(t)
	defer s.Close()
	ctx := context.Background()
	for _, p := range []*registry.Person{
		{CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
			BirthDate: registry.Date{Year: 1950, Month: 2, Day: 17}, BirthPlace: "A558", CivilStatus: registry.Single},
		{CF: "BNCLRA80A41F205X", Surname: "Bianchi", GivenNames: "Laura", Sex: registry.Female,
			BirthDate: registry.Date{Year: 1980, Month: 1, Day: 1}, BirthPlace: "F205", CivilStatus: registry.Single},
	} {
		if err := s.Update(ctx, func(w registry.Writer) error { return w.PutPerson(p) }); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.CheckRecords(ctx)
	if err != nil || len(c.Problems) != 0 || c.Persons != 2 {
		t.Fatalf("intact registry: %+v, %v", c, err)
	}
	// One record with a changed byte, the other removed behind its index.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPersons)
		cur := b.Cursor()
		k, v := cur.First()
		bad := append([]byte(nil), v...)
		bad[len(bad)/2] ^= 0x80
		if err := b.Put(append([]byte(nil), k...), append(bad, 0)); err != nil {
			return err
		}
		cur.Seek(k)
		k, _ = cur.Next()
		return b.Delete(append([]byte(nil), k...))
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err = s.CheckRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(c.Problems, "\n")
	if !strings.Contains(all, "person 1: person record is damaged") || !strings.Contains(all, "person 2 is missing") {
		t.Errorf("problems found:\n%s", all)
	}
}
