package desk_test

import (
	"context"
	"slices"
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
// resident of another household is filed as named — the office takes each
// adult's signature when it checks the move — and neither the answer nor
// the stranger's record tells or changes anything: no open procedure.
func TestResidenceNoOracleOnStrangers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, me := emigrant(t, f)
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
	fl.Form = request.Form{Residence: &request.ResidenceForm{Origin: request.FromAbroad, OriginPlace: "Z110",
		Persons:    []request.Mover{{CF: stranger, Surname: q.Surname, GivenNames: q.GivenNames, BirthDate: q.BirthDate.String(), Sex: string(q.Sex), BirthPlace: q.BirthPlace, Citizenship: "Z000"}, me},
		NewAddress: request.NewAddress{Street: synth.DefaultCity().Streets[0].Name, Number: "1"}, Statement: true}}
	if _, _, err := f.desk.File(ctx, fl); err != nil {
		t.Fatalf("a declaration naming an adult of another household: %v (refusing it only for residents here would tell who lives here)", err)
	}
	if q := f.person(stranger); !q.ProcedureOpen.IsZero() {
		t.Errorf("the procedure of %s was opened by another's filing", stranger)
	}
}

// TestResidenceCoversOnlyWhomItMay: at a counter a declaration of
// residence opens the procedure of the declarant, their household and
// minors only; an adult outside the household — one the registry knows
// living in another comune, or one it does not know — is filed as named
// with nothing of their record touched, and the two filings answer alike,
// so no one's procedure is opened by another's filing and the answer
// tells nothing of the registry.
func TestResidenceCoversOnlyWhomItMay(t *testing.T) {
	ctx := context.Background()
	born := time.Date(1980, 2, 3, 0, 0, 0, 0, time.UTC)
	kid := born.AddDate(36, 0, 0)
	away, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Lontani", Name: "Carla", Sex: 'F', Birth: born, Place: "H501"})
	unknown, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Nuovi", Name: "Marco", Sex: 'M', Birth: born, Place: "H501"})
	minor, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Nuovi", Name: "Ugo", Sex: 'M', Birth: kid, Place: "H501"})
	mover := func(cf, surname, name, sex string, b time.Time) request.Mover {
		return request.Mover{CF: cf, Surname: surname, GivenNames: name, Sex: sex, BirthDate: b.Format("2006-01-02"), BirthPlace: "H501", Citizenship: registry.Italy}
	}
	// file files, on a registry of its own that also knows away (living
	// in Rome), a declaration by an adult resident moving with m.
	file := func(m request.Mover) (*fixture, request.Request, error) {
		f := newFixture(t)
		err := store.RegistryOf(f.desk.Stores).Update(ctx, func(w registry.Writer) error {
			q := &registry.Person{CF: away, Surname: "LONTANI", GivenNames: "CARLA", Sex: registry.Female, BirthDate: registry.DateOf(born), BirthPlace: "H501",
				Citizenships: []string{registry.Italy}, CivilStatus: registry.Single,
				Residences: []registry.Residence{{Address: registry.Address{Street: "VIA APPIA", Number: "1", Comune: "H501"}, From: registry.DateOf(born)}}}
			return w.PutPerson(q)
		})
		if err != nil {
			t.Fatal(err)
		}
		p, me := emigrant(t, f)
		fl := f.counter(p.CF)
		fl.Kind = request.ResidenceChange
		fl.Form = request.Form{Residence: &request.ResidenceForm{Origin: request.FromAbroad, OriginPlace: "Z110",
			Persons: []request.Mover{m, me}, NewAddress: request.NewAddress{Street: synth.DefaultCity().Streets[0].Name, Number: "1"}, Statement: true}}
		rec, _, err := f.desk.File(ctx, fl)
		return f, rec, err
	}
	fAway, recAway, errAway := file(mover(away, "Lontani", "Carla", "F", born))
	_, recUnknown, errUnknown := file(mover(unknown, "Nuovi", "Marco", "M", born))
	if errAway != nil || errUnknown != nil {
		t.Fatalf("an adult outside the household: known elsewhere %v, unknown %v; want both filed alike", errAway, errUnknown)
	}
	if recAway.Status != recUnknown.Status || !slices.Contains(recAway.Persons, away) || !slices.Contains(recUnknown.Persons, unknown) {
		t.Errorf("the two filings differ or leave the adult out: %s %v, %s %v", recAway.Status, recAway.Persons, recUnknown.Status, recUnknown.Persons)
	}
	if q := fAway.person(away); !q.ProcedureOpen.IsZero() {
		t.Errorf("the procedure of %s was opened by another's filing", away)
	}
	if _, _, err := file(mover(minor, "Nuovi", "Ugo", "M", kid)); err != nil {
		t.Errorf("a minor moving with the declarant: %v", err)
	}
}

// emigrant is f's adult made an Italian abroad (AIRE), who may declare a
// residence here, as a mover in a declaration.
func emigrant(t *testing.T, f *fixture) (*registry.Person, request.Mover) {
	t.Helper()
	p := f.adult()
	err := store.RegistryOf(f.desk.Stores).Update(context.Background(), func(w registry.Writer) error {
		p.AIRE = true
		if n := len(p.Residences); n > 0 {
			p.Residences[n-1].To = p.Residences[n-1].From
		}
		p.Residences = append(p.Residences, registry.Residence{Address: registry.Address{Street: "RUE DE RIVOLI", Number: "1", Comune: "Z110"}, From: p.Residences[len(p.Residences)-1].From})
		return w.PutPerson(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	p = f.person(p.CF)
	return p, request.Mover{CF: p.CF, Surname: p.Surname, GivenNames: p.GivenNames, Sex: string(p.Sex), BirthDate: p.BirthDate.String(), BirthPlace: p.BirthPlace, Citizenship: registry.Italy}
}
