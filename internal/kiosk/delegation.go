package kiosk

import (
	"context"
	"errors"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/delegation"
)

// Steps of the citizen's own records (issue 17): their delegations, given
// and received, and their dossier.
const (
	StepDelegations Step = "delegations"
	StepDossier     Step = "dossier"
)

// RecordsHub is a Hub that serves a citizen's delegations and dossier.
type RecordsHub interface {
	GiveDelegation(ctx context.Context, req api.DelegationRequest, idemKey string) (*api.Delegation, error)
	Delegations(ctx context.Context, req api.DelegationsRequest) (*api.Delegations, error)
	RevokeDelegation(ctx context.Context, id string, req api.DelegationsRequest) (*api.Delegation, error)
	Dossier(ctx context.Context, q api.DossierQuery) (*api.Dossier, error)
	DossierPDF(ctx context.Context, q api.DossierQuery) ([]byte, error)
}

// GiveDelegation implements RecordsHub.
func (h *ClientHub) GiveDelegation(ctx context.Context, req api.DelegationRequest, idemKey string) (*api.Delegation, error) {
	d, err := h.C.GiveDelegation(ctx, req, idemKey)
	return d, clientErr(err)
}

// Delegations implements RecordsHub.
func (h *ClientHub) Delegations(ctx context.Context, req api.DelegationsRequest) (*api.Delegations, error) {
	l, err := h.C.Delegations(ctx, req)
	return l, clientErr(err)
}

// RevokeDelegation implements RecordsHub.
func (h *ClientHub) RevokeDelegation(ctx context.Context, id string, req api.DelegationsRequest) (*api.Delegation, error) {
	d, err := h.C.RevokeDelegation(ctx, id, req)
	return d, clientErr(err)
}

// Dossier implements RecordsHub.
func (h *ClientHub) Dossier(ctx context.Context, q api.DossierQuery) (*api.Dossier, error) {
	d, err := h.C.Dossier(ctx, q)
	return d, clientErr(err)
}

// DossierPDF implements RecordsHub.
func (h *ClientHub) DossierPDF(ctx context.Context, q api.DossierQuery) ([]byte, error) {
	b, err := h.C.DossierPDF(ctx, q)
	return b, clientErr(err)
}

// DelegableCertificates are the certificate types the delegation screen
// offers, and DelegableRequests the request kinds: those the hub accepts
// in a delegation's scope (a DAT or a convivenza is declared in person).
func DelegableCertificates() []certificate.Type { return certificate.Types() }

// DelegableRequests: see DelegableCertificates.
func DelegableRequests() []string { return delegation.DelegableRequests() }

// Delegation is what the citizen chooses on the delegation screen.
type Delegation struct {
	DelegateCF   string
	Certificates []string
	Requests     []string
	Appointments bool
	Until        string // as typed: 28/02/2027, or 2027-02-28
}

// records returns the hub of the citizen's records and their evidence, or
// the problem that stops them (no such hub, not identified, offline).
func (f *Flow) records(what string) (RecordsHub, *api.RequesterEvidence, string, *Problem) {
	h, ok := f.deps.Hub.(RecordsHub)
	if !ok {
		return nil, nil, "", problem(what+"_unavailable", "this kiosk's hub connection cannot reach the citizen's "+what, nil)
	}
	f.mu.Lock()
	ev := cloneEvidence(f.requester)
	f.mu.Unlock()
	channel := api.ChannelCounter
	if f.cfg.Mode == SelfService {
		channel = api.ChannelSelfService
	}
	if ev == nil || (channel == api.ChannelSelfService && !ev.PINProved) {
		wipeEvidence(ev)
		return nil, nil, "", problem(what+"_identify", "the citizen's "+what+" are shown only after their CIE and PIN", nil)
	}
	return h, ev, channel, nil
}

// recordsProblem is the problem of a failed call for the citizen's
// records: offline has its own sentence, since nothing can be queued.
func recordsProblem(what string, err error) *Problem {
	if errors.Is(err, ErrOffline) && !rateLimited(err) {
		return problem(what+"_offline", "the hub cannot be reached, and the citizen's "+what+" are kept only there", err)
	}
	return hubProblem(err)
}

// ShowDelegations shows the identified citizen the delegations they gave
// and received, with every act done under each, and lets them give and
// revoke them: at the self-service kiosk after CIE and PIN, at a counter
// after the clerk identified them.
func (f *Flow) ShowDelegations(ctx context.Context) error {
	done, err := f.begin(StepChoose, StepDossier, StepDelegations)
	if err != nil {
		return err
	}
	defer done()
	return f.loadDelegations(ctx)
}

func (f *Flow) loadDelegations(ctx context.Context) error {
	h, ev, channel, p := f.records("delegations")
	if p != nil {
		return f.fail(p)
	}
	defer wipeEvidence(ev)
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	l, err := h.Delegations(hctx, api.DelegationsRequest{Requester: *ev, Channel: channel})
	f.noteHub(err)
	if err != nil {
		return f.fail(recordsProblem("delegations", err))
	}
	f.update(func(v *View) { v.Step, v.Delegations, v.Problem = StepDelegations, l, nil })
	return nil
}

// GiveDelegation gives the delegation d from the identified citizen, then
// shows their delegations again with it. A refusal (to oneself, to a
// minor, a past date, a request the law wants made in person) stays on
// the screen with its sentence.
func (f *Flow) GiveDelegation(ctx context.Context, d Delegation) error {
	done, err := f.begin(StepDelegations)
	if err != nil {
		return err
	}
	defer done()
	h, ev, channel, p := f.records("delegations")
	if p != nil {
		return f.fail(p)
	}
	defer wipeEvidence(ev)
	// The date as the citizen types it (28/02/2027); the hub speaks ISO.
	until, err := ParseDay(d.Until)
	if err != nil {
		return f.fail(problem("delegations_until_invalid", err.Error(), err))
	}
	key, err := newKey(f.deps.Rand)
	if err != nil {
		return f.fail(problem("delegations_unavailable", err.Error(), err))
	}
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	_, err = h.GiveDelegation(hctx, api.DelegationRequest{Requester: *ev, Channel: channel, DelegateCF: strings.ToUpper(strings.TrimSpace(d.DelegateCF)),
		Scope: api.DelegationScope{Certificates: d.Certificates, Requests: d.Requests, Appointments: d.Appointments}, Until: until.String()}, key)
	f.noteHub(err)
	if err != nil {
		return f.fail(recordsProblem("delegations", err))
	}
	return f.loadDelegations(ctx)
}

// RevokeDelegation revokes delegation id, which the identified citizen
// gave, and shows their delegations again.
func (f *Flow) RevokeDelegation(ctx context.Context, id string) error {
	done, err := f.begin(StepDelegations)
	if err != nil {
		return err
	}
	defer done()
	h, ev, channel, p := f.records("delegations")
	if p != nil {
		return f.fail(p)
	}
	defer wipeEvidence(ev)
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	_, err = h.RevokeDelegation(hctx, id, api.DelegationsRequest{Requester: *ev, Channel: channel})
	f.noteHub(err)
	if err != nil {
		return f.fail(recordsProblem("delegations", err))
	}
	return f.loadDelegations(ctx)
}

// ShowDossier shows the identified citizen their dossier.
func (f *Flow) ShowDossier(ctx context.Context) error {
	done, err := f.begin(StepChoose)
	if err != nil {
		return err
	}
	defer done()
	h, ev, channel, p := f.records("dossier")
	if p != nil {
		return f.fail(p)
	}
	defer wipeEvidence(ev)
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	d, err := h.Dossier(hctx, api.DossierQuery{Requester: *ev, Channel: channel})
	f.noteHub(err)
	if err != nil {
		return f.fail(recordsProblem("dossier", err))
	}
	f.update(func(v *View) { v.Step, v.Dossier, v.Problem = StepDossier, d, nil })
	return nil
}

// PrintDossier prints the dossier on the A4 printer at the citizen's
// request: at a counter only, by the clerk, since a self-service kiosk
// prints nothing a passer-by could pick up.
func (f *Flow) PrintDossier(ctx context.Context) error {
	done, err := f.begin(StepDossier)
	if err != nil {
		return err
	}
	defer done()
	if f.cfg.Mode != Operator {
		return f.fail(problem("dossier_print_counter", "the dossier is printed only at a counter, by the clerk", nil))
	}
	h, ev, channel, p := f.records("dossier")
	if p != nil {
		return f.fail(p)
	}
	defer wipeEvidence(ev)
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	pdf, err := h.DossierPDF(hctx, api.DossierQuery{Requester: *ev, Channel: channel})
	f.noteHub(err)
	if err != nil {
		return f.fail(recordsProblem("dossier", err))
	}
	f.mu.Lock()
	cf := ""
	if f.v.Dossier != nil {
		cf = f.v.Dossier.Person.CF
	}
	f.mu.Unlock()
	pctx, pcancel := f.ctx(ctx)
	defer pcancel()
	if err := f.deps.Printers.PrintA4(pctx, "fascicolo-"+cf, pdf); err != nil {
		return f.fail(problem("dossier_print_failed", err.Error(), err))
	}
	return nil
}

// CloseRecords goes back from the delegations, the dossier or the requests to the
// citizen's choices.
func (f *Flow) CloseRecords() error {
	done, err := f.begin(StepDelegations, StepDossier, StepRequests, StepRequestFiled)
	if err != nil {
		return err
	}
	defer done()
	f.update(func(v *View) { v.Step, v.Delegations, v.Dossier, v.Filed = StepChoose, nil, nil, nil })
	return nil
}

// DelegationActive is the state of a delegation that may be used and
// revoked (api.Delegation.State).
const DelegationActive = "attiva"

func nameOrCF(name, cf string) string {
	if name != "" {
		return name
	}
	return cf
}
