package issuancetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/registry"
)

// DocumentEvidence is what a clerk types for the person with codice
// fiscale cf after checking their identity document: the CF and the
// number of a document the registry holds valid today (their CIE first).
func DocumentEvidence(tb testing.TB, st registry.Store, cf string, now time.Time) identify.Evidence {
	tb.Helper()
	var ev identify.Evidence
	err := st.View(context.Background(), func(r registry.Reader) error {
		p, err := r.PersonByCF(cf)
		if err != nil {
			return err
		}
		d, ok := p.ValidDocument(registry.DateOf(now))
		if !ok {
			tb.Fatalf("%s holds no valid identity document", cf)
		}
		ev = identify.Evidence{Method: identify.Document, CF: p.CF, Document: d.Number}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// CIENIS is the NIS of the valid CIE the person with codice fiscale cf
// holds; the test fails when they hold none.
func CIENIS(tb testing.TB, st registry.Store, cf string, now time.Time) string {
	tb.Helper()
	var nis string
	err := st.View(context.Background(), func(r registry.Reader) error {
		p, err := r.PersonByCF(cf)
		if err != nil {
			return err
		}
		for _, d := range p.Documents {
			if d.Kind == registry.CIE && d.NIS != "" && d.ValidOn(registry.DateOf(now)) {
				nis = d.NIS
				return nil
			}
		}
		tb.Fatalf("%s holds no valid CIE", cf)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return nis
}

// CIETap is the evidence of a tap of a virtual CIE carrying nis on device at
// the given time, signed by the virtual card's chip and issuer (trusted
// through virtual.TestCSCA, as the Desk's verifier does). mode is the
// card's (virtual.Genuine, virtual.Cloned …); pinProved says the PIN was
// verified on the card, as self-service does.
func CIETap(tb testing.TB, mode virtual.Mode, device, nis string, at time.Time, pinProved bool) identify.Evidence {
	tb.Helper()
	card, err := virtual.New(virtual.Config{NIS: nis, Mode: mode})
	if err != nil {
		tb.Fatal(err)
	}
	nonce := bytes.NewReader(bytes.Repeat([]byte{byte(at.Unix())}, cie.TapNonceSize))
	tap, err := cie.ReadTap(context.Background(), card, device, nonce, at)
	if err != nil {
		tb.Fatal(err)
	}
	return identify.Evidence{Method: identify.CIE, Device: device, NIS: tap.NIS, Kpub: tap.Kpub, SOD: tap.SOD,
		TapNonce: tap.Nonce, TappedAt: tap.TappedAt, Response: tap.Response, PINProved: pinProved}
}

// API is ev as a kiosk sends it (the device travels as the request's
// signature, not in the body).
func API(ev identify.Evidence) *api.RequesterEvidence {
	return &api.RequesterEvidence{Method: string(ev.Method), NIS: ev.NIS, Kpub: ev.Kpub, SOD: ev.SOD, TapNonce: ev.TapNonce,
		TappedAt: ev.TappedAt, Response: ev.Response, PINProved: ev.PINProved, CF: ev.CF, Document: ev.Document}
}

// Cast are persons of a desk's registry in the roles the household rule
// and the no-oracle rule are tested with (codici fiscali).
type Cast struct {
	// Requester is a living adult resident holding a valid CIE, in a
	// famiglia anagrafica with Member, another living resident.
	Requester, Member string
	// Stranger is a living resident of another family; Dead is recorded
	// as deceased; AIRE lives abroad; Missing is a well-formed codice
	// fiscale nobody in the registry has.
	Stranger, Dead, AIRE, Missing string
	// Lodger and Colodger live in the same convivenza (a care home), not
	// a famiglia, each holding a valid document.
	Lodger, Colodger string
}

// Cast finds the roles in the desk's registry and moves two residents of
// other families into a new convivenza, which the synthetic city seldom
// has. It needs a city of a few hundred persons.
func (d *Desk) Cast(tb testing.TB) Cast {
	tb.Helper()
	today := registry.DateOf(d.Now())
	var c Cast
	var lodgers []*registry.Person
	var emigrant *registry.Person
	err := d.Store.Update(context.Background(), func(w registry.Writer) error {
		usable := func(p *registry.Person) bool {
			_, res := p.CurrentResidence()
			_, doc := p.ValidDocument(today)
			return res && p.Alive() && !p.AIRE && doc && p.BirthDate.AgeAt(today) >= 18
		}
		var all []*registry.Person
		if err := w.Persons(0, func(p *registry.Person) (bool, error) { all = append(all, p); return true, nil }); err != nil {
			return err
		}
		used := map[registry.FamilyID]bool{}
		for _, p := range all {
			switch {
			case !p.Alive():
				if c.Dead == "" {
					c.Dead = p.CF
				}
				continue
			case p.AIRE:
				if c.AIRE == "" {
					c.AIRE = p.CF
				}
				continue
			}
			if !usable(p) || p.Family == 0 {
				continue
			}
			if c.Requester == "" {
				f, err := w.Family(p.Family)
				if err != nil || f.Kind != registry.Famiglia {
					continue
				}
				ms, err := w.Members(p.Family)
				if err != nil {
					return err
				}
				hasCIE := false
				for _, doc := range p.Documents {
					hasCIE = hasCIE || doc.Kind == registry.CIE && doc.NIS != "" && doc.ValidOn(today)
				}
				for _, m := range ms {
					if m.ID != p.ID && m.Alive() && !m.AIRE && hasCIE {
						if _, res := m.CurrentResidence(); res {
							c.Requester, c.Member = p.CF, m.CF
							used[p.Family] = true
							break
						}
					}
				}
				continue
			}
			if used[p.Family] {
				continue
			}
			if c.Stranger == "" {
				c.Stranger = p.CF
				used[p.Family] = true
			} else if len(lodgers) < 2 {
				lodgers = append(lodgers, p)
				used[p.Family] = true
			} else if emigrant == nil {
				emigrant = p
				used[p.Family] = true
			}
		}
		// A small synthetic city may have no family in AIRE (one in three
		// hundred households): then a resident of another family emigrates.
		if c.AIRE == "" && emigrant != nil {
			n := len(emigrant.Residences)
			left := today.Time().AddDate(0, -2, 0)
			if from := emigrant.Residences[n-1].From.Time(); !from.Before(left) {
				left = from.AddDate(0, 0, 1)
			}
			emigrant.Residences[n-1].To = registry.DateOf(left.AddDate(0, 0, -1))
			emigrant.Residences = append(emigrant.Residences, registry.Residence{
				Address: registry.Address{Street: "Rue de Rivoli", Number: "10", CAP: "75001", Comune: "Z110", Locality: "Paris"},
				From:    registry.DateOf(left), AIREComune: emigrant.Residences[n-1].Address.Comune})
			emigrant.AIRE = true
			if err := w.PutPerson(emigrant); err != nil {
				return err
			}
			c.AIRE = emigrant.CF
		}
		if c.Requester == "" || c.Stranger == "" || c.Dead == "" || c.AIRE == "" || len(lodgers) < 2 {
			tb.Fatalf("the registry lacks a role: %+v, %d lodgers", c, len(lodgers))
		}
		home := &registry.Family{Kind: registry.Convivenza, Name: "Casa di riposo San Giuseppe"}
		if err := w.PutFamily(home); err != nil {
			return err
		}
		for i, p := range lodgers {
			rel := registry.ConvivenzaMember
			if i == 0 {
				rel = registry.ConvivenzaHead
			}
			p.Join(home.ID, rel, today) // the move closes their famiglia membership
			if err := w.PutPerson(p); err != nil {
				return err
			}
		}
		c.Lodger, c.Colodger = lodgers[0].CF, lodgers[1].CF
		c.Missing = "RSSMRA50B17A558W"
		if _, err := w.PersonByCF(c.Missing); err == nil {
			tb.Fatalf("%s is in the registry", c.Missing)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
