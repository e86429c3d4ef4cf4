package admin

import (
	"errors"
	"net/http"
	"strings"
	"unicode"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// The persons page: one registry record in words (place names from the
// places table, civil status as ANPR words it, documents, residence
// history, family), found by codice fiscale or by name. Every read, and
// every list of names a search shows, is written to the access log in the
// same transaction as the read: if the entry cannot be written, nothing
// is shown.

// nameMatchLimit bounds one search by name.
const nameMatchLimit = 50

type personData struct {
	Q, CF, Purpose string
	Person         *registry.Person
	Words          *personWords
	Family         []personRow
	Matches        []personRow
	Limited        bool
	CFErr          *cfExplanation
	Residence      string
}

// personWords is a record as a clerk reads it aloud.
type personWords struct {
	Born, SexKey, Civil, Citizenship, Death string
	Residences                              []residenceRow
	Documents                               []documentRow
}

type residenceRow struct{ From, To, Address, Comune string }

type documentRow struct {
	KindKey, Number, Issued, Expires, Issuer string
	Revoked, Expired                         bool
}

type personRow struct {
	CF, Name, Born, Relationship string
}

// placeNamer names Belfiore codes from the built-in table and the places
// imported into the registry.
type placeNamer struct{ t *places.Table }

func newPlaceNamer(r registry.Reader) (placeNamer, error) {
	t := places.Default().Clone()
	ps, err := r.Places()
	if err != nil {
		return placeNamer{}, err
	}
	t.Add(ps...)
	return placeNamer{t}, nil
}

// name is "MILANO (MI)" for a comune, "EGITTO" for a state, as it was
// called on day on; the code itself when the table does not know it.
func (n placeNamer) name(code string, on registry.Date) string {
	if code == "" {
		return ""
	}
	p, ok := n.t.Lookup(code, on.Time())
	if !ok {
		if p, ok = n.t.Lookup(code, registry.Date{}.Time()); !ok {
			return code
		}
	}
	if p.Province != "" {
		return p.Name + " (" + p.Province + ")"
	}
	return p.Name
}

func (n placeNamer) words(p *registry.Person, today registry.Date) *personWords {
	w := &personWords{SexKey: "sex." + p.Sex.String(), Civil: p.CivilStatus.Italian(p.Sex)}
	w.Born = p.BirthDate.Italian() + " · " + n.name(p.BirthPlace, p.BirthDate)
	if p.BirthLocality != "" {
		w.Born = p.BirthDate.Italian() + " · " + p.BirthLocality + " (" + n.name(p.BirthPlace, p.BirthDate) + ")"
	}
	var cits []string
	for _, c := range p.Citizenships {
		switch c {
		case registry.Italy:
			cits = append(cits, "italiana")
		case registry.CitizenshipPending:
			cits = append(cits, "in corso di definizione")
		case registry.CitizenshipUnassignable:
			cits = append(cits, "non attribuibile")
		case registry.Stateless:
			cits = append(cits, "apolide")
		default:
			cits = append(cits, n.name(c, today))
		}
	}
	w.Citizenship = strings.Join(cits, ", ")
	if !p.Alive() {
		w.Death = p.DeathDate.Italian()
		if p.DeathPlace != "" {
			w.Death += " · " + n.name(p.DeathPlace, p.DeathDate)
		}
	}
	for i := len(p.Residences) - 1; i >= 0; i-- { // newest first
		r := p.Residences[i]
		row := residenceRow{From: r.From.Italian(), Address: strings.TrimSpace(r.Address.Line() + ", " + r.Address.CAP), Comune: n.name(r.Address.Comune, r.From)}
		if !r.To.IsZero() {
			row.To = r.To.Italian()
		}
		if r.AIREComune != "" {
			row.Comune += " · AIRE " + n.name(r.AIREComune, r.From)
		}
		w.Residences = append(w.Residences, row)
	}
	for _, d := range p.Documents {
		w.Documents = append(w.Documents, documentRow{KindKey: "doc." + string(d.Kind), Number: d.Number, Issued: d.Issued.Italian(),
			Expires: d.Expires.Italian(), Issuer: n.name(d.Issuer, d.Issued), Revoked: d.Revoked, Expired: d.Expires.Before(today)})
	}
	return w
}

// cfAttempt reports whether q was meant as a codice fiscale: it holds a
// digit (names do not) and no space.
func cfAttempt(q string) bool {
	return strings.IndexFunc(q, unicode.IsDigit) >= 0 && !strings.ContainsRune(q, ' ')
}

func (c *Console) personsPage(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	q := r.URL.Query()
	d := personData{Q: strings.TrimSpace(q.Get("q")), Purpose: strings.TrimSpace(q.Get("purpose"))}
	if cf := strings.TrimSpace(q.Get("cf")); cf != "" {
		d.Q = cf
	}
	v := c.newView(r, "nav.persons")
	v.Data = &d
	if d.Q == "" {
		c.render(w, r, http.StatusOK, "persons", v)
		return
	}
	if cfAttempt(d.Q) {
		d.CF = strings.ToUpper(d.Q)
		if ex := explainCF(d.CF, lang); ex != nil {
			d.CFErr = ex
			c.renderRefused(w, r, "persons", v, refused(fault.Invalid, "invalid_cf"))
			return
		}
	} else if registry.NameQuery(d.Q) == "" {
		c.renderRefused(w, r, "persons", v, refused(fault.Invalid, "person_query_invalid"))
		return
	}
	if !purposeOK(d.Purpose) {
		c.renderRefused(w, r, "persons", v, refused(fault.Invalid, "purpose_required"))
		return
	}
	actor := audit.Actor{Kind: audit.Staff, ID: userOf(r)}
	today := registry.DateOf(c.now().In(romeZone()))
	// The reads and their audit entries commit together: a page is shown
	// only once every read on it is on the record.
	err := c.Stores.Update(r.Context(), func(tx store.Tx) error {
		rd, aud := tx.Registry(), tx.Audit()
		names, err := newPlaceNamer(rd)
		if err != nil {
			return err
		}
		if d.CF == "" {
			ps, err := rd.PersonsByName(d.Q, nameMatchLimit)
			if err != nil {
				return err
			}
			d.Limited = len(ps) == nameMatchLimit
			for _, p := range ps {
				d.Matches = append(d.Matches, personRow{CF: p.CF, Name: p.FullName(), Born: p.BirthDate.Italian() + " · " + names.name(p.BirthPlace, p.BirthDate)})
				if _, err := aud.Append(audit.Entry{Time: c.now(), Actor: actor, Purpose: d.Purpose, Subject: p.CF,
					Data: "nome e nascita, nei risultati della ricerca per nome «" + d.Q + "»", Channel: "admin", Request: r.URL.Path}); err != nil {
					return err
				}
			}
			return nil
		}
		p, err := rd.PersonByCF(d.CF)
		if err != nil {
			return err
		}
		d.Person, d.Words = p, names.words(p, today)
		if p.Family != 0 {
			members, err := rd.Members(p.Family)
			if err != nil {
				return err
			}
			for _, m := range members {
				d.Family = append(d.Family, personRow{CF: m.CF, Name: m.FullName(), Born: m.BirthDate.Italian(), Relationship: m.Relationship.Italian(m.Sex)})
			}
		}
		if res, ok := p.CurrentResidence(); ok {
			d.Residence = strings.TrimSpace(res.Address.Line() + ", " + res.Address.CAP + " " + names.name(res.Address.Comune, today))
		}
		_, err = aud.Append(audit.Entry{Time: c.now(), Actor: actor,
			Purpose: d.Purpose, Subject: p.CF, Data: "scheda anagrafica e famiglia", Channel: "admin", Request: r.URL.Path})
		return err
	})
	switch {
	case errors.Is(err, registry.ErrNotFound):
		c.renderRefused(w, r, "persons", v, refused(fault.NotFound, "subject_not_found"))
		return
	case errors.Is(err, registry.ErrInvalid), errors.Is(err, registry.ErrAmbiguous):
		c.renderRefused(w, r, "persons", v, err)
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "persons", v)
}
