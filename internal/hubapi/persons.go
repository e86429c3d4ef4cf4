package hubapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// personRoutes registers the look-up a kiosk makes once it has identified
// the citizen at the counter: it sends the same evidence a certificate
// request carries (a CIE tap, or a codice fiscale with the number of a
// document the citizen shows), which the hub verifies itself. The answer is
// only what the screen needs (names, birth dates, the famiglia anagrafica)
// so the operator can pick whom the certificate is about; every failed
// identification is one answer, identification_failed, whatever its cause.
func (s *Server) personRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/persons/identify", s.signed(s.limited(limitLookup, http.HandlerFunc(s.identifyPerson))))
}

// personPurpose is the legal basis written in the audit log for each read.
const personPurpose = "identificazione del richiedente per il rilascio di certificati anagrafici, art. 33 DPR 223/1989"

// auditRecorder is where reads are recorded: the desk's log when the
// server has a desk, else the hub's stores (which, in the hub, anchor
// what they commit).
func (s *Server) auditRecorder() (audit.Recorder, error) {
	if s.Desk != nil && s.Desk.Audit != nil {
		return s.Desk.Audit, nil
	}
	if s.Stores == nil {
		return nil, errors.New("the hub has no audit log to record reads in, so it serves none")
	}
	return store.NewRecorder(s.Stores, s.Now), nil
}

func (s *Server) identifyPerson(w http.ResponseWriter, r *http.Request) {
	if _, err := signedKey(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var req api.IdentifyRequest
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel}"); err != nil {
		s.fail(w, r, err)
		return
	}
	ch, err := requestChannel(req.Channel, api.ChannelCounter)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	channel := certificate.Channel(ch)
	if req.Requester.Method == "" {
		s.fail(w, r, fault.New(fault.Malformed, api.ReasonRequesterEvidenceRequired, "the request names no requester evidence: send the CIE tap, or the codice fiscale and the number of the identity document shown"))
		return
	}
	clerk, err := s.counterClerk(r, string(channel))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rec, err := s.auditRecorder()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev := evidenceOf(r, req.Requester)
	actor := deviceActor(r)
	// The device's agreement says which types it may issue at all; the
	// answer tells, for each person shown, which of them the requester
	// may have (item 3 of issue 15), so the kiosk offers nothing the hub
	// would refuse. Without an operator directory (tests of other
	// concerns) every type is judged.
	var op issuance.Operator
	if s.DeviceOperator != nil {
		if op, err = s.operatorOf(r); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	now := s.Now()

	var view api.Person
	var name string // the requester's, as their family members' access log names them
	err = s.Store.View(r.Context(), func(rd registry.Reader) error {
		q, err := s.Desk.Requester(rd, ev, channel, now)
		if err != nil {
			return err
		}
		p := q.Person
		name = p.FullName()
		view = api.Person{CF: p.CF, Surname: p.Surname, GivenNames: p.GivenNames, BirthDate: p.BirthDate.String()}
		if view.Eligibility, err = s.eligibility(rd, q, p.CF, channel, op, now); err != nil {
			return err
		}
		// Only whom the requester may have certificates about: their own
		// famiglia anagrafica, living (LoadHousehold leaves a convivenza out).
		for _, m := range q.Household {
			if m.ID == p.ID || !m.Alive() {
				continue
			}
			fm := api.FamilyMember{CF: m.CF, Surname: m.Surname, GivenNames: m.GivenNames,
				BirthDate: m.BirthDate.String(), Relationship: int(m.Relationship)}
			if fm.Eligibility, err = s.eligibility(rd, q, m.CF, channel, op, now); err != nil {
				return err
			}
			view.Family = append(view.Family, fm)
		}
		return nil
	})
	if ref, ok := certificate.AsRefusal(err); ok && ref.Reason == certificate.ReasonIdentificationFailed {
		// The precise cause goes to the log and the audit log, never to
		// the answer, which is the same for every cause.
		s.Log.Warn("identification failed", "key_id", actor.ID, "channel", channel, "cause", ref.Err)
		who := strings.ToUpper(strings.TrimSpace(ev.CF))
		if who == "" {
			who = "NIS " + ev.NIS
		}
		if aerr := rec.Record(r.Context(), audit.Entry{Actor: actor, Purpose: personPurpose + ", identificazione non riuscita: " + ref.Err.Error(),
			Subject: who, Data: "documento d'identità o CIE", Channel: string(channel), Clerk: clerk}); aerr != nil {
			s.fail(w, r, fmt.Errorf("the identification failed (%v), and it could not be recorded in the audit log: %w", ref.Err, aerr))
			return
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The read is served only once every person shown is in the audit log.
	entries := []audit.Entry{{Actor: actor, Purpose: personPurpose, Subject: view.CF, Data: "nome, data di nascita, famiglia anagrafica, certificati rilasciabili", Channel: string(channel), Clerk: clerk}}
	// A member's entry names the requester by name for the member's own
	// access log, and by codice fiscale after the requester mark, which
	// the inspector reads and the access log leaves out.
	for _, m := range view.Family {
		entries = append(entries, audit.Entry{Actor: actor, Purpose: personPurpose + "; richiedente " + view.CF, Subject: m.CF,
			Data: "nome, data di nascita e certificati rilasciabili, come componente della famiglia di " + name, Channel: string(channel), Clerk: clerk})
	}
	for _, e := range entries {
		if err := rec.Record(r.Context(), e); err != nil {
			s.fail(w, r, fmt.Errorf("cannot record the read in the audit log: %w", err))
			return
		}
	}
	writeJSON(w, http.StatusOK, view)
}

// eligibility is what requester q may have about the subject cf, as the
// desk judges it (issuance.Service.Eligibility, the rules it issues by):
// the types it would issue, and the reason code of each other type's
// refusal (operator_not_allowed for a type outside the agreement). The subject is q or a member of q's own
// famiglia anagrafica, whom the look-up shows anyway.
func (s *Server) eligibility(rd registry.Reader, q certificate.Requester, cf string, channel certificate.Channel, op issuance.Operator, now time.Time) (*api.Eligibility, error) {
	verdicts, err := s.Desk.Eligibility(rd, q, cf, channel, op, now)
	if err != nil {
		return nil, err
	}
	e := &api.Eligibility{Allowed: []string{}}
	for _, v := range verdicts {
		if v.Reason == "" {
			e.Allowed = append(e.Allowed, string(v.Type))
		} else {
			e.Missing = append(e.Missing, api.TypeMissing{Type: string(v.Type), Reason: v.Reason})
		}
	}
	return e, nil
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

// identifyWithDesk is the RequesterIdentifier of a hub with a desk: the
// desk's one identification path (issuance.Service.Requester), the same
// the certificates and the look-up use.
func (s *Server) identifyWithDesk(r *http.Request, ev api.RequesterEvidence, selfService bool) (*registry.Person, error) {
	channel := certificate.Counter
	if selfService {
		channel = certificate.SelfService
	}
	var who *registry.Person
	err := s.Store.View(r.Context(), func(rd registry.Reader) error {
		q, err := s.Desk.Requester(rd, evidenceOf(r, ev), channel, s.Now())
		who = q.Person
		return err
	})
	if ref, ok := certificate.AsRefusal(err); ok && ref.Reason == certificate.ReasonIdentificationFailed {
		return nil, fmt.Errorf("%w: %v", ErrIdentification, ref.Err)
	}
	return who, err
}
