package kiosk

import (
	"context"
	"errors"
	"time"

	"github.com/sportello/sportello/internal/protocol"

	"github.com/sportello/sportello/internal/api"
)

// Payment in self-service (issue 15, item 4): nothing a self-service kiosk
// prints is printed before it is paid. After "Conferma" the flow asks the
// hub for a payment of the very request it will send (the hub prices it
// itself and checks the requester and eligibility as for issuing), shows
// the citizen how to pay (a short code for the shop's till, or a pagoPA
// notice with its QR), polls the hub on the flow's clock until it is paid,
// and only then writes the request, naming the payment, to the outbox and
// sends it. The operator's counter takes the money itself: no payment step
// there.

const (
	// StepPay shows how to pay and waits for the hub to say it is paid.
	StepPay Step = "pay"
	// StepCollect is self-service's "Ritira con codice": the citizen types
	// (or scans) the claim code of a request queued while the hub could
	// not be reached, then taps the same CIE.
	StepCollect Step = "collect"
)

// DefaultPayMethods is the order a self-service kiosk offers payment in
// when kiosk.json names none: a pagoPA notice first, since it needs nobody
// at the kiosk, and the shop's till when the city's hub offers no pagoPA
// service (it then refuses api.PayPagoPA with api.ReasonPaymentMethod).
// It is a function, not a shared slice, so no caller can change the
// order for every other (no package-level mutable state).
func DefaultPayMethods() []string { return []string{api.PayPagoPA, api.PayAtTill} }

// DefaultPayPoll is how often the pay screen asks the hub whether the
// payment arrived.
const DefaultPayPoll = 3 * time.Second

// DefaultPayIdle is the idle wipe on the pay screen: paying in a banking
// app or walking to the shop's till takes the citizen away from the screen
// for minutes, so the minute of the other screens would cancel nearly every
// payment. The payment's own expiry, set by the hub, bounds it as well.
const DefaultPayIdle = 5 * time.Minute

// payState is the payment the citizen is making, with the request it pays.
type payState struct {
	req      IssueRequest
	payment  *api.Payment
	view     View // the review's view: the fee lines and total, for the sale
	staff    string
	nextPoll time.Time
	// collect is the claim code of the queued request this payment is
	// for, when the citizen is collecting one (Collect); "" for a sale.
	collect string
}

// mustPay says whether a confirmed request with this total waits for a
// payment: in self-service, above zero.
func (f *Flow) mustPay(total int64) bool {
	return f.cfg.Mode == SelfService && total > 0
}

func (f *Flow) payMethods() []string {
	if len(f.cfg.PayMethods) > 0 {
		return f.cfg.PayMethods
	}
	return DefaultPayMethods()
}

// otherMethod says a refusal of one payment method is worth the next: the
// hub does not offer it to this kiosk (api.ReasonPaymentMethod), or the
// pagoPA service did not answer (api.ReasonPaymentServiceDown), when the
// till still takes money.
func otherMethod(reason string) bool {
	return reason == api.ReasonPaymentMethod || reason == api.ReasonPaymentServiceDown
}

// createPayment asks the hub for a payment of req by the first method it
// offers this kiosk.
func (f *Flow) createPayment(ctx context.Context, req IssueRequest) (*api.Payment, error) {
	return payByFirst(f.payMethods(), func(m string) (*api.Payment, error) {
		hctx, cancel := f.ctx(ctx)
		defer cancel()
		return f.deps.Payments.CreatePayment(hctx, req, m)
	})
}

// payByFirst tries create with each method in order and answers the first
// payment, going on to the next method only when the hub refused one it
// does not offer or pagoPA did not answer (otherMethod). The pay screen
// and the outbox's sender of a queued request both ask this way.
func payByFirst(methods []string, create func(method string) (*api.Payment, error)) (*api.Payment, error) {
	var err error
	for i, m := range methods {
		var p *api.Payment
		p, err = create(m)
		if r, ok := api.Refused(err); ok && otherMethod(r.Reason) && i < len(methods)-1 {
			continue
		}
		return p, err
	}
	return nil, err
}

// startPayment asks for the payment of the confirmed request and moves to
// the pay screen. With the hub unreachable the request is queued to be
// confirmed when it returns, and collected here with its claim code
// (queueForCollection). Called by Confirm within its action.
func (f *Flow) startPayment(ctx context.Context, req IssueRequest, v View, staff string) error {
	if f.deps.Payments == nil {
		return f.fail(problem("payment_unavailable", "this kiosk takes no payment, so it issues only what costs nothing", nil))
	}
	f.progress(StepWorking, 0, 2, "progress_payment")
	p, err := f.createPayment(ctx, req)
	f.noteHub(err)
	switch {
	case errors.Is(err, ErrOffline) && !rateLimited(err):
		return f.queueForCollection(ctx, req, v, staff)
	case err != nil:
		f.update(func(v *View) { v.Step = StepReview; v.Progress = Progress{} })
		return f.fail(hubProblem(err))
	}
	return f.awaitPayment(&payState{req: req, payment: p, view: v, staff: staff})
}

// awaitPayment shows ps's payment and starts polling it; a payment already
// paid (a till that took the money before the screen came) goes on at the
// next poll.
func (f *Flow) awaitPayment(ps *payState) error {
	ps.nextPoll = f.deps.Clock.Now().Add(f.payPoll())
	p := *ps.payment
	f.update(func(v *View) {
		f.pay = ps
		v.Payment = &p
		v.Step = StepPay
		v.Progress = Progress{}
	})
	return nil
}

func (f *Flow) payPoll() time.Duration {
	if f.cfg.PayPoll > 0 {
		return f.cfg.PayPoll
	}
	return DefaultPayPoll
}

func (f *Flow) payIdle() time.Duration {
	if f.cfg.PayIdle > 0 {
		return max(f.cfg.PayIdle, f.cfg.IdleTimeout)
	}
	return max(DefaultPayIdle, f.cfg.IdleTimeout)
}

// PollPayment asks the hub how the payment on the pay screen stands, when a
// poll is due by the flow's clock; the UI calls it every second. Once paid,
// the request is written to the outbox naming the payment, sent, and
// printed. It is not the citizen's activity: the idle timer runs on.
func (f *Flow) PollPayment(ctx context.Context) error {
	if !f.act.TryLock() { // an action is running; the next tick polls
		return nil
	}
	defer f.act.Unlock()
	f.mu.Lock()
	ps := f.pay
	due := ps != nil && f.v.Step == StepPay && !f.deps.Clock.Now().Before(ps.nextPoll)
	f.mu.Unlock()
	if !due {
		return nil
	}
	hctx, cancel := f.ctx(ctx)
	p, err := f.deps.Payments.Payment(hctx, ps.payment.ID)
	cancel()
	f.noteHub(err)
	f.mu.Lock()
	ps.nextPoll = f.deps.Clock.Now().Add(f.payPoll())
	f.mu.Unlock()
	if err != nil {
		if _, ok := api.Refused(err); ok {
			return f.payEnded(hubProblem(err))
		}
		// Not reached: the payment is the hub's, so the screen waits
		// and asks again; the citizen may pay meanwhile.
		f.deps.Log.Info("the payment's state could not be read; asking again", "err", err)
		return nil
	}
	switch p.State {
	case api.PaymentPaid, api.PaymentUsed:
		f.update(func(v *View) { c := *p; v.Payment = &c })
		return f.paid(ctx, ps, p)
	case api.PaymentExpired:
		return f.payEnded(problem("hub_"+api.ReasonPaymentExpired, "the payment was not made in time", nil))
	case api.PaymentCancelled:
		return f.payEnded(problem("payment_cancelled", "the payment was cancelled", nil))
	}
	f.update(func(v *View) { c := *p; v.Payment = &c })
	return nil
}

// payEnded leaves the pay screen for the review with why; the request gets
// a new key, since its payment is over.
func (f *Flow) payEnded(p *Problem) error {
	key, kerr := newKey(f.deps.Rand)
	f.update(func(v *View) {
		collecting := f.pay != nil && f.pay.collect != ""
		f.pay = nil
		v.Payment = nil
		if collecting {
			// A collection has no review to go back to.
			f.reset(true)
			return
		}
		if kerr == nil {
			f.key = key
		}
		v.Step = StepReview
	})
	return f.fail(p)
}

// paid sends the request the payment was made for, naming it, as Confirm
// sends one at the counter: written to the outbox first, then delivered,
// then printed.
func (f *Flow) paid(ctx context.Context, ps *payState, p *api.Payment) error {
	req := ps.req
	req.PaymentID = p.ID
	f.update(func(*View) { f.pay = nil })
	err := f.send(ctx, req, ps.view, ps.staff, ps.view.Preview.TotalCents)
	if ps.collect != "" && err == nil {
		f.released(ctx, ps.collect)
	}
	return err
}

// CancelPayment is the pay screen's "Annulla": the hub drops the pending
// payment and the citizen is back on the review.
func (f *Flow) CancelPayment(ctx context.Context) error {
	done, err := f.begin(StepPay)
	if err != nil {
		return err
	}
	defer done()
	f.mu.Lock()
	ps := f.pay
	f.mu.Unlock()
	f.dropPayment(ctx, ps)
	if p := f.paidMeanwhile(ctx, ps); p != nil {
		// The till took the money (or pagoPA collected it) before the
		// cancel reached the hub, which keeps a paid payment paid: the
		// citizen is standing here and gets what they paid for, not a
		// review and a payment no request can use any more.
		f.update(func(v *View) { c := *p; v.Payment = &c })
		return f.paid(ctx, ps, p)
	}
	key, kerr := newKey(f.deps.Rand)
	f.update(func(v *View) {
		f.pay = nil
		v.Payment = nil
		if ps != nil && ps.collect != "" {
			f.reset(true)
			return
		}
		if kerr == nil {
			f.key = key
		}
		v.Step = StepReview
	})
	return nil
}

// dropPayment tells the hub the citizen gave up a payment. A payment for a
// queued request being collected is left to its expiry instead: the
// citizen may come back with the claim code and pay it then.
func (f *Flow) dropPayment(ctx context.Context, ps *payState) {
	if ps == nil || ps.payment == nil || ps.collect != "" || f.deps.Payments == nil {
		return
	}
	hctx, cancel := f.ctx(ctx)
	err := f.deps.Payments.CancelPayment(hctx, ps.payment.ID)
	cancel()
	if err != nil {
		// The hub lets an unpaid payment expire by itself; nothing was
		// taken from the citizen.
		f.deps.Log.Warn("the payment given up could not be cancelled at the hub; it expires by itself", "payment", ps.payment.ID, "err", err)
	}
}

// paidMeanwhile is ps's payment when the hub says it is paid after the
// citizen gave it up; nil otherwise (or when the hub does not answer).
func (f *Flow) paidMeanwhile(ctx context.Context, ps *payState) *api.Payment {
	if ps == nil || ps.payment == nil || f.deps.Payments == nil {
		return nil
	}
	hctx, cancel := f.ctx(ctx)
	p, err := f.deps.Payments.Payment(hctx, ps.payment.ID)
	cancel()
	if err != nil || (p.State != api.PaymentPaid && p.State != api.PaymentUsed) {
		return nil
	}
	return p
}

// payWiped is called by Tick when it wiped a session on the pay screen.
func (f *Flow) payWiped(ps *payState) {
	if ps == nil {
		return
	}
	f.dropPayment(context.Background(), ps)
}

// payTimeout is the idle timeout of the current step.
func (f *Flow) idleTimeout(step Step) time.Duration {
	if step == StepPay {
		return f.payIdle()
	}
	return f.cfg.IdleTimeout
}

// spokenPay is the speech of the pay and collection screens, from the keys
// they show (internal/kiosk/ui/pay.go): the amount in words, the till code
// and the notice number spelled.
func spokenPay(s *Speech, v View, t func(string, ...any) string, line, choice func(...string)) {
	if v.Step == StepCollect {
		s.Title = t("collect_title")
		if v.Claimed != nil {
			line(Spell(v.Claimed.Code, v.Lang), t("collect_tap"))
			choice(t("start_button"), t("cancel_button"))
			return
		}
		line(t("collect_hint"))
		choice(t("collect_find"), t("cancel_button"))
		return
	}
	s.Title = t("pay_title")
	p := v.Payment
	if p == nil {
		line(t("pay_waiting"))
		return
	}
	line(t("pay_amount", EuroWords(p.AmountCents, v.Lang)))
	if p.Method == api.PayAtTill {
		line(t("pay_till"), Spell(p.Code, v.Lang))
	} else {
		line(t("pay_pagopa"), t("pay_pagopa_scan"), t("pay_notice", Spell(p.NoticeNumber, v.Lang)), t("pay_creditor", Spell(p.CreditorFiscalCode, v.Lang)))
	}
	if p.State == api.PaymentPaid || p.State == api.PaymentUsed {
		line(t("pay_paid"))
	} else {
		line(t("pay_waiting"))
	}
	if !p.Expires.IsZero() {
		line(t("pay_expires", p.Expires.In(protocol.Rome).Format("15:04")))
	}
	choice(t("pay_cancel"))
}
