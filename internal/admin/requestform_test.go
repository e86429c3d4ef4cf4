package admin

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
)

// TestRequestFormInEnglish: a request's form reads in the console's
// language, with places, dates and coded values by name, not Italian
// labels and raw codes on an English page.
func TestRequestFormInEnglish(t *testing.T) {
	forms := []request.Form{
		{Address: &request.AddressForm{Persons: []string{"RSSMRA50B17A558W"}, NewAddress: request.NewAddress{Street: "Via Roma", Number: "1"}, Statement: true}},
		{Residence: &request.ResidenceForm{Origin: request.FromAbroad, OriginPlace: "Z110", Statement: true, NewAddress: request.NewAddress{Street: "Via Roma", Number: "1"},
			Persons: []request.Mover{{CF: "DBSJNE56H14Z110W", Surname: "Dubois", GivenNames: "Jean", Sex: "M", BirthDate: "1956-06-14", BirthPlace: "Z110", Citizenship: "Z110", Relationship: 2}}}},
		{Cohabit: &request.CohabitForm{Action: request.CohabitEnd, Partners: [2]string{"RSSMRA50B17A558W", "DBSJNE56H14Z110W"}, Statement: true}},
		{Historical: &request.HistoricalForm{SubjectCF: "RSSMRA50B17A558W", What: "stato_di_famiglia", Date: "2001-03-01", Purpose: "successione"}},
		{DAT: &request.DATForm{DocumentDate: "2026-11-20", Statement: true}},
		{Correction: &request.CorrectionForm{SubjectCF: "RSSMRA50B17A558W", Field: request.FieldGivenNames, Correct: "Mario Luigi", Reason: "manca il secondo nome"}},
	}
	var all []string
	for _, f := range forms {
		today := registry.Date{Year: 2026, Month: 12, Day: 5}
		it, en := formFields("it", f, today), formFields("en", f, today)
		if len(en) == 0 || len(it) != len(en) {
			t.Fatalf("%+v: %d Italian fields, %d English", f, len(it), len(en))
		}
		for i := range en {
			if en[i].Label == it[i].Label && en[i].Label != "" || strings.HasPrefix(en[i].Label, "req.") {
				t.Errorf("field %q has no English label (%q)", it[i].Label, en[i].Label)
			}
			all = append(all, en[i].Label+": "+en[i].Value)
		}
	}
	page := strings.Join(all, "\n")
	for _, want := range []string{"Coming from: abroad: FRANCIA (Z110)", "born 14/06/1956 in FRANCIA", "citizenship FRANCIA", "Action: end",
		"Certificate: family as it was on a date", "Date: 01/03/2001", "Datum to correct: given names", "Statement of truth (art. 76 DPR 445/2000): yes"} {
		if !strings.Contains(page, want) {
			t.Errorf("the English form lacks %q:\n%s", want, page)
		}
	}
}
