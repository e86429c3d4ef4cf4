// Package desk is the registry office's desk for demographic requests
// (package request): it files a request from a kiosk, a shop's counter or
// the office into the protocol register, and carries staff's review to its
// end (assign, ask for more, the citizen's answer, accept with the
// registry's change, refuse). Each step is one transaction of the hub's
// store that writes the request, its audit entries, the citizen's
// notification and, where the step changes it, the registry, so none is
// done without the others.
package desk

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fault/hubfault"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
)

// Desk files and decides requests.
type Desk struct {
	// Stores is the hub's storage: numbers from its Numbering, every step
	// one of its transactions.
	Stores store.Store
	// Issuance identifies requesters exactly as the certificate desk does
	// (issuance.Service.Requester) and gives the city's settings: the
	// comune's code and the register's codes.
	Issuance *issuance.Service
	// Street is the city's street list: the CAP of a street the city has,
	// false for one it has not.
	Street func(name string) (cap string, ok bool)
	Now    func() time.Time
	Rand   io.Reader // request ids; nil is crypto/rand
	Log    *slog.Logger
}

// Filing is one request as a kiosk, a counter or the office sends it.
type Filing struct {
	Kind  request.Kind
	Form  request.Form
	Files []request.File
	// Channel: counter and self-service identify the requester by
	// Evidence, the office by RequesterCF (staff saw the document).
	Channel     certificate.Channel
	Evidence    identify.Evidence
	RequesterCF string
	OperatorID  string
	Actor       audit.Actor
	Clerk       audit.Clerk
	// IdempotencyKey, already scoped to the caller, makes a retried
	// filing return the first request.
	IdempotencyKey string
	// ForCF, when set, is the person the identified requester files for
	// as their delegate: a live delegation from ForCF to the requester
	// must cover Kind (delegation.Scope.Requests), and the request is
	// checked and filed as ForCF's, recorded under both names.
	ForCF string
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func (d *Desk) newID() (string, error) {
	r := d.Rand
	if r == nil {
		r = rand.Reader
	}
	var b [10]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("cannot draw a request id: %w", err)
	}
	return "P" + idEncoding.EncodeToString(b[:]), nil
}

// File checks a filing and registers it: a protocol number (incoming),
// the SHA-256 of the canonical filing, the request record, its audit
// entries, the open-procedure mark on the persons a residence or address
// change concerns, and the requester's notice, in one transaction. A
// refusal (a *fault.Error with a request reason, or a certificate
// identification refusal) leaves nothing and takes no number. A filing
// retried with the same key returns the first request, replayed true.
func (d *Desk) File(ctx context.Context, f Filing) (rec request.Request, replayed bool, err error) {
	if d.Issuance == nil || d.Stores == nil {
		return rec, false, errors.New("the requests' desk is not set up")
	}
	if !f.Kind.Valid() {
		return rec, false, request.Refuse(request.ReasonKindUnknown, "Il tipo di pratica %q non esiste.", f.Kind)
	}
	atts, err := request.CheckAttachments(f.Kind, f.Files)
	if err != nil {
		return rec, false, err
	}
	now := d.now()
	settings, err := d.Issuance.Settings()
	if err != nil {
		return rec, false, err
	}
	var q certificate.Requester
	var checked request.Checked
	var prev *request.Request
	var hash string
	// delegate is who files for q under deleg, when ForCF is set.
	var delegate certificate.Requester
	var deleg *delegation.Delegation
	err = d.Stores.View(ctx, func(tx store.Tx) error {
		var err error
		if q, err = d.requester(tx.Registry(), f, now); err != nil {
			return err
		}
		if strings.TrimSpace(f.ForCF) != "" {
			delegate = q
			if q, deleg, err = d.delegated(tx, q, f, now); err != nil {
				return err
			}
		}
		filing := request.Filing{Kind: f.Kind, RequesterCF: q.CF, Channel: request.Channel(f.Channel), Form: f.Form, Attachments: atts, DelegateCF: delegate.CF}
		hash = filing.Hash()
		if f.IdempotencyKey != "" {
			// A retry is answered before the form is checked again: the
			// first filing itself (an open procedure) would refuse it.
			r, err := tx.Requests().ByKey(f.IdempotencyKey)
			switch {
			case err == nil && r.SHA256 == hash:
				prev = &r
				return nil
			case err == nil:
				return fault.New(fault.Conflict, hubfault.ReasonIdempotencyConflict, "La chiave di idempotenza è già stata usata per un'altra pratica.")
			case !errors.Is(err, request.ErrNotFound):
				return err
			}
		}
		env := request.Env{Registry: tx.Registry(), Requester: q, Channel: f.Channel, Comune: settings.Issuer.Belfiore,
			Street: d.Street, Today: registry.DateOf(now.In(protocol.Rome))}
		checked, err = request.CheckForm(f.Kind, f.Form, env)
		return err
	})
	if err != nil {
		return rec, false, err
	}
	if prev != nil {
		return *prev, true, nil
	}
	id, err := d.newID()
	if err != nil {
		return rec, false, err
	}
	sum, err := hex.DecodeString(hash)
	if err != nil || len(sum) != 32 {
		return rec, false, fmt.Errorf("the filing's hash %q is not a SHA-256", hash)
	}
	rec = request.Request{ID: id, Kind: f.Kind, SHA256: hash, Channel: request.Channel(f.Channel), OperatorID: f.OperatorID,
		Actor: f.Actor.String(), RequesterCF: q.CF, Persons: checked.Persons, Form: f.Form, Attachments: atts,
		Status: request.Filed, IdempotencyKey: f.IdempotencyKey}
	if q.Person != nil {
		rec.RequesterName, rec.RequesterMail = q.Person.FullName(), q.Person.Email
	}
	if deleg != nil {
		rec.DelegateCF, rec.DelegationID = delegate.CF, deleg.ID
	}

	numbers := d.Stores.Numbering()
	n, stamped, err := numbers.Reserve(ctx, now, settings.Register)
	if err != nil {
		return request.Request{}, false, protocol.AllocationFailed(err)
	}
	// From here the number ends registered or abandoned, whatever
	// happens to ctx.
	ctx = context.WithoutCancel(ctx)
	rec.Protocol, rec.Filed = n.String(), stamped
	if f.Kind == request.AddressChange || f.Kind == request.ResidenceChange {
		rec.RegisterBy, rec.SilenceAssent = request.Deadlines(stamped, protocol.Rome)
	}
	rec.History = []request.Event{{Time: stamped, Actor: rec.Actor, Action: request.ActionFiled, Note: "protocollo " + rec.Protocol}}
	if deleg != nil {
		rec.History[0].Note += fmt.Sprintf("; presentata da %s per delega %s (art. 38 DPR 445/2000)", delegate.CF, deleg.ID)
	}
	who := rec.RequesterName
	if who == "" {
		who = q.CF
	} else {
		who += " (" + q.CF + ")"
	}
	if deleg != nil {
		who += " tramite il delegato " + delegate.CF
	}
	if f.OperatorID != "" {
		who += " presso esercente " + f.OperatorID
	}
	entry := protocol.Entry{Number: n, Time: stamped, Direction: protocol.Incoming, Correspondent: who,
		Subject: f.Kind.Title() + " — " + strings.Join(rec.Persons, ", "), DocType: "istanza anagrafica", DocSHA256: [32]byte(sum), Ref: id}
	err = d.Stores.Update(ctx, func(tx store.Tx) error {
		for _, file := range f.Files {
			if _, err := tx.Requests().PutAttachment(file.Data); err != nil {
				return err
			}
		}
		if err := tx.Protocol().Write(entry); err != nil {
			return err
		}
		if err := tx.Requests().Create(&rec); err != nil {
			return err
		}
		if err := d.mark(tx, rec, checked, registry.DateOf(stamped.In(protocol.Rome))); err != nil {
			return err
		}
		purpose := "presentazione pratica anagrafica"
		if deleg != nil {
			purpose += fmt.Sprintf(" per delega %s di %s a %s (art. 38 DPR 445/2000)", deleg.ID, deleg.DelegatorCF, delegate.CF)
			if err := d.recordDelegated(tx, rec, *deleg, delegate, f, stamped); err != nil {
				return err
			}
		}
		if err := d.audit(tx, rec, f.Actor, f.Clerk, string(f.Channel), stamped, purpose); err != nil {
			return err
		}
		return d.remind(tx, rec, "0", stamped)
	})
	if err != nil {
		if _, aerr := numbers.Abandon(ctx, n, d.now(), protocol.ReasonFailed+" (pratica "+id+")", id); aerr != nil {
			err = fmt.Errorf("%w; %w", err, aerr)
		} else if errors.Is(err, request.ErrExists) && f.IdempotencyKey != "" {
			// The same key filed at the same moment (a retry racing the
			// first try, here or on another hub): the store's unique key
			// let one through; this one answers with it.
			return d.replay(ctx, f.IdempotencyKey, hash)
		}
		return request.Request{}, false, err
	}
	if annulled, err := numbers.Registered(ctx, n, d.now()); err != nil && d.Log != nil {
		d.Log.Error("protocol numbering", "protocol", n.String(), "err", err)
	} else if d.Log != nil {
		for _, e := range annulled {
			d.Log.Warn("protocol number annulled", "protocol", e.Number.String(), "reason", e.Reason())
		}
	}
	if d.Log != nil {
		d.Log.Info("request filed", "id", rec.ID, "kind", rec.Kind, "protocol", rec.Protocol, "channel", rec.Channel, "operator", rec.OperatorID)
	}
	return rec, false, nil
}

// requester identifies who files: by evidence at a counter or a kiosk, by
// codice fiscale at the office (staff identified them in person).
func (d *Desk) requester(r registry.Reader, f Filing, now time.Time) (certificate.Requester, error) {
	switch f.Channel {
	case certificate.Counter, certificate.SelfService:
		return d.Issuance.Requester(r, f.Evidence, f.Channel, now)
	case certificate.Office:
		cf := strings.ToUpper(strings.TrimSpace(f.RequesterCF))
		if cf == "" {
			return certificate.Requester{}, request.Refuse(request.ReasonFieldMissing, "Indichi il codice fiscale del richiedente.")
		}
		p, err := r.PersonByCF(cf)
		switch {
		case err == nil:
			q := certificate.Requester{CF: p.CF, Person: p}
			return q, certificate.LoadHousehold(r, &q)
		case errors.Is(err, registry.ErrNotFound):
			return certificate.Requester{CF: cf}, nil
		default:
			return certificate.Requester{}, request.Refuse(request.ReasonFieldInvalid, "Il codice fiscale del richiedente %s non è utilizzabile.", cf)
		}
	}
	return certificate.Requester{}, request.Refuse(request.ReasonFieldInvalid, "Il canale %q non è uno sportello, una postazione self-service o l'ufficio.", f.Channel)
}

// mark sets the open-procedure flag on the persons a residence or address
// change concerns (ANPR issues no certificate while it is open), checking
// again in the writing transaction that none was opened meanwhile.
func (d *Desk) mark(tx store.Tx, rec request.Request, c request.Checked, day registry.Date) error {
	if rec.Kind != request.AddressChange && rec.Kind != request.ResidenceChange {
		return nil
	}
	if l, ok := tx.Registry().(interface{ LockForUpdate() error }); ok {
		if err := l.LockForUpdate(); err != nil {
			return err
		}
	}
	for _, seen := range c.Marked {
		p, err := tx.Registry().Person(seen.ID)
		if err != nil {
			return err
		}
		if !p.ProcedureOpen.IsZero() {
			return request.Refuse(request.ReasonProcedureOpen, "Per %s è già aperta una pratica anagrafica dal %s.", p.CF, p.ProcedureOpen.Italian())
		}
		p.ProcedureOpen = day
		if err := tx.Registry().PutPerson(p); err != nil {
			return err
		}
	}
	return nil
}

// audit records, in tx, the reads of the persons' data a step made.
func (d *Desk) audit(tx store.Tx, rec request.Request, actor audit.Actor, clerk audit.Clerk, channel string, at time.Time, purpose string) error {
	if actor.Kind == "" {
		actor = audit.Actor{Kind: audit.System, ID: "requests"}
	}
	for _, cf := range rec.Persons {
		e := audit.Entry{Time: at, Actor: actor, Subject: cf, Data: "pratica " + string(rec.Kind) + " " + rec.Protocol,
			Purpose: purpose + " (DPR 223/1989)", Channel: channel, Request: rec.ID, Clerk: clerk}
		if _, err := tx.Audit().Append(e); err != nil {
			return err
		}
	}
	return nil
}

// remind queues the requester's notification of the request's status,
// change identifying the step (its history index).
func (d *Desk) remind(tx store.Tx, rec request.Request, change string, at time.Time) error {
	note := rec.Decision
	if rec.Status == request.MoreInfo {
		note = rec.Question
	}
	r := reminder.RequestChanged{CF: rec.RequesterCF, RequestID: rec.ID, Change: change, Protocol: rec.Protocol,
		Title: rec.Kind.Title(), Status: rec.Summary().StatusText, Note: note}.Reminder()
	_, err := reminder.Enqueue(tx, r, at)
	return err
}

// delegated finds the live delegation f.ForCF gave the identified
// delegate that covers f.Kind, and returns the delegator as the requester
// the form is checked for (their household). A delegation that exists but
// covers other services, or none in force, refuses the filing.
func (d *Desk) delegated(tx store.Tx, delegate certificate.Requester, f Filing, now time.Time) (certificate.Requester, *delegation.Delegation, error) {
	forCF := strings.ToUpper(strings.TrimSpace(f.ForCF))
	given, err := tx.Delegations().Received(delegate.CF)
	if err != nil {
		return certificate.Requester{}, nil, err
	}
	var found *delegation.Delegation
	live := false
	for _, g := range given {
		if !delegation.Same(g.DelegatorCF, forCF) || !delegation.Same(g.DelegateCF, delegate.CF) || !g.Live(now) {
			continue
		}
		live = true
		if g.Scope.CoversRequest(string(f.Kind)) {
			found = &g
			break
		}
	}
	switch {
	case found == nil && live:
		return certificate.Requester{}, nil, fault.New(fault.Forbidden, delegation.ReasonOutOfScope,
			fmt.Sprintf("La delega ricevuta da %s non comprende le pratiche di tipo «%s».", forCF, f.Kind.Title()))
	case found == nil:
		return certificate.Requester{}, nil, fault.New(fault.Forbidden, delegation.ReasonNotFound,
			fmt.Sprintf("Non risulta una delega in vigore di %s alla persona identificata.", forCF))
	}
	p, err := tx.Registry().PersonByCF(found.DelegatorCF)
	if err != nil {
		return certificate.Requester{}, nil, err
	}
	q := certificate.Requester{CF: p.CF, Person: p}
	if err := certificate.LoadHousehold(tx.Registry(), &q); err != nil {
		return certificate.Requester{}, nil, err
	}
	return q, found, nil
}

// recordDelegated records, in the filing's transaction, the use of the
// delegation (refused there if it was revoked meanwhile), the delegate's
// own audit entry, and the delegator's notice that their delegate acted.
func (d *Desk) recordDelegated(tx store.Tx, rec request.Request, g delegation.Delegation, delegate certificate.Requester, f Filing, at time.Time) error {
	if err := tx.Delegations().RecordUse(delegation.Use{DelegationID: g.ID, At: at, Service: "pratica " + rec.Kind.Title(),
		Ref: rec.Protocol, Channel: string(f.Channel), Place: f.OperatorID}); err != nil {
		return err
	}
	actor := f.Actor
	if actor.Kind == "" {
		actor = audit.Actor{Kind: audit.System, ID: "requests"}
	}
	if _, err := tx.Audit().Append(audit.Entry{Time: at, Actor: actor, Subject: delegate.CF, Clerk: f.Clerk, Channel: string(f.Channel), Request: rec.ID,
		Data:    "atto per delega: pratica " + string(rec.Kind) + " " + rec.Protocol + " di " + g.DelegatorCF,
		Purpose: fmt.Sprintf("presentazione pratica anagrafica per delega %s (art. 38 DPR 445/2000)", g.ID)}); err != nil {
		return err
	}
	name := delegate.CF
	if delegate.Person != nil {
		name = delegate.Person.FullName()
	}
	_, err := reminder.Enqueue(tx, reminder.DelegationActed{DelegatorCF: g.DelegatorCF, DelegationID: g.ID, ActID: rec.ID, DelegateName: name,
		What: "pratica " + rec.Kind.Title() + " (protocollo " + rec.Protocol + ")", At: at, Place: f.OperatorID}.Reminder(), at)
	return err
}

// replay answers a filing whose idempotency key another filing stored
// first: that request when it filed the same (replayed), a conflict when
// the key was used for another filing.
func (d *Desk) replay(ctx context.Context, key, hash string) (request.Request, bool, error) {
	var prev request.Request
	err := d.Stores.View(ctx, func(tx store.Tx) (err error) { prev, err = tx.Requests().ByKey(key); return err })
	switch {
	case err != nil:
		return request.Request{}, false, err
	case prev.SHA256 != hash:
		return request.Request{}, false, fault.New(fault.Conflict, hubfault.ReasonIdempotencyConflict, "La chiave di idempotenza è già stata usata per un'altra pratica.")
	}
	return prev, true, nil
}
