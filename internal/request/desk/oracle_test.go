package desk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/synth"
)

// TestNoOracleOnStrangers: at a counter or a kiosk a filing that names
// someone outside the requester's household is refused in the same words
// whether the code is a living resident's or nobody's, as a certificate
// request is (issue 13's no-oracle rule): a citizen must not learn from a
// refused filing who lives in the city.
func TestNoOracleOnStrangers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.adult()
	stranger := ""
	for _, cf := range f.iss.Residents {
		if q := f.person(cf); q.Family != p.Family && q.Family != 0 && q.Alive() {
			stranger = cf
			break
		}
	}
	if stranger == "" {
		t.Fatal("no resident of another family")
	}
	// A well-formed code the registry does not hold.
	first := "QXQ" + stranger[3:15]
	nobody := first + string(codicefiscale.CheckChar(first))
	if err := codicefiscale.Validate(nobody); err != nil {
		t.Fatalf("test code %s: %v", nobody, err)
	}
	street := synth.DefaultCity().Streets[0].Name
	file := func(cf string) (string, string) {
		fl := f.counter(p.CF)
		fl.Kind = request.AddressChange
		fl.Form = request.Form{Address: &request.AddressForm{Persons: []string{cf}, NewAddress: request.NewAddress{Street: street, Number: "3"}, Statement: true}}
		_, _, err := f.desk.File(ctx, fl)
		if err == nil {
			t.Fatalf("a change of address for %s was filed by %s", cf, p.CF)
		}
		return reason(err), strings.ReplaceAll(err.Error(), cf, "CF")
	}
	rs, ms := file(stranger)
	rn, mn := file(nobody)
	if rs != rn || ms != mn {
		t.Errorf("a resident stranger is refused with %s %q, an unknown code with %s %q: the refusal tells who lives here", rs, ms, rn, mn)
	}
	if rs != request.ReasonNotHousehold {
		t.Errorf("reason %s, want %s", rs, request.ReasonNotHousehold)
	}
}

// TestResidenceNoOracleOnStrangers: a declaration of residence naming a
// resident of another household is refused without saying they live
// here (nor whether they died or have a procedure open).
func TestResidenceNoOracleOnStrangers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.adult()
	stranger := ""
	for _, cf := range f.iss.Residents {
		if q := f.person(cf); q.Family != p.Family && q.Family != 0 && q.Alive() {
			stranger = cf
			break
		}
	}
	q := f.person(stranger)
	fl := f.counter(p.CF)
	fl.Kind = request.ResidenceChange
	fl.Form = request.Form{Residence: &request.ResidenceForm{Origin: request.FromComune, OriginPlace: "H501",
		Persons:    []request.Mover{{CF: stranger, Surname: q.Surname, GivenNames: q.GivenNames, BirthDate: q.BirthDate.String(), Sex: string(q.Sex), BirthPlace: q.BirthPlace, Citizenship: "Z000"}, {CF: p.CF}},
		NewAddress: request.NewAddress{Street: synth.DefaultCity().Streets[0].Name, Number: "1"}, Statement: true}}
	_, _, err := f.desk.File(ctx, fl)
	if err == nil {
		t.Fatal("a declaration of residence naming a stranger was filed")
	}
	if reason(err) != request.ReasonContradictory {
		t.Fatalf("refused before the persons were looked up: %v", err)
	}
	if msg := err.Error(); strings.Contains(msg, "residente") || strings.Contains(msg, "deceduta") || strings.Contains(msg, "aperta") {
		t.Errorf("the refusal tells the requester about %s: %q", stranger, msg)
	}
}
