package hubapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/auditbolt"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/registry"
)

// personRoutes registers the look-up a kiosk makes once it has identified
// the citizen at the counter: by the NIS read from a CIE chip, or by a codice
// fiscale checked against the number of a document the citizen shows. The
// answer is only what the screen needs (names, birth dates, the family) so
// the operator can pick whom the certificate is about.
func (s *Server) personRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/persons", s.signed(s.limited(limitLookup, http.HandlerFunc(s.lookupPerson))))
}

// personPurpose is the legal basis written in the audit log for each read.
const personPurpose = "identificazione del richiedente per il rilascio di certificati anagrafici, art. 33 DPR 223/1989"

// auditStores holds one audit store per hub file, so its buckets are set up
// once rather than in a write transaction on every look-up.
var auditStores sync.Map // *bbolt.DB → *auditbolt.Store

// auditRecorder is where reads are recorded: the audit chain in the
// registry's own bbolt file, as `hub person show` and `hub audit` use it.
func (s *Server) auditRecorder() (audit.Recorder, error) {
	// The desk's store is the hub's one, which anchors what it records.
	if s.Desk != nil && s.Desk.Audit != nil {
		return s.Desk.Audit, nil
	}
	holder, ok := s.Store.(interface{ DB() *bbolt.DB })
	if !ok {
		return nil, errors.New("the hub has no audit log to record reads in, so it serves none")
	}
	db := holder.DB()
	if rec, ok := auditStores.Load(db); ok {
		return rec.(audit.Recorder), nil
	}
	rec, err := auditbolt.New(db, s.Now)
	if err != nil {
		return nil, err
	}
	got, _ := auditStores.LoadOrStore(db, rec)
	return got.(audit.Recorder), nil
}

func (s *Server) lookupPerson(w http.ResponseWriter, r *http.Request) {
	keyID, ok := httpsig.KeyID(r.Context())
	if !ok {
		s.fail(w, r, &httpsig.Error{Reason: "missing_signature", Message: "the request is not signed by an enrolled device"})
		return
	}
	q := r.URL.Query()
	nis, cf, doc := strings.TrimSpace(q.Get(api.PersonNIS)), strings.ToUpper(strings.TrimSpace(q.Get(api.PersonCF))), strings.ToUpper(strings.TrimSpace(q.Get(api.PersonDocument)))
	channel := q.Get(api.PersonChannel)
	switch channel {
	case "":
		channel = api.ChannelCounter
	case api.ChannelCounter, api.ChannelSelfService:
	default:
		s.fail(w, r, badRequest{"bad_request", fmt.Sprintf("channel %q is neither counter nor self_service", channel)})
		return
	}
	switch {
	case nis != "" && cf != "":
		s.fail(w, r, badRequest{"bad_request", "give either nis or cf with document, not both, so the look-up has one identification"})
		return
	case nis != "":
		if len(nis) != 12 || strings.Trim(nis, "0123456789") != "" {
			s.fail(w, r, badRequest{"bad_nis", fmt.Sprintf("NIS %q is not the 12 digits a CIE chip holds", nis)})
			return
		}
	case cf != "":
		if err := codicefiscale.Validate(cf); err != nil {
			s.fail(w, r, badRequest{"bad_cf", fmt.Sprintf("codice fiscale %q is not valid: %v", cf, err)})
			return
		}
		if doc == "" {
			s.fail(w, r, badRequest{"document_required", "a codice fiscale alone does not identify the person at the counter: give the number of the identity document they show"})
			return
		}
	default:
		s.fail(w, r, badRequest{"bad_request", "give nis, or cf and document, to look a person up"})
		return
	}
	clerk, err := s.counterClerk(r, channel)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.auditRecorder()
	if err != nil {
		s.fail(w, r, err)
		return
	}

	var view api.Person
	today := registry.DateOf(s.Now())
	err = s.Store.View(r.Context(), func(rd registry.Reader) error {
		var p *registry.Person
		var err error
		if nis != "" {
			p, err = rd.PersonByNIS(nis)
			if err != nil {
				return notFound(err, "no person holds a CIE with this NIS")
			}
			if !holdsValid(p, today, func(d registry.Document) bool { return d.NIS == nis }) {
				return apiError{http.StatusUnprocessableEntity, "document_not_valid", errors.New("the CIE with this NIS is expired or revoked, so it cannot identify its holder")}
			}
		} else {
			p, err = rd.PersonByCF(cf)
			if err != nil {
				return notFound(err, "no person has this codice fiscale")
			}
			if !holdsValid(p, today, func(d registry.Document) bool { return strings.EqualFold(d.Number, doc) }) {
				return apiError{http.StatusUnprocessableEntity, "document_mismatch", errors.New("the registry holds no valid identity document with this number for this codice fiscale")}
			}
		}
		if !p.Alive() {
			return apiError{http.StatusUnprocessableEntity, "deceased", errors.New("the registry records this person as deceased")}
		}
		view = api.Person{CF: p.CF, Surname: p.Surname, GivenNames: p.GivenNames, BirthDate: p.BirthDate.String()}
		if p.Family == 0 {
			return nil
		}
		members, err := rd.Members(p.Family)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.ID == p.ID || !m.Alive() {
				continue
			}
			view.Family = append(view.Family, api.FamilyMember{CF: m.CF, Surname: m.Surname, GivenNames: m.GivenNames,
				BirthDate: m.BirthDate.String(), Relationship: int(m.Relationship)})
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The read is served only once every person shown is in the audit log.
	actor := audit.Actor{Kind: audit.Device, ID: keyID}
	entries := []audit.Entry{{Actor: actor, Purpose: personPurpose, Subject: view.CF, Data: "nome, data di nascita, famiglia anagrafica", Channel: channel, Clerk: clerk}}
	for _, m := range view.Family {
		entries = append(entries, audit.Entry{Actor: actor, Purpose: personPurpose, Subject: m.CF,
			Data: "nome e data di nascita, come componente della famiglia di " + view.CF, Channel: channel, Clerk: clerk})
	}
	for _, e := range entries {
		if err := rec.Record(r.Context(), e); err != nil {
			s.fail(w, r, fmt.Errorf("cannot record the read in the audit log: %w", err))
			return
		}
	}
	writeJSON(w, http.StatusOK, view)
}

// holdsValid reports whether p holds a document matching match that is valid today.
func holdsValid(p *registry.Person, today registry.Date, match func(registry.Document) bool) bool {
	for _, d := range p.Documents {
		if match(d) && d.ValidOn(today) {
			return true
		}
	}
	return false
}

func notFound(err error, msg string) error {
	if errors.Is(err, registry.ErrNotFound) {
		return apiError{http.StatusNotFound, "not_found", errors.New(msg)}
	}
	return err
}
