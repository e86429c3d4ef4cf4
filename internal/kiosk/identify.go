package kiosk

import (
	"context"
	"errors"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/codicefiscale"
)

// TapCard reads the citizen's CIE. In operator mode the verified NIS
// identifies the citizen at once; in self-service the PIN comes next.
func (f *Flow) TapCard(ctx context.Context) error {
	done, err := f.begin(StepStart, StepIdentify, StepCollect)
	if err != nil {
		return err
	}
	defer done()
	rctx, cancel := f.ctx(ctx)
	defer cancel()
	ev, err := f.deps.Reader.ReadCard(rctx)
	if err != nil {
		return f.fail(cardProblem(err))
	}
	f.mu.Lock()
	collecting := f.collect != nil && f.v.Step == StepCollect
	f.mu.Unlock()
	if collecting {
		return f.collectTap(ev) // collect.go: the same card as the request's
	}
	if f.cfg.Mode == SelfService {
		f.update(func(v *View) {
			wipeEvidence(f.requester)
			f.requester = ev
			v.Step = StepPIN
		})
		return nil
	}
	return f.lookup(ctx, ev, certificate.Counter)
}

func cardProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return problem("card_timeout", "no card was presented in time", err)
	}
	return problem("card_unreadable", "the card could not be read: "+err.Error(), err)
}

// pinFormat refuses what cannot be a CIE PIN before it reaches the card, so a
// typo never costs one of the card's tries; the citizen's and the clerk's
// PIN are the same kind.
func pinFormat(pin string) *Problem {
	if len(pin) != 8 || strings.Trim(pin, "0123456789") != "" {
		return problem("cie_pin_format", "the CIE PIN is 8 digits", nil)
	}
	return nil
}

// EnterPIN checks the self-service citizen's CIE PIN, then identifies them.
func (f *Flow) EnterPIN(ctx context.Context, pin string) error {
	done, err := f.begin(StepPIN)
	if err != nil {
		return err
	}
	defer done()
	if p := pinFormat(pin); p != nil {
		return f.fail(p)
	}
	rctx, cancel := f.ctx(ctx)
	defer cancel()
	if err := f.deps.Reader.VerifyPIN(rctx, pin); err != nil {
		var pe *PINError
		switch {
		case errors.As(err, &pe) && pe.Blocked:
			f.mu.Lock()
			f.reset(true)
			f.mu.Unlock()
			return f.fail(problem("cie_pin_blocked", pe.Error(), err))
		case errors.As(err, &pe):
			return f.fail(problem("cie_pin_wrong", pe.Error(), err, pe.TriesLeft))
		}
		return f.fail(cardProblem(err))
	}
	// The card took the PIN: the tap is the citizen's own, which the hub
	// requires of self-service.
	f.mu.Lock()
	ev := f.requester
	if ev != nil {
		ev.PINProved = true
	}
	f.mu.Unlock()
	if ev == nil {
		return f.fail(problem("card_unreadable", "tap the card again before typing the PIN", nil))
	}
	f.mu.Lock()
	collecting := f.collect != nil
	f.mu.Unlock()
	if collecting {
		return f.collectPIN(ctx) // collect.go: pay, then print
	}
	return f.lookup(ctx, ev, certificate.SelfService)
}

// IdentifyByCF identifies the citizen at the counter by codice fiscale and
// the number of the document the operator has checked.
func (f *Flow) IdentifyByCF(ctx context.Context, cf, document string) error {
	done, err := f.begin(StepIdentify)
	if err != nil {
		return err
	}
	defer done()
	if f.cfg.Mode != Operator {
		return f.fail(problem("wrong_step", "self-service identifies citizens by CIE and PIN only", nil))
	}
	cf = strings.ToUpper(strings.TrimSpace(cf))
	document = strings.ToUpper(strings.TrimSpace(document))
	if err := codicefiscale.Validate(cf); err != nil {
		return f.fail(cfProblem(cf, err))
	}
	if len(document) < 5 {
		return f.fail(problem("document_missing", "type the number of the identity document the citizen shows", nil))
	}
	return f.lookup(ctx, &api.RequesterEvidence{Method: api.EvidenceDocument, CF: cf, Document: document}, certificate.Counter)
}

// lookup identifies the citizen at the hub with ev and, when the hub knows
// them, keeps ev as this visit's requester.
func (f *Flow) lookup(ctx context.Context, ev *api.RequesterEvidence, channel certificate.Channel) error {
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	p, err := f.deps.Hub.LookupPerson(hctx, PersonQuery{Requester: *cloneEvidence(ev), Channel: channel})
	types := f.cfg.Types
	if err != nil {
		f.noteHub(err)
		if !errors.Is(err, ErrOffline) || rateLimited(err) {
			return f.fail(hubProblem(err))
		}
		// The hub is away: a customer the kiosk can identify itself is
		// served for themselves, the request queued (offline.go).
		var perr *Problem
		if p, perr = f.provisional(ev); perr != nil {
			return f.fail(perr)
		}
		types = OfflineTypes(types)
	} else {
		f.noteHub(nil)
	}
	f.update(func(v *View) {
		if f.requester != ev {
			wipeEvidence(f.requester)
		}
		f.requester = ev
		v.Person = p
		v.Types = types
		v.Choice = Choice{SubjectCF: p.CF}
		v.Subject = p.Name()
		if p.Provisional != "" {
			v.Subject = p.ProvisionalLabel()
		}
		v.Step = StepChoose
	})
	return nil
}

func hubProblem(err error) *Problem {
	r, refused := api.Refused(err)
	switch {
	case refused:
		return problem("hub_"+r.Reason, r.Message, err)
	case rateLimited(err):
		return problem("hub_rate_limited", "the hub asks this device to slow down: try again in a moment", err)
	case errors.Is(err, ErrOffline):
		return problem("hub_offline", "the hub cannot be reached; try again in a moment", err)
	}
	return problem("hub_error", err.Error(), err)
}

// noteHub keeps the status bar's hub light in step with the last call.
func (f *Flow) noteHub(err error) {
	online := err == nil || !errors.Is(err, ErrOffline) || rateLimited(err)
	f.update(func(v *View) { v.Status.HubOnline, v.Status.HubChecked = online, true })
}
