package desk_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/synth"
)

// TestEveryKindFiledAndAccepted files one request of each of the other
// five kinds and accepts it: each gets its number and hash, and the
// registry shows the change its kind makes (a family moved in from
// abroad, a convivenza registered, an e-mail corrected; none for a
// historical certificate or a DAT).
func TestEveryKindFiledAndAccepted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	staff := desk.Staff{User: "mrossi"}
	accept := func(t *testing.T, fl desk.Filing) request.Request {
		t.Helper()
		rec, _, err := f.desk.File(ctx, fl)
		if err != nil {
			t.Fatalf("file %s: %v", fl.Kind, err)
		}
		if rec.Protocol == "" || len(rec.SHA256) != 64 {
			t.Fatalf("filed as %+v", rec)
		}
		if rec, err = f.desk.Accept(ctx, rec.ID, rec.Version, staff, "istruttoria conclusa"); err != nil || rec.Status != request.Accepted {
			t.Fatalf("accept %s: %v", fl.Kind, err)
		}
		return rec
	}
	p := f.adult()
	pdf := []request.File{{Name: "documento.pdf", Data: []byte("%PDF-1.7 documento")}}

	t.Run("residence from abroad", func(t *testing.T) {
		born := time.Date(1988, 4, 9, 0, 0, 0, 0, time.UTC)
		cfA, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Kowalska", Name: "Anna", Sex: 'F', Birth: born, Place: "Z127"})
		cfB, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Kowalski", Name: "Jan", Sex: 'M', Birth: born.AddDate(2, 1, 3), Place: "Z127"})
		street := synth.DefaultCity().Streets[11].Name
		fl := desk.Filing{Kind: request.ResidenceChange, Channel: certificate.Office, RequesterCF: cfA, Actor: audit.Actor{Kind: audit.Staff, ID: "sportello"},
			Form: request.Form{Residence: &request.ResidenceForm{Origin: request.FromAbroad, OriginPlace: "Z127", Statement: true,
				NewAddress: request.NewAddress{Street: street, Number: "9"},
				Persons: []request.Mover{
					{CF: cfA, Surname: "Kowalska", GivenNames: "Anna", Sex: "F", BirthDate: born.Format("2006-01-02"), BirthPlace: "Z127", Citizenship: "Z127", Relationship: 1},
					{CF: cfB, Surname: "Kowalski", GivenNames: "Jan", Sex: "M", BirthDate: born.AddDate(2, 1, 3).Format("2006-01-02"), BirthPlace: "Z127", Citizenship: "Z127", Relationship: 2},
				}}}}
		rec := accept(t, fl)
		if rec.SilenceAssent.IsZero() {
			t.Error("a residence change has no silence-assent day")
		}
		a, b := f.person(cfA), f.person(cfB)
		cur, ok := a.CurrentResidence()
		if !ok || cur.Address.Street != street || a.Family == 0 || a.Family != b.Family || a.Relationship != registry.Head || b.Relationship != registry.Spouse {
			t.Errorf("after acceptance: %+v family %d/%d relationships %d/%d", cur, a.Family, b.Family, a.Relationship, b.Relationship)
		}
	})
	t.Run("historical certificate", func(t *testing.T) {
		fl := f.counter(p.CF)
		fl.Kind, fl.Form = request.Historical, request.Form{Historical: &request.HistoricalForm{SubjectCF: p.CF, What: "residenza", Purpose: "pratica di successione"}}
		accept(t, fl)
	})
	t.Run("DAT", func(t *testing.T) {
		fl := f.counter(p.CF)
		fl.Kind, fl.Files = request.DAT, pdf
		fl.Form = request.Form{DAT: &request.DATForm{DocumentDate: "2026-11-20", Statement: true}}
		rec := accept(t, fl)
		if len(rec.Attachments) != 1 || rec.Attachments[0].MediaType != request.PDF {
			t.Errorf("the DAT's document: %+v", rec.Attachments)
		}
	})
	t.Run("correction", func(t *testing.T) {
		fl := f.counter(p.CF)
		fl.Kind, fl.Files = request.Correction, pdf
		fl.Form = request.Form{Correction: &request.CorrectionForm{SubjectCF: p.CF, Field: request.FieldEmail, Correct: "nuovo@example.org", Reason: "indirizzo cambiato"}}
		accept(t, fl)
		if got := f.person(p.CF).Email; got != "nuovo@example.org" {
			t.Errorf("e-mail after the correction: %q", got)
		}
	})
	t.Run("convivenza di fatto", func(t *testing.T) {
		// A head of a famiglia who is free, and a partner who joins the
		// scheda with no family tie.
		var head *registry.Person
		for _, cf := range f.iss.Identifiable(t, 40) {
			q := f.person(cf)
			if q.Relationship == registry.Head && q.CivilStatus.Free() && q.BirthDate.AgeAt(registry.DateOf(now)) >= 25 && q.ProcedureOpen.IsZero() {
				head = q
				break
			}
		}
		if head == nil {
			t.Skip("no free head of a famiglia among the identifiable residents of this seed")
		}
		born := time.Date(1985, 7, 1, 0, 0, 0, 0, time.UTC)
		cfP, _ := codicefiscale.Encode(codicefiscale.Subject{Surname: "Verdi", Name: "Luca", Sex: 'M', Birth: born, Place: "F205"})
		err := store.RegistryOf(f.desk.Stores).Update(ctx, func(w registry.Writer) error {
			partner := &registry.Person{CF: cfP, Surname: "VERDI", GivenNames: "LUCA", Sex: registry.Male, BirthDate: registry.DateOf(born), BirthPlace: "F205",
				Citizenships: []string{registry.Italy}, CivilStatus: registry.Single}
			cur, _ := head.CurrentResidence()
			partner.Residences = []registry.Residence{{Address: cur.Address, From: registry.DateOf(now.AddDate(-1, 0, 0))}}
			partner.Join(head.Family, registry.RelationshipUnknown, registry.DateOf(now.AddDate(-1, 0, 0)))
			return w.PutPerson(partner)
		})
		if err != nil {
			t.Fatal(err)
		}
		fl := f.counter(head.CF)
		fl.Kind = request.Cohabitation
		fl.Form = request.Form{Cohabit: &request.CohabitForm{Action: request.CohabitStart, Partners: [2]string{head.CF, cfP}, Statement: true}}
		accept(t, fl)
		if got := f.person(cfP).Relationship; got != registry.Cohabitant {
			t.Errorf("the partner's relationship after registration: %d, want %d", got, registry.Cohabitant)
		}
		// Registering it again is a contradiction.
		if _, _, err := f.desk.File(ctx, fl); reason(err) != request.ReasonContradictory {
			t.Errorf("registering it twice: %v", err)
		}
	})
}
