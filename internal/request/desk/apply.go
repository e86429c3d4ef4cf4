package desk

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// Events the registry records for the requests' changes that have no
// kind of their own there.
const (
	eventCohabitation    registry.EventKind = "convivenza_di_fatto"
	eventCohabitationEnd registry.EventKind = "cessazione_convivenza_di_fatto"
	eventCorrection      registry.EventKind = "rettifica_anagrafica"
)

// apply makes the registry change of an accepted request in tx.
//
// A move (of address, or into the comune) takes effect from the day of
// the declaration (DPR 223/1989 art. 18-bis; DL 5/2012 art. 5 c. 3): the
// current residence is closed the day before and the new one opened, so
// the residence history shows both and a historical certificate of an
// earlier date still finds the old address.
func (d *Desk) apply(tx store.Tx, rec *request.Request, comune string, now time.Time) error {
	w := tx.Registry()
	if l, ok := w.(interface{ LockForUpdate() error }); ok {
		if err := l.LockForUpdate(); err != nil {
			return err
		}
	}
	effective := today(rec.Filed)
	env := request.Env{Comune: comune, Street: d.Street}
	switch rec.Kind {
	case request.AddressChange:
		to, err := request.Address(rec.Form.Address.NewAddress, env)
		if err != nil {
			return err
		}
		var ids []registry.PersonID
		for _, cf := range rec.Form.Address.Persons {
			p, err := w.PersonByCF(cf)
			if err != nil {
				return fmt.Errorf("the person %s of request %s: %w", cf, rec.ID, err)
			}
			move(p, to, effective)
			if err := w.PutPerson(p); err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		return w.PutEvent(&registry.Event{Kind: registry.ResidenceChange, Date: effective, Place: comune, Persons: ids,
			Act: "pratica " + rec.Protocol, Note: "cambio di indirizzo: " + to.Line()})
	case request.ResidenceChange:
		return d.applyResidence(w, rec, comune, env, effective)
	case request.Cohabitation:
		return applyCohabitation(w, rec, today(now))
	case request.Correction:
		f := rec.Form.Correction
		p, err := w.PersonByCF(f.SubjectCF)
		if err != nil {
			return err
		}
		was, err := request.Current(p, f.Field)
		if err != nil {
			return err
		}
		if err := request.Apply(p, f.Field, f.Correct); err != nil {
			return err
		}
		if err := w.PutPerson(p); err != nil {
			return err
		}
		return w.PutEvent(&registry.Event{Kind: eventCorrection, Date: today(now), Persons: []registry.PersonID{p.ID},
			Act: "pratica " + rec.Protocol, Note: fmt.Sprintf("rettifica di %s: da %q a %q", f.Field, was, f.Correct)})
	}
	// A historical certificate is prepared by the office and a DAT kept
	// in its register: the registry's data do not change.
	return nil
}

// move closes p's current residence the day before day and opens one at
// to from day; the open-procedure mark is lifted.
func move(p *registry.Person, to registry.Address, day registry.Date) {
	before := registry.DateOf(day.Time().AddDate(0, 0, -1))
	if n := len(p.Residences); n > 0 && p.Residences[n-1].To.IsZero() {
		cur := &p.Residences[n-1]
		if !cur.From.Before(day) {
			// Opened on the same day: corrected, not a period of its own.
			p.Residences = p.Residences[:n-1]
		} else {
			cur.To = before
		}
	}
	p.Residences = append(p.Residences, registry.Residence{Address: to, From: day})
	p.ProcedureOpen = registry.Date{}
}

func (d *Desk) applyResidence(w registry.Writer, rec *request.Request, comune string, env request.Env, day registry.Date) error {
	f := rec.Form.Residence
	to, err := request.Address(f.NewAddress, env)
	if err != nil {
		return err
	}
	// The persons moving in form one famiglia anagrafica at the new
	// address (DPR 223/1989 art. 4), the declarant its head.
	fam := &registry.Family{Kind: registry.Famiglia}
	if err := w.PutFamily(fam); err != nil {
		return err
	}
	var ids []registry.PersonID
	for _, m := range f.Persons {
		cf := strings.ToUpper(strings.TrimSpace(m.CF))
		rel := registry.Relationship(m.Relationship)
		if cf == rec.RequesterCF {
			rel = registry.Head
		} else if rel == 0 || rel == registry.Head {
			rel = registry.RelationshipUnknown
		}
		p, err := w.PersonByCF(cf)
		switch {
		case errors.Is(err, registry.ErrNotFound):
			birth, _ := registry.ParseDate(m.BirthDate)
			p = &registry.Person{CF: cf, Surname: strings.ToUpper(strings.TrimSpace(m.Surname)), GivenNames: strings.ToUpper(strings.TrimSpace(m.GivenNames)),
				Sex: registry.Sex(m.Sex[0]), BirthDate: birth, BirthPlace: strings.ToUpper(strings.TrimSpace(m.BirthPlace)),
				Citizenships: []string{strings.ToUpper(strings.TrimSpace(m.Citizenship))}, CivilStatus: registry.CivilStatusUnknown}
		case err != nil:
			return err
		}
		if p.AIRE {
			if n := len(p.Residences); n > 0 && p.Residences[n-1].To.IsZero() {
				p.Residences[n-1].To = registry.DateOf(day.Time().AddDate(0, 0, -1))
			}
			p.AIRE = false
		}
		move(p, to, day)
		p.Join(fam.ID, rel, day)
		if err := w.PutPerson(p); err != nil {
			return err
		}
		ids = append(ids, p.ID)
	}
	from := "dal Comune " + f.OriginPlace
	if f.Origin == request.FromAbroad {
		from = "dall'estero (" + f.OriginPlace + ")"
	}
	return w.PutEvent(&registry.Event{Kind: registry.ResidenceChange, Date: day, Place: comune, Persons: ids,
		Act: "pratica " + rec.Protocol, Note: "iscrizione anagrafica " + from + ": " + to.Line()})
}

func applyCohabitation(w registry.Writer, rec *request.Request, day registry.Date) error {
	f := rec.Form.Cohabit
	var ps [2]*registry.Person
	for i, cf := range f.Partners {
		p, err := w.PersonByCF(cf)
		if err != nil {
			return err
		}
		ps[i] = p
	}
	// The partner who is not the head of the scheda takes the
	// relationship "convivente" (ANPR table 5, code 23), and gives it up
	// at the end.
	other := ps[1]
	if ps[1].Relationship == registry.Head {
		other = ps[0]
	}
	kind := eventCohabitation
	if f.Action == request.CohabitStart {
		other.Join(other.Family, registry.Cohabitant, day)
	} else {
		kind = eventCohabitationEnd
		for _, p := range ps {
			if p.Relationship == registry.Cohabitant {
				other = p
			}
		}
		other.Join(other.Family, registry.RelationshipUnknown, day)
	}
	if err := w.PutPerson(other); err != nil {
		return err
	}
	return w.PutEvent(&registry.Event{Kind: kind, Date: day, Persons: []registry.PersonID{ps[0].ID, ps[1].ID},
		Act: "pratica " + rec.Protocol, Note: "L. 76/2016 art. 1 c. 36-37"})
}
