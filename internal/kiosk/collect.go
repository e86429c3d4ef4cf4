package kiosk

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/printer/receipt"
)

// A self-service request made while the hub cannot be reached (issue 15,
// item 5) is never printed by itself into the kiosk's tray, where anyone
// could take it: the citizen collects it here with the claim code and the
// same CIE, and pays then. The hub issues a self-service request only
// against a paid payment (api.PaymentRequest), so:
//
//  1. At "Conferma" with the hub unreachable the request is written to the
//     outbox as a request waiting for its payment (Queue turns a
//     self-service request with a total above zero and no payment into
//     one) and the citizen gets a claim receipt saying the certificate is
//     issued once the Comune has confirmed who they are.
//  2. When the hub answers again, the outbox's sender asks it for the
//     payment of that request: the hub checks the tap, the person and the
//     eligibility as for issuing, prices it and answers the payment. The
//     request is then confirmed; the outbox keeps it, sealed, for its
//     collection (outbox.Result.Keep) and nothing is printed.
//  3. The citizen types (or scans) the claim code at this kiosk, taps the
//     same CIE (its NIS must be the queued request's: the certificate is
//     never printed for another card) and types its PIN, pays, and the
//     request is sent naming the payment and printed, as any sale is.
//
// A request the hub confirmed and issued after it was paid but before the
// kiosk could send it (a payment made, then the hub unreachable) is kept
// the same way, issued by the sender without printing, and printed at its
// collection.

// collecting is a claim being collected at this kiosk.
type collecting struct {
	code    string
	claimed *Claimed
	req     IssueRequest // the kept request, sealed in the outbox until now
}

// queueForCollection writes a self-service request the hub could not be
// asked to price to the outbox and prints its claim receipt. Called by
// Confirm within its action.
func (f *Flow) queueForCollection(ctx context.Context, req IssueRequest, v View, staff string) error {
	total := v.Preview.TotalCents
	claim, err := f.deps.Outbox.Enqueue(ctx, req, total, false)
	if err != nil {
		f.update(func(v *View) { v.Step = StepReview; v.Progress = Progress{} })
		if p := limitProblem(err); p != nil {
			return f.fail(p)
		}
		return f.fail(problem("queue_refused", "the hub is offline and the request could not be queued: "+err.Error(), err))
	}
	f.refreshQueue()
	// Nothing is taken from the citizen now, so the day's account has no
	// sale until it is paid at its collection.
	cr := receipt.Claim{Shop: f.cfg.Shop, Address: f.cfg.Address, OperatorID: f.cfg.OperatorID, Time: f.deps.Clock.Now(),
		Types: typeNames(req.Types), Fees: receiptFees(v.Preview.Lines), TotalCents: total, Code: claim, Lang: receipt.Lang(v.Lang),
		Collect: true}
	f.update(func(v *View) {
		f.claim = &cr
		v.Result = &Result{Claim: claim}
	})
	perr := f.printClaim(ctx, cr)
	f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
	if perr != nil {
		return f.fail(perr)
	}
	return nil
}

// StartCollect is the start screen's "Ritira con codice".
func (f *Flow) StartCollect() error {
	done, err := f.begin(StepStart)
	if err != nil {
		return err
	}
	defer done()
	if f.cfg.Mode != SelfService {
		return f.fail(problem("wrong_step", "at the counter claim codes are typed on the identification screen", nil))
	}
	f.update(func(v *View) { v.Step = StepCollect })
	return nil
}

// Collect finds the claim code's request. One the hub has confirmed (or
// issued) waits for the citizen's card next; one still waiting for the
// hub, or refused, is said so.
func (f *Flow) Collect(ctx context.Context, code string) error {
	done, err := f.begin(StepCollect)
	if err != nil {
		return err
	}
	defer done()
	c, err := f.deps.Outbox.Lookup(ctx, code)
	switch {
	case errors.Is(err, ErrClaimUnknown):
		return f.fail(problem("claim_unknown", err.Error(), err, strings.TrimSpace(code)))
	case err != nil:
		return f.fail(problem("claim_invalid", err.Error(), err))
	}
	switch {
	case c.State == ClaimRefused:
		reason := c.Reason
		if reason == "" {
			reason = "refused"
		}
		return f.fail(problem("collect_refused", "the Comune refused this request ("+reason+"): nothing is due; ask again or ask at a counter", nil))
	case !c.Kept && c.State == ClaimIssued:
		return f.fail(problem("collect_done", "this claim code's certificate was collected already, or is collected at the counter", nil))
	case !c.Kept:
		return f.fail(problem("collect_waiting", "the Comune has not confirmed this request yet: come back later with the code", nil))
	}
	req, err := f.deps.Outbox.Kept(ctx, c.Code)
	if err != nil {
		return f.fail(problem("collect_done", "the request of this claim code is no longer kept here: "+err.Error(), err))
	}
	f.update(func(v *View) {
		f.collect = &collecting{code: c.Code, claimed: c, req: req}
		v.Claimed = c
	})
	return nil
}

// collectTap checks that the card tapped is the one the request was made
// with (the same NIS), then asks for its PIN. Called by TapCard.
func (f *Flow) collectTap(ev *api.RequesterEvidence) error {
	f.mu.Lock()
	col := f.collect
	f.mu.Unlock()
	want := ""
	if col.req.Requester != nil {
		want = col.req.Requester.NIS
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(ev.NIS)) != 1 {
		wipeEvidence(ev)
		return f.fail(problem("collect_wrong_card", "this is not the card the request was made with: tap the same CIE", nil))
	}
	f.update(func(v *View) {
		wipeEvidence(f.requester)
		f.requester = ev
		v.Step = StepPIN
	})
	return nil
}

// collectPIN goes on once the card took its PIN: a confirmed request is
// paid first (the pay screen), an issued one is printed. Called by
// EnterPIN within its action.
func (f *Flow) collectPIN(ctx context.Context) error {
	f.mu.Lock()
	col := f.collect
	lang := f.v.Lang
	f.mu.Unlock()
	c := col.claimed
	req := col.req
	b, err := certificate.Fees(certificate.FeeRequest{Types: req.Types, Exemption: req.Exemption, ServiceCents: f.cfg.ServiceCents,
		Channel: certificate.SelfService, Use: req.Use}, f.cfg.Policy)
	if err != nil {
		return f.fail(problem("collect_done", "the queued request's fees cannot be shown: "+err.Error(), err))
	}
	if c.Issued != nil && c.Issued.ID != "" {
		return f.collectIssued(ctx, col)
	}
	if c.Payment == nil || f.deps.Payments == nil {
		return f.fail(problem("payment_unavailable", "this kiosk takes no payment, so it issues only what costs nothing", nil))
	}
	hctx, cancel := f.ctx(ctx)
	p, err := f.deps.Payments.Payment(hctx, c.Payment.ID)
	cancel()
	f.noteHub(err)
	if err != nil {
		// The card is checked: back to its prompt, to try again.
		f.update(func(v *View) { v.Step = StepCollect })
		return f.fail(hubProblem(err))
	}
	if p.State == api.PaymentExpired || p.State == api.PaymentCancelled {
		// The claim receipt says: collect it here with the code and the
		// CIE, and pay then — whenever the citizen comes back. The payment
		// the hub made when it confirmed the request waits only its TTL
		// (payment.DefaultTTL), so a later collection asks for a new one
		// of the kept request under its own key: the hub frees the key of
		// an expired payment and checks the request again as for issuing.
		np, err := f.createPayment(ctx, req)
		f.noteHub(err)
		switch {
		case isRefused(err):
			// Refused now (no longer eligible, say): nothing is due.
			f.update(func(*View) { f.reset(true) })
			return f.fail(hubProblem(err))
		case err != nil:
			f.update(func(v *View) { v.Step = StepCollect })
			return f.fail(hubProblem(err))
		}
		p = np
	}
	view := View{Lang: lang, Preview: &b, Choice: Choice{SubjectCF: req.SubjectCF, Types: req.Types, Exemption: req.Exemption, Use: req.Use, At: req.At}}
	f.update(func(v *View) {
		v.Preview, v.Choice = &b, view.Choice
	})
	ps := &payState{req: req, payment: p, view: view, collect: col.code}
	if err := f.awaitPayment(ps); err != nil {
		return err
	}
	if p.State == api.PaymentPaid || p.State == api.PaymentUsed {
		// Paid already (at the till before the card was tapped): send it.
		return f.paid(ctx, ps, p)
	}
	return nil
}

// collectIssued prints a request the hub issued after it was paid while the
// kiosk could not send it, then forgets it.
func (f *Flow) collectIssued(ctx context.Context, col *collecting) error {
	is := col.claimed.Issued
	f.update(func(v *View) { v.Result = &Result{Issued: is, Claim: col.code} })
	f.progress(StepWorking, 1, 4, "progress_downloading")
	hctx, cancel := f.ctx(ctx)
	pdf, err := f.deps.Hub.PDF(hctx, is.ID)
	cancel()
	f.noteHub(err)
	if err != nil {
		f.update(func(v *View) { v.Step = StepCollect; v.Progress = Progress{} })
		return f.fail(problem("pdf_unavailable", "the certificate was issued but could not be downloaded: try again in a moment", err))
	}
	rc := f.receipt(is, "", f.View().Lang)
	f.mu.Lock()
	f.pdf, f.rcpt = pdf, &rc
	f.mu.Unlock()
	perr := f.print(ctx, is, pdf, rc)
	f.released(ctx, col.code)
	f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
	if perr != nil {
		return f.fail(perr)
	}
	return nil
}

// released forgets a collected claim's kept request: the certificate is in
// the citizen's hands, or in the spool for a reprint.
func (f *Flow) released(ctx context.Context, code string) {
	if err := f.deps.Outbox.Release(ctx, code); err != nil {
		f.deps.Log.Warn("a collected request could not be released from the outbox", "claim", code, "err", err)
	}
	f.mu.Lock()
	f.collect = nil
	f.mu.Unlock()
}
