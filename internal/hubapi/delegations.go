package hubapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/dossier"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fault/hubfault"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// Purposes the audit log names for the delegations' acts and reads.
const (
	delegationGivePurpose   = "conferimento di delega ad altra persona (art. 38 c. 3 DPR 445/2000)"
	delegationDelegateData  = "codice fiscale, nominativo ed età del delegato"
	delegationListPurpose   = "consultazione delle proprie deleghe"
	delegationRevokePurpose = "revoca di delega"
)

// limitCitizen is a citizen's own records (delegations, dossier): rates,
// caps and the refusal ratio apply; the evidence in the body names the
// subject, so the repeated-subject flag does not.
var limitCitizen = limitRoute{}

func (s *Server) delegationRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/delegations", s.signed(s.limited(limitCitizen, http.HandlerFunc(s.giveDelegation))))
	mux.Handle("POST /api/v1/delegations/list", s.signed(s.limited(limitCitizen, http.HandlerFunc(s.listDelegations))))
	mux.Handle("POST /api/v1/delegations/{id}/revoke", s.signed(s.limited(limitCitizen, http.HandlerFunc(s.revokeDelegation))))
}

// citizen is a citizen identified at a kiosk for their own records, and
// who the request came through.
type citizen struct {
	who     *registry.Person
	actor   audit.Actor
	clerk   audit.Clerk
	channel string
}

// identifyCitizen identifies who a request about their own records comes
// from, by the evidence it carries; a failed identification is audited
// under the card or code given, with purpose, and answered with the one
// refusal whatever its cause. ok false: the answer is written.
func (s *Server) identifyCitizen(w http.ResponseWriter, r *http.Request, ev api.RequesterEvidence, channel, purpose, data string) (citizen, bool) {
	keyID, err := signedKey(r)
	if err != nil {
		s.fail(w, r, err)
		return citizen{}, false
	}
	c := citizen{actor: audit.Actor{Kind: audit.Device, ID: keyID}}
	if c.channel, err = requestChannel(channel, api.ChannelSelfService); err != nil {
		s.fail(w, r, err)
		return c, false
	}
	if ev.Method == "" {
		s.fail(w, r, fault.New(fault.Malformed, api.ReasonRequesterEvidenceRequired, "only the person concerned may do this: send their CIE tap (or, at a counter, their document)"))
		return c, false
	}
	if s.IdentifyRequester == nil || s.stores() == nil {
		s.fail(w, r, errors.New("no verifier of requester evidence or no store is configured, so no citizen's records can be served"))
		return c, false
	}
	if c.clerk, err = s.counterClerk(r, c.channel); err != nil {
		s.fail(w, r, err)
		return c, false
	}
	c.who, err = s.IdentifyRequester(r, ev, c.channel == api.ChannelSelfService)
	if err != nil {
		if errors.Is(err, ErrIdentification) {
			s.Log.Info("citizen's request refused: identification failed", "key_id", keyID, "path", r.URL.Path, "cause", err)
			who := strings.ToUpper(strings.TrimSpace(ev.CF))
			if who == "" {
				who = "NIS " + ev.NIS
			}
			if rec, aerr := s.auditRecorder(); aerr != nil {
				err = aerr
			} else if aerr := rec.Record(r.Context(), audit.Entry{Actor: c.actor, Purpose: purpose + ", identificazione non riuscita: " + err.Error(),
				Subject: who, Data: data, Channel: c.channel, Clerk: c.clerk}); aerr != nil {
				err = fmt.Errorf("the identification failed (%v), and it could not be recorded in the audit log: %w", err, aerr)
			} else {
				err = identificationFailed
			}
		}
		s.fail(w, r, err)
		return c, false
	}
	return c, true
}

// stores is the hub's storage: Stores, else the desk's.
func (s *Server) stores() store.Store {
	if s.Stores == nil && s.Desk != nil {
		return s.Desk.Stores
	}
	return s.Stores
}

// appendAudit appends e in tx the way the desk appends its own, so it is
// anchored with the hub's audit log.
func (s *Server) appendAudit(tx store.Tx, e audit.Entry) error {
	if s.Desk != nil {
		return s.Desk.AppendAudit(tx, e)
	}
	_, err := tx.Audit().Append(e)
	return err
}

// delegationID is the id of the delegation a device's request with
// idemKey gives: a retry finds the one it gave.
func delegationID(keyID, idemKey string) string {
	sum := sha256.Sum256([]byte(keyID + "\x00" + idemKey))
	return "D" + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

func (s *Server) giveDelegation(w http.ResponseWriter, r *http.Request) {
	idem := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if idem == "" {
		s.fail(w, r, fault.New(fault.Malformed, "idempotency_key_required", "a delegation is given with an Idempotency-Key header, so a retry does not give it twice"))
		return
	}
	var req api.DelegationRequest
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel, delegate_cf, scope, until}"); err != nil {
		s.fail(w, r, err)
		return
	}
	until, err := registry.ParseDate(strings.TrimSpace(req.Until))
	if err != nil {
		s.fail(w, r, fault.New(fault.Invalid, delegation.ReasonUntilPast, "the delegation's last day must be a date in the form YYYY-MM-DD"))
		return
	}
	c, ok := s.identifyCitizen(w, r, req.Requester, req.Channel, delegationGivePurpose, "deleghe")
	if !ok {
		return
	}
	now := s.Now()
	id := delegationID(c.actor.ID, idem)
	var out delegation.Delegation
	var replay bool
	err = s.stores().Update(r.Context(), func(tx store.Tx) error {
		if prev, err := tx.Delegations().Get(id); err == nil {
			if prev.DelegatorCF != c.who.CF || !delegation.Same(prev.DelegateCF, req.DelegateCF) {
				return fault.New(fault.Conflict, hubfault.ReasonIdempotencyConflict, "this Idempotency-Key gave another delegation; a new delegation needs a new key")
			}
			out, replay = prev, true
			return nil
		} else if !errors.Is(err, delegation.ErrNotFound) {
			return err
		}
		// The delegate's registry record, when they are resident, for
		// their name and age: a read of their data, recorded with the
		// act.
		var delegate *registry.Person
		p, err := tx.Registry().PersonByCF(strings.ToUpper(strings.TrimSpace(req.DelegateCF)))
		var cfe *codicefiscale.Error
		switch {
		case err == nil:
			delegate = p
		case errors.Is(err, registry.ErrNotFound) || errors.As(err, &cfe):
			// Not resident (the age comes from the code), or a code
			// that is none, which New refuses with its own reason.
		default:
			return err
		}
		d, err := delegation.New(delegation.Grant{Delegator: c.who, DelegateCF: req.DelegateCF, Delegate: delegate,
			Scope: delegation.Scope{Certificates: req.Scope.Certificates, Requests: req.Scope.Requests, Appointments: req.Scope.Appointments},
			Until: until, Channel: c.channel, Place: s.placeNames().Place(c.actor), Actor: c.actor.String()}, now, nil)
		if err != nil {
			return err
		}
		d.ID = id
		if err := tx.Delegations().Put(d); err != nil {
			return err
		}
		entries := []audit.Entry{
			{Time: now, Actor: c.actor, Clerk: c.clerk, Channel: c.channel, Subject: d.DelegatorCF, Request: d.ID,
				Data: "delega " + d.ID + " a " + d.DelegateCF + " (" + d.Scope.Describe() + ") fino al " + d.Until.Italian(), Purpose: delegationGivePurpose},
			{Time: now, Actor: c.actor, Clerk: c.clerk, Channel: c.channel, Subject: d.DelegateCF, Request: d.ID,
				Data: delegationDelegateData, Purpose: delegationGivePurpose + " da " + d.DelegatorCF + ", delega " + d.ID},
		}
		for _, e := range entries {
			if err := s.appendAudit(tx, e); err != nil {
				return err
			}
		}
		out = d
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if replay {
		status = http.StatusOK
	}
	writeJSON(w, status, dossier.View(out, nil, now))
}

func (s *Server) listDelegations(w http.ResponseWriter, r *http.Request) {
	var req api.DelegationsRequest
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel}"); err != nil {
		s.fail(w, r, err)
		return
	}
	c, ok := s.identifyCitizen(w, r, req.Requester, req.Channel, delegationListPurpose, "deleghe")
	if !ok {
		return
	}
	rec, err := s.auditRecorder()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := rec.Record(r.Context(), audit.Entry{Actor: c.actor, Clerk: c.clerk, Channel: c.channel, Subject: c.who.CF,
		Data: "deleghe conferite e ricevute", Purpose: delegationListPurpose}); err != nil {
		s.fail(w, r, fmt.Errorf("cannot record the look-up in the audit log: %w", err))
		return
	}
	out := api.Delegations{CF: c.who.CF, Name: c.who.FullName()}
	now := s.Now()
	err = s.stores().View(r.Context(), func(tx store.Tx) error {
		var err error
		out.Given, out.Received, err = dossier.Delegations(tx.Delegations(), c.who.CF, now)
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) revokeDelegation(w http.ResponseWriter, r *http.Request) {
	var req api.DelegationsRequest
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel}"); err != nil {
		s.fail(w, r, err)
		return
	}
	c, ok := s.identifyCitizen(w, r, req.Requester, req.Channel, delegationRevokePurpose, "deleghe")
	if !ok {
		return
	}
	id := r.PathValue("id")
	now := s.Now()
	var out delegation.Delegation
	var uses []delegation.Use
	err := s.stores().Update(r.Context(), func(tx store.Tx) error {
		d, err := tx.Delegations().Get(id)
		if errors.Is(err, delegation.ErrNotFound) {
			return &fault.Error{Kind: fault.NotFound, Reason: delegation.ReasonNotFound, Msg: "there is no delegation " + id + ".", Err: err}
		} else if err != nil {
			return err
		}
		// Someone else's delegation is refused as not found, so the
		// answer tells nothing of it.
		if delegation.CheckRevoker(d, c.who.CF) != nil {
			return &fault.Error{Kind: fault.NotFound, Reason: delegation.ReasonNotFound, Msg: "there is no delegation " + id + " given by you.", Err: delegation.ErrNotFound}
		}
		if out, err = tx.Delegations().Revoke(id, now, c.actor.String()); err != nil {
			return err
		}
		if uses, err = tx.Delegations().Uses(id); err != nil {
			return err
		}
		return s.appendAudit(tx, audit.Entry{Time: now, Actor: c.actor, Clerk: c.clerk, Channel: c.channel, Subject: c.who.CF, Request: id,
			Data: "delega " + id + " a " + out.DelegateCF, Purpose: delegationRevokePurpose})
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, dossier.View(out, uses, now))
}
