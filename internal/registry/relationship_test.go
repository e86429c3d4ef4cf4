package registry_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/places/anprtest"
	"github.com/sportello/sportello/internal/registry"
)

// TestRelationshipWords: every code of ANPR table 5 (relazione_parentela.csv)
// is known and has its own words for each sex, so no two relationships print
// alike on a stato di famiglia (issue 14 item 7: "no four kinds of nipote
// printed alike"); and the words keep ANPR's qualifier where ANPR's
// description has one ("Nipote (Affine)" → "nipote (affine)").
func TestRelationshipWords(t *testing.T) {
	rows := anprtest.Rows(t, "relazione_parentela.csv")
	if len(rows) < 25 {
		t.Fatalf("table 5 has %d rows, expected the full table", len(rows))
	}
	for _, sex := range []registry.Sex{registry.Male, registry.Female} {
		seen := map[string]string{}
		for _, row := range rows {
			id, err := strconv.Atoi(row[0])
			if err != nil {
				t.Fatal(err)
			}
			r := registry.Relationship(id)
			if !r.Valid() {
				t.Errorf("ANPR code %d (%s) is not a Relationship", id, row[1])
				continue
			}
			w := r.Italian(sex)
			if prev, ok := seen[w]; ok {
				t.Errorf("codes %s and %s (%s) both read %q", prev, row[0], row[1], w)
			}
			seen[w] = row[0] + " " + row[1]
			desc := strings.ToLower(row[1])
			if i := strings.Index(desc, "("); i >= 0 {
				if q := desc[i:]; !strings.HasSuffix(w, q) {
					t.Errorf("code %d %q reads %q, without ANPR's qualifier %q", id, row[1], w, q)
				}
			}
		}
	}
}
