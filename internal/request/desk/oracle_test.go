package desk_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"

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
	if reason(err) != request.ReasonNotCovered {
		t.Fatalf("a stranger named in a declaration: %v, want %s", err, request.ReasonNotCovered)
	}
	if msg := err.Error(); strings.Contains(msg, "risulta") || strings.Contains(msg, "deceduta") || strings.Contains(msg, "aperta") {
		t.Errorf("the refusal tells the requester about %s: %q", stranger, msg)
	}
}

// TestResidenceCoversOnlyWhomItMay: at a counter a declaration of
// residence covers the declarant, their household and minors; an adult
// outside the household — one the registry knows living in another
// comune, whose procedure the filing would open, or one it does not
// know — is refused with the same reason and sentence, so no one's
// procedure is opened by another's filing and the refusal tells nothing of
// the registry. A minor newcomer is not refused for that.
func TestResidenceCoversOnlyWhomItMay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.adult()
	born := time.Date(1980, 2, 3, 0, 0, 0, 0, time.UTC)
	away, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Lontani", Name: "Carla", Sex: 'F', Birth: born, Place: "H501"})
	err := store.RegistryOf(f.desk.Stores).Update(ctx, func(w registry.Writer) error {
		q := &registry.Person{CF: away, Surname: "LONTANI", GivenNames: "CARLA", Sex: registry.Female, BirthDate: registry.DateOf(born), BirthPlace: "H501",
			Citizenships: []string{registry.Italy}, CivilStatus: registry.Single,
			Residences: []registry.Residence{{Address: registry.Address{Street: "VIA APPIA", Number: "1", Comune: "H501"}, From: registry.DateOf(born)}}}
		return w.PutPerson(q)
	})
	if err != nil {
		t.Fatal(err)
	}
	unknown, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Nuovi", Name: "Marco", Sex: 'M', Birth: born, Place: "H501"})
	kid := born.AddDate(36, 0, 0)
	minor, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Nuovi", Name: "Ugo", Sex: 'M', Birth: kid, Place: "H501"})
	mover := func(cf, surname, name, sex string, b time.Time) request.Mover {
		return request.Mover{CF: cf, Surname: surname, GivenNames: name, Sex: sex, BirthDate: b.Format("2006-01-02"), BirthPlace: "H501", Citizenship: registry.Italy}
	}
	file := func(m request.Mover) error {
		fl := f.counter(p.CF)
		fl.Kind = request.ResidenceChange
		fl.Form = request.Form{Residence: &request.ResidenceForm{Origin: request.FromComune, OriginPlace: "H501",
			Persons: []request.Mover{m, {CF: p.CF}}, NewAddress: request.NewAddress{Street: synth.DefaultCity().Streets[0].Name, Number: "1"}, Statement: true}}
		_, _, err := f.desk.File(ctx, fl)
		return err
	}
	errAway := file(mover(away, "Lontani", "Carla", "F", born))
	errUnknown := file(mover(unknown, "Nuovi", "Marco", "M", born))
	if reason(errAway) != request.ReasonNotCovered || reason(errUnknown) != request.ReasonNotCovered {
		t.Fatalf("an adult outside the household: known elsewhere %v, unknown %v; want %s for both", errAway, errUnknown, request.ReasonNotCovered)
	}
	if a, u := strings.ReplaceAll(errAway.Error(), away, "X"), strings.ReplaceAll(errUnknown.Error(), unknown, "X"); a != u {
		t.Errorf("the refusals differ, telling who the registry knows:\n%s\n%s", a, u)
	}
	if q := f.person(away); !q.ProcedureOpen.IsZero() {
		t.Errorf("the procedure of %s was opened by another's filing", away)
	}
	if err := file(mover(minor, "Nuovi", "Ugo", "M", kid)); reason(err) == request.ReasonNotCovered {
		t.Errorf("a minor moving with the declarant: %v", err)
	}
}
