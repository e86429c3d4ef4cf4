package kiosk

import (
	"errors"
	"testing"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/certificate"
)

// TestHistoricalDateChoice: a historical type needs a date, which the
// kiosk checks as the hub will before anything is sent (missing, not a
// date, in the future, given with a current type), and a good one travels
// to the hub with the request.
func TestHistoricalDateChoice(t *testing.T) {
	storica := []certificate.Type{certificate.ResidenzaStorica}
	for _, tt := range []struct {
		name  string
		types []certificate.Type
		at    string
		want  string
	}{
		{"no date", storica, "", "date_required"},
		{"not a date", storica, "2015-02-30", "date_invalid"},
		{"in the future", storica, "2099-01-01", "date_in_future"},
		{"with a current type", []certificate.Type{certificate.Residenza}, "2015-03-31", "date_not_allowed"},
		{"family on a past date", []certificate.Type{certificate.StatoDiFamigliaStorico}, " 2015-03-31 ", ""},
		// As Italians write a date (issue 15): day first, any of the usual
		// separators; a two-digit year is ambiguous and refused.
		{"day first", storica, "31/03/2015", ""},
		{"day first with dots", storica, "31.3.2015", ""},
		{"day first with dashes", storica, "31-03-2015", ""},
		{"two-digit year", storica, "31/03/15", "date_invalid"},
		{"no such day, day first", storica, "30/02/2015", "date_invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, Operator)
			identified(r)
			err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: tt.types, At: tt.at})
			if tt.want != "" {
				var p *Problem
				if !errors.As(err, &p) || p.Key != tt.want {
					t.Fatalf("Choose: %v, want problem %s", err, tt.want)
				}
				r.step(t, StepChoose)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := r.flow.Confirm(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(r.hub.issued); n != 1 || r.hub.issued[0].At != "2015-03-31" || requestOf(r.hub.issued[0]).At != "2015-03-31" {
				t.Errorf("sent %+v", r.hub.issued)
			}
		})
	}
}

// TestHistoricalTextsTranslated: every date refusal, the kiosk's or the
// hub's, and the new types have a sentence in both languages.
func TestHistoricalTextsTranslated(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"choose_at", "review_at", "date_invalid"}
	for _, reason := range []string{certificate.ReasonDateRequired, certificate.ReasonDateNotAllowed, certificate.ReasonDateInFuture} {
		keys = append(keys, reason, "hub_"+reason)
	}
	for _, reason := range []string{certificate.ReasonDateBeforeRecords, certificate.ReasonDateAfterDeath,
		certificate.ReasonNoFamilyOnDate, certificate.ReasonNotDeceased, "date_invalid"} {
		keys = append(keys, "hub_"+reason)
	}
	for _, ty := range []certificate.Type{certificate.Morte, certificate.ResidenzaStorica, certificate.StatoDiFamigliaStorico} {
		keys = append(keys, "type_"+string(ty))
	}
	for _, lang := range Langs {
		for _, k := range keys {
			if !c.Has(lang, k) {
				t.Errorf("%s has no %s sentence", lang, k)
			}
		}
	}
}
