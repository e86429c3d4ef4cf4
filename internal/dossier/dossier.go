// Package dossier assembles a citizen's dossier (issue 17 item 5, after
// Genova's Fascicolo del cittadino): their registry data and famiglia
// anagrafica, identity documents with expiry, the certificates issued
// about them (a copy re-printable while the PDF is kept), their requests
// and appointments, the delegations they gave and received, and who read
// their data. The kiosk shows it after CIE and PIN; a counter prints it
// (Render) at the citizen's request.
//
// Every section but the access log is read in one snapshot of the hub's
// store: registry, certificates, requests (internal/request), appointments
// (internal/appointment) and delegations.
package dossier

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// AccessLog reads the last 12 months of who read cf's data, newest first,
// at most limit lines, and how many there are in all.
type AccessLog func(ctx context.Context, cf string, now time.Time, limit int) ([]api.AccessLine, int, error)

// ExpiringDays is how soon a document's expiry is flagged: the CIE
// renewal offered 180 days ahead (issue 17 item 3).
const ExpiringDays = 180

// Sources are where a dossier's sections come from.
type Sources struct {
	// Stores holds the registry, the certificates, the requests, the
	// appointments and the delegations, read in one snapshot.
	Stores store.Store
	// Places names comuni and states; nil prints their codes.
	Places    *places.Table
	AccessLog AccessLog
}

// ErrNoPerson: the citizen is not in the registry.
var ErrNoPerson = errors.New("the citizen is not in the registry")

// Assemble builds cf's dossier as it stands at now.
func Assemble(ctx context.Context, src Sources, cf string, now time.Time) (*api.Dossier, error) {
	d := &api.Dossier{Generated: now, Household: []api.DossierMember{}, Documents: []api.DossierDocument{},
		Certificates: []api.DossierCertificate{}, AccessLog: []api.AccessLine{},
		Requests: []api.DossierRequest{}, Appointments: []api.DossierAppointment{}}
	today := registry.DateOf(now.In(protocol.Rome))
	err := src.Stores.View(ctx, func(tx store.Tx) error {
		r := tx.Registry()
		p, err := r.PersonByCF(cf)
		if err != nil {
			return err
		}
		d.Person = person(p, src.Places, today)
		q := certificate.Requester{CF: p.CF, Person: p}
		if err := certificate.LoadHousehold(r, &q); err != nil {
			return err
		}
		for _, m := range q.Household {
			if m.ID == p.ID || !m.Alive() {
				continue
			}
			d.Household = append(d.Household, api.DossierMember{CF: m.CF, Name: m.FullName(), BirthDate: m.BirthDate.String(),
				Relationship: m.Relationship.Italian(m.Sex)})
		}
		for _, doc := range p.Documents {
			d.Documents = append(d.Documents, document(doc, today))
		}
		recs, err := tx.Certificates().ByCF(p.CF, 0)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			d.Certificates = append(d.Certificates, api.DossierCertificate{ID: rec.ID, Protocol: rec.Protocol, Title: rec.Title,
				Issued: rec.Issued, SubjectCF: rec.SubjectCF, SubjectName: rec.SubjectName, RequesterCF: rec.RequesterCF,
				Channel: string(rec.Channel), Delegation: rec.DelegationID, Status: string(rec.Status),
				CopyAvailable: rec.PDFDeleted.IsZero() && rec.Status == certificate.Valid})
		}
		if d.DelegationsGiven, d.DelegationsReceived, err = Delegations(tx.Delegations(), p.CF, now); err != nil {
			return err
		}
		rs, err := tx.Requests().OfPerson(p.CF)
		if err != nil {
			return err
		}
		for i := range rs {
			sum := rs[i].Summary()
			d.Requests = append(d.Requests, api.DossierRequest{ID: sum.ID, Protocol: sum.Protocol, Kind: string(sum.Kind), Title: sum.Title,
				Filed: sum.Filed, Status: sum.StatusText})
		}
		bs, err := tx.Appointments().ByPerson(p.CF)
		if err != nil {
			return err
		}
		offices := map[string]string{}
		for _, b := range bs {
			name, ok := offices[b.OfficeID]
			if !ok {
				name = b.OfficeID
				if o, err := tx.Appointments().Office(b.OfficeID); err == nil {
					name = o.Name
				} else if !errors.Is(err, appointment.ErrNotFound) {
					return err
				}
				offices[b.OfficeID] = name
			}
			d.Appointments = append(d.Appointments, api.DossierAppointment{Ref: b.Ref, Service: b.Service.Italian(), Office: name,
				At: b.Start, Status: bookingState(b.State)})
		}
		return nil
	})
	if errors.Is(err, registry.ErrNotFound) {
		return nil, ErrNoPerson
	}
	if err != nil {
		return nil, err
	}
	if src.AccessLog != nil {
		if d.AccessLog, d.AccessTotal, err = src.AccessLog(ctx, d.Person.CF, now, api.DossierAccessLines); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// bookingState is a booking's state in Italian.
func bookingState(s appointment.State) string {
	switch s {
	case appointment.Booked:
		return "prenotato"
	case appointment.CheckedIn:
		return "presentato allo sportello"
	case appointment.Cancelled:
		return "annullato"
	}
	return string(s)
}

func placeName(t *places.Table, code string, on registry.Date) string {
	if t != nil {
		if p, ok := t.Lookup(code, on.Time()); ok {
			if p.Province != "" {
				return p.Name + " (" + p.Province + ")"
			}
			return p.Name
		}
	}
	return code
}

func person(p *registry.Person, t *places.Table, today registry.Date) api.DossierPerson {
	out := api.DossierPerson{CF: p.CF, Surname: p.Surname, GivenNames: p.GivenNames, Sex: string(p.Sex),
		BirthDate: p.BirthDate.String(), BirthPlace: placeName(t, p.BirthPlace, p.BirthDate),
		CivilStatus: p.CivilStatus.Italian(p.Sex), Email: p.Email, ProcedureOpen: p.ProcedureOpen.String()}
	if p.BirthLocality != "" {
		out.BirthPlace = p.BirthLocality + " (" + out.BirthPlace + ")"
	}
	var cs []string
	for _, c := range p.Citizenships {
		if c == "Z000" {
			cs = append(cs, "italiana")
			continue
		}
		cs = append(cs, placeName(t, c, today))
	}
	out.Citizenship = strings.Join(cs, ", ")
	if res, ok := p.CurrentResidence(); ok {
		a := res.Address
		out.Address = strings.TrimSpace(a.Line() + ", " + a.CAP + " " + placeName(t, a.Comune, today))
		out.ResidentSince = res.From.String()
	}
	return out
}

func document(doc registry.Document, today registry.Date) api.DossierDocument {
	left := int(doc.Expires.Time().Sub(today.Time()).Hours() / 24)
	out := api.DossierDocument{Kind: string(doc.Kind), Number: doc.Number, Issued: doc.Issued.String(), Expires: doc.Expires.String(), DaysLeft: left}
	switch {
	case doc.Revoked:
		out.State = "revocato"
	case left < 0:
		out.State = "scaduto"
	case left <= ExpiringDays:
		out.State = "in scadenza"
	default:
		out.State = "valido"
	}
	return out
}

// Delegations is cf's delegations, given and received, newest first, with
// the acts done under each: what the kiosk and the dossier show.
func Delegations(v delegation.Tx, cf string, now time.Time) (given, received []api.Delegation, err error) {
	given, received = []api.Delegation{}, []api.Delegation{}
	for _, side := range []struct {
		list func(string) ([]delegation.Delegation, error)
		out  *[]api.Delegation
	}{{v.Given, &given}, {v.Received, &received}} {
		ds, err := side.list(cf)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range ds {
			uses, err := v.Uses(d.ID)
			if err != nil {
				return nil, nil, err
			}
			*side.out = append(*side.out, View(d, uses, now))
		}
	}
	return given, received, nil
}

// View is d as the API answers it, with its uses.
func View(d delegation.Delegation, uses []delegation.Use, now time.Time) api.Delegation {
	out := api.Delegation{ID: d.ID, DelegatorCF: d.DelegatorCF, DelegatorName: d.DelegatorName, DelegateCF: d.DelegateCF,
		DelegateName: d.DelegateName, Until: d.Until.String(), Created: d.Created, State: d.State(now), Revoked: d.Revoked,
		Scope: api.DelegationScope{Certificates: d.Scope.Certificates, Requests: d.Scope.Requests, Appointments: d.Scope.Appointments},
		Uses:  []api.DelegationUse{}}
	for _, u := range uses {
		out.Uses = append(out.Uses, api.DelegationUse{At: u.At, Service: u.Service, Ref: u.Ref, Channel: u.Channel, Place: u.Place})
	}
	return out
}
