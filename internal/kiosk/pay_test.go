package kiosk

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
)

// toReview brings a self-service rig to the review of a residenza for the
// citizen.
func (r *rig) toReview(t testing.TB) {
	t.Helper()
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepReview)
}

// TestPayBeforePrint: in self-service nothing is issued or printed before
// the hub says the payment arrived; the request sent then names it, under
// the payment's own key, and is written to the outbox before it is sent.
func TestPayBeforePrint(t *testing.T) {
	for _, method := range []string{api.PayAtTill, api.PayPagoPA} {
		t.Run(method, func(t *testing.T) {
			r := newRig(t, SelfService)
			r.flow.cfg.PayMethods = []string{method}
			r.toReview(t)
			if err := r.flow.Confirm(ctx); err != nil {
				t.Fatal(err)
			}
			r.step(t, StepPay)
			v := r.flow.View()
			if v.Payment == nil || v.Payment.Method != method || len(r.pay.created) != 1 {
				t.Fatalf("pay screen %+v, created %d", v.Payment, len(r.pay.created))
			}
			if method == api.PayAtTill && v.Payment.Code == "" || method == api.PayPagoPA && (v.Payment.NoticeNumber == "" || v.Payment.QR == "") {
				t.Errorf("the screen has nothing to pay with: %+v", v.Payment)
			}
			key := r.pay.created[0].Key
			// Not due yet, then due but still pending: nothing happens.
			r.flow.PollPayment(ctx)
			if r.pay.polls != 0 {
				t.Errorf("polled %d times before the poll was due", r.pay.polls)
			}
			r.clock.Add(DefaultPayPoll)
			r.flow.PollPayment(ctx)
			if r.pay.polls != 1 {
				t.Errorf("polls %d", r.pay.polls)
			}
			r.step(t, StepPay)
			if len(r.out.queued) != 0 || len(r.hub.issued) != 0 || len(r.prn.a4)+len(r.prn.receipts) != 0 {
				t.Fatalf("before the payment: queued %d, issued %d, printed %d", len(r.out.queued), len(r.hub.issued), len(r.prn.a4))
			}
			r.payLast(t)
			r.step(t, StepDone)
			if len(r.out.queued) != 1 || r.out.queued[0].PaymentID != v.Payment.ID || r.out.queued[0].Key != key {
				t.Fatalf("written %+v, want payment %s under key %s", r.out.queued, v.Payment.ID, key)
			}
			if len(r.hub.issued) != 1 || r.hub.issued[0].PaymentID != v.Payment.ID || len(r.prn.a4) != 1 || len(r.prn.receipts) != 1 {
				t.Fatalf("issued %+v, printed %d and %d", r.hub.issued, len(r.prn.a4), len(r.prn.receipts))
			}
		})
	}
}

// TestPayMethodFallback: a method the hub does not offer this kiosk
// (api.ReasonPaymentMethod) gives way to the next.
func TestPayMethodFallback(t *testing.T) {
	r := newRig(t, SelfService)
	r.pay.offer = []string{api.PayAtTill}
	r.toReview(t)
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	if v := r.flow.View(); v.Step != StepPay || v.Payment.Method != api.PayAtTill || !slices.Equal(r.pay.methods, []string{api.PayPagoPA, api.PayAtTill}) {
		t.Fatalf("step %s, payment %+v, tried %v", v.Step, v.Payment, r.pay.methods)
	}
}

// TestPayEnds: the citizen cancels, the session is wiped while waiting, or
// the payment expires: the hub's payment is cancelled (not for an
// expiry), nothing is issued, and a new "Conferma" is a new payment.
func TestPayEnds(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		r := newRig(t, SelfService)
		r.toReview(t)
		r.flow.Confirm(ctx)
		id := r.flow.View().Payment.ID
		if err := r.flow.CancelPayment(ctx); err != nil {
			t.Fatal(err)
		}
		r.step(t, StepReview)
		if !slices.Equal(r.pay.cancelled, []string{id}) || r.flow.View().Payment != nil {
			t.Fatalf("cancelled %v", r.pay.cancelled)
		}
		r.flow.Confirm(ctx)
		if v := r.flow.View(); v.Step != StepPay || v.Payment.ID == id {
			t.Fatalf("a second Conferma: step %s, payment %+v", v.Step, v.Payment)
		}
	})
	t.Run("cancel after the till took the money", func(t *testing.T) {
		// The counter confirmed the till code before the pay screen's
		// next poll, and the citizen pressed "Annulla il pagamento": the
		// hub keeps it paid, so the citizen gets what they paid for
		// rather than a review and a payment nobody can use.
		r := newRig(t, SelfService)
		r.toReview(t)
		r.flow.Confirm(ctx)
		id := r.flow.View().Payment.ID
		r.pay.set(id, api.PaymentPaid)
		if err := r.flow.CancelPayment(ctx); err != nil {
			t.Fatal(err)
		}
		r.step(t, StepDone)
		if len(r.hub.issued) != 1 || r.hub.issued[0].PaymentID != id || len(r.prn.a4) != 1 {
			t.Fatalf("issued %+v, printed %d", r.hub.issued, len(r.prn.a4))
		}
	})
	t.Run("idle wipe", func(t *testing.T) {
		r := newRig(t, SelfService)
		r.toReview(t)
		r.flow.Confirm(ctx)
		id := r.flow.View().Payment.ID
		// Paying in a banking app takes longer than the other screens'
		// minute; the pay screen's own idle time still ends it.
		r.clock.Add(2 * time.Minute)
		if r.flow.Tick() {
			t.Fatal("the pay screen was wiped after the other screens' timeout")
		}
		r.clock.Add(DefaultPayIdle)
		if !r.flow.Tick() {
			t.Fatal("the pay screen was never wiped")
		}
		r.step(t, StepStart)
		if !slices.Equal(r.pay.cancelled, []string{id}) || len(r.hub.issued) != 0 {
			t.Fatalf("cancelled %v, issued %d", r.pay.cancelled, len(r.hub.issued))
		}
	})
	t.Run("expired", func(t *testing.T) {
		r := newRig(t, SelfService)
		r.toReview(t)
		r.flow.Confirm(ctx)
		r.pay.set(r.flow.View().Payment.ID, api.PaymentExpired)
		r.clock.Add(DefaultPayPoll)
		var p *Problem
		if err := r.flow.PollPayment(ctx); !errors.As(err, &p) || p.Key != "hub_payment_expired" {
			t.Fatalf("expired: %v", err)
		}
		r.step(t, StepReview)
		if len(r.hub.issued) != 0 {
			t.Fatal("issued without a payment")
		}
	})
	t.Run("hub away while waiting", func(t *testing.T) {
		r := newRig(t, SelfService)
		r.toReview(t)
		r.flow.Confirm(ctx)
		r.hub.offline = true
		r.clock.Add(DefaultPayPoll)
		if err := r.flow.PollPayment(ctx); err != nil {
			t.Fatal(err)
		}
		r.step(t, StepPay) // the citizen may be paying: the screen waits
		r.hub.offline = false
		r.payLast(t)
		r.step(t, StepDone)
	})
}

// TestOperatorTakesNoPayment: at the counter the shop takes the money
// itself; no payment is asked of the hub.
func TestOperatorTakesNoPayment(t *testing.T) {
	r := newRig(t, Operator)
	login(r)
	r.flow.TapCard(ctx)
	r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}})
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepDone)
	if len(r.pay.created) != 0 || len(r.prn.a4) != 1 {
		t.Fatalf("payments %d, printed %d", len(r.pay.created), len(r.prn.a4))
	}
}

// TestCollectByClaimCode: with the hub away a self-service request is
// queued unpaid with a claim receipt saying it is collected here; nothing
// prints when the hub confirms it; the citizen collects it with the code
// and the same card (another card is refused), pays, and it prints.
func TestCollectByClaimCode(t *testing.T) {
	r := newRig(t, SelfService)
	r.toReview(t)
	r.hub.offline = true
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepDone)
	v := r.flow.View()
	if v.Result == nil || v.Result.Claim == "" || len(r.prn.claims) != 1 || !r.prn.claims[0].Collect {
		t.Fatalf("claim %+v, receipts %+v", v.Result, r.prn.claims)
	}
	code := v.Result.Claim
	if len(r.out.queued) != 1 || r.out.queued[0].PaymentID != "" || len(r.pay.created) != 0 {
		t.Fatalf("queued %+v, payments %d", r.out.queued, len(r.pay.created))
	}
	r.flow.Next()

	// Too early: the hub has not confirmed it.
	r.flow.StartCollect()
	var p *Problem
	if err := r.flow.Collect(ctx, code); !errors.As(err, &p) || p.Key != "collect_waiting" {
		t.Fatalf("collect before the hub confirmed: %v", err)
	}
	r.hub.offline = false
	pay := r.out.confirm(t, code, r.pay)
	if len(r.prn.a4) != 0 {
		t.Fatal("printed when the hub confirmed it, with nobody there")
	}
	if err := r.flow.Collect(ctx, code); err != nil {
		t.Fatal(err)
	}
	// Another citizen's card is refused.
	r.reader.nis = "999999999999"
	if err := r.flow.TapCard(ctx); !errors.As(err, &p) || p.Key != "collect_wrong_card" {
		t.Fatalf("another card: %v", err)
	}
	r.step(t, StepCollect)
	r.reader.nis = nisMario
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepPIN)
	if err := r.flow.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepPay)
	if v := r.flow.View(); v.Payment.ID != pay.ID || len(r.hub.issued) != 0 {
		t.Fatalf("pay screen %+v, issued %d", v.Payment, len(r.hub.issued))
	}
	r.payLast(t)
	r.step(t, StepDone)
	if len(r.hub.issued) != 1 || r.hub.issued[0].PaymentID != pay.ID || r.hub.issued[0].Key != r.out.queued[0].Key || len(r.prn.a4) != 1 {
		t.Fatalf("issued %+v, printed %d", r.hub.issued, len(r.prn.a4))
	}
	// The kept request is let go: the code cannot print a second time.
	if !slices.Equal(r.out.released, []string{code}) {
		t.Fatalf("released %v", r.out.released)
	}
	r.flow.Next()
	r.flow.StartCollect()
	if err := r.flow.Collect(ctx, code); !errors.As(err, &p) {
		t.Fatalf("a second collection: %v", err)
	}
}

// TestCollectAfterPaymentExpired: the claim receipt tells the citizen to
// collect at the kiosk whenever they come and pay then, but the payment the
// hub made when it confirmed the queued request waits only its TTL. A
// citizen who comes back after it expired gets a new payment of the kept
// request, pays it, and the certificate prints — not "ask again".
func TestCollectAfterPaymentExpired(t *testing.T) {
	r := newRig(t, SelfService)
	r.toReview(t)
	r.hub.offline = true
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	code := r.flow.View().Result.Claim
	r.flow.Next()
	r.hub.offline = false
	old := r.out.confirm(t, code, r.pay)
	r.pay.set(old.ID, api.PaymentExpired) // the citizen came back the next day

	r.flow.StartCollect()
	if err := r.flow.Collect(ctx, code); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatalf("collection after the payment expired: %v", err)
	}
	r.step(t, StepPay)
	v := r.flow.View()
	if v.Payment == nil || v.Payment.ID == old.ID || v.Payment.State != api.PaymentPending || len(r.hub.issued) != 0 {
		t.Fatalf("pay screen %+v (expired one %s), issued %d", v.Payment, old.ID, len(r.hub.issued))
	}
	if last := r.pay.created[len(r.pay.created)-1]; last.Key != r.out.queued[0].Key {
		t.Fatalf("new payment asked under key %q, the kept request's is %q", last.Key, r.out.queued[0].Key)
	}
	r.payLast(t)
	r.step(t, StepDone)
	if len(r.hub.issued) != 1 || r.hub.issued[0].PaymentID != v.Payment.ID || len(r.prn.a4) != 1 {
		t.Fatalf("issued %+v, printed %d", r.hub.issued, len(r.prn.a4))
	}
	if !slices.Equal(r.out.released, []string{code}) {
		t.Fatalf("released %v", r.out.released)
	}
}

// TestSelfServiceReprintIsOneCopy: a self-service reprint is the hub's
// COPIA, with a receipt saying so, once; a second is refused. At the
// counter a reprint is the original again, as before.
func TestSelfServiceReprintIsOneCopy(t *testing.T) {
	r := newRig(t, SelfService)
	r.toReview(t)
	r.flow.Confirm(ctx)
	r.payLast(t)
	r.step(t, StepDone)
	if err := r.flow.Reprint(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.prn.a4) != 2 || string(r.prn.a4[1]) != "%PDF-1.7 COPIA id1" || len(r.prn.receipts) != 2 || r.prn.receipts[0].Copy || !r.prn.receipts[1].Copy {
		t.Fatalf("printed %q, receipts %+v", r.prn.a4, r.prn.receipts)
	}
	var p *Problem
	if err := r.flow.Reprint(ctx); !errors.As(err, &p) || p.Key != "reprint_once" {
		t.Fatalf("a second reprint: %v", err)
	}
	r.step(t, StepDone)
	if len(r.prn.a4) != 2 {
		t.Fatalf("a second reprint printed: %d", len(r.prn.a4))
	}

	o := newRig(t, Operator)
	login(o)
	o.flow.TapCard(ctx)
	o.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}})
	o.flow.Confirm(ctx)
	for range 2 {
		if err := o.flow.Reprint(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(o.prn.a4) != 3 || string(o.prn.a4[2]) != "%PDF-1.7 id1" {
		t.Fatalf("counter reprints %q", o.prn.a4)
	}
}

// TestPaidThenHubAway: paid, then the hub went away before the request
// reached it: the claim receipt says it is paid and collected here; once
// the sender had it issued (kept, not printed), the citizen collects it
// with the code and the same card, paying nothing again.
func TestPaidThenHubAway(t *testing.T) {
	r := newRig(t, SelfService)
	r.toReview(t)
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	pay := r.flow.View().Payment
	r.pay.set(pay.ID, api.PaymentPaid)
	r.pay.hub = nil // the payment's state is read; the hub fails on the request
	r.hub.offline = true
	r.clock.Add(DefaultPayPoll)
	if err := r.flow.PollPayment(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepDone)
	v := r.flow.View()
	if v.Result == nil || v.Result.Claim == "" || !v.Result.Paid || len(r.prn.claims) != 1 || !r.prn.claims[0].Collect || !r.prn.claims[0].Paid {
		t.Fatalf("result %+v, claim receipts %+v", v.Result, r.prn.claims)
	}
	if len(r.prn.a4) != 0 || len(r.out.queued) != 1 || r.out.queued[0].PaymentID != pay.ID {
		t.Fatalf("printed %d, queued %+v", len(r.prn.a4), r.out.queued)
	}
	code := v.Result.Claim
	r.flow.Next()

	// The sender delivers it once the hub is back, keeping it for the
	// collection and printing nothing.
	r.hub.offline = false
	is, err := r.hub.Issue(ctx, r.out.queued[0])
	if err != nil {
		t.Fatal(err)
	}
	r.out.settle(code, Claimed{State: ClaimIssued, Issued: is, Kept: true})

	r.flow.StartCollect()
	if err := r.flow.Collect(ctx, code); err != nil {
		t.Fatal(err)
	}
	r.flow.TapCard(ctx)
	if err := r.flow.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepDone)
	if len(r.prn.a4) != 1 || len(r.prn.receipts) != 1 || len(r.pay.created) != 1 || !slices.Equal(r.out.released, []string{code}) {
		t.Fatalf("printed %d and %d, payments %d, released %v", len(r.prn.a4), len(r.prn.receipts), len(r.pay.created), r.out.released)
	}
}

// TestDefaultPayMethodsNotShared: the default order is no shared slice one
// kiosk's configuration could rewrite for every other.
func TestDefaultPayMethodsNotShared(t *testing.T) {
	m, err := ShopConfig{}.PayMethods()
	if err != nil {
		t.Fatal(err)
	}
	m[0] = api.PayAtTill
	if got := DefaultPayMethods(); !slices.Equal(got, []string{api.PayPagoPA, api.PayAtTill}) {
		t.Fatalf("the default changed to %v", got)
	}
}
