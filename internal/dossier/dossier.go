// Package dossier assembles a citizen's dossier (issue 17 item 5, after
// Genova's Fascicolo del cittadino): their registry data and famiglia
// anagrafica, identity documents with expiry, the certificates issued
// about them (a copy re-printable while the PDF is kept), their requests
// and appointments, the delegations they gave and received, and who read
// their data. The kiosk shows it after CIE and PIN; a counter prints it
// (Render) at the citizen's request.
//
// Requests and appointments live in other packages, reached through the
// small interfaces here: a hub that has none wired says so in the section
// ("non disponibile") rather than showing an empty list as if there were
// nothing.
package dossier

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// Requests lists a citizen's requests filed into the protocol and their
// status, newest first.
type Requests interface {
	RequestsOf(ctx context.Context, cf string) ([]api.DossierRequest, error)
}

// Appointments lists a citizen's appointments, soonest first.
type Appointments interface {
	AppointmentsOf(ctx context.Context, cf string) ([]api.DossierAppointment, error)
}

// AccessLog reads the last 12 months of who read cf's data, newest first,
// at most limit lines, and how many there are in all.
type AccessLog func(ctx context.Context, cf string, now time.Time, limit int) ([]api.AccessLine, int, error)

// Unavailable is what a section the hub cannot fill says.
const Unavailable = "non disponibile: il servizio non è ancora attivo su questo hub"

// ExpiringDays is how soon a document's expiry is flagged: the CIE
// renewal offered 180 days ahead (issue 17 item 3).
const ExpiringDays = 180

// Sources are where a dossier's sections come from.
type Sources struct {
	// Stores holds the registry, the certificates and the delegations,
	// read in one snapshot.
	Stores store.Store
	// Places names comuni and states; nil prints their codes.
	Places       *places.Table
	AccessLog    AccessLog
	Requests     Requests
	Appointments Appointments
}

// ErrNoPerson: the citizen is not in the registry.
var ErrNoPerson = errors.New("the citizen is not in the registry")

// Assemble builds cf's dossier as it stands at now.
func Assemble(ctx context.Context, src Sources, cf string, now time.Time) (*api.Dossier, error) {
	d := &api.Dossier{Generated: now, Household: []api.DossierMember{}, Documents: []api.DossierDocument{},
		Certificates: []api.DossierCertificate{}, AccessLog: []api.AccessLine{}}
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
		d.DelegationsGiven, d.DelegationsReceived, err = Delegations(tx.Delegations(), p.CF, now)
		return err
	})
	if errors.Is(err, registry.ErrNotFound) {
		return nil, ErrNoPerson
	}
	if err != nil {
		return nil, err
	}
	d.Requests = api.DossierRequests{Available: src.Requests != nil, Items: []api.DossierRequest{}}
	if src.Requests == nil {
		d.Requests.Note = Unavailable
	} else if d.Requests.Items, err = src.Requests.RequestsOf(ctx, d.Person.CF); err != nil {
		return nil, err
	}
	d.Appointments = api.DossierAppointments{Available: src.Appointments != nil, Items: []api.DossierAppointment{}}
	if src.Appointments == nil {
		d.Appointments.Note = Unavailable
	} else if d.Appointments.Items, err = src.Appointments.AppointmentsOf(ctx, d.Person.CF); err != nil {
		return nil, err
	}
	if src.AccessLog != nil {
		if d.AccessLog, d.AccessTotal, err = src.AccessLog(ctx, d.Person.CF, now, api.DossierAccessLines); err != nil {
			return nil, err
		}
	}
	if d.Requests.Items == nil {
		d.Requests.Items = []api.DossierRequest{}
	}
	if d.Appointments.Items == nil {
		d.Appointments.Items = []api.DossierAppointment{}
	}
	return d, nil
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
