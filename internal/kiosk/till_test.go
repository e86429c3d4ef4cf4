package kiosk

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
)

// tillFake is the hub's payments as a shop's counter sees them: the
// till payments of its self-service kiosks waiting to be confirmed.
type tillFake struct {
	mu        sync.Mutex
	pending   []api.Payment
	confirmed []string // codes, as the hub received them
	offline   bool
}

func (p *tillFake) CreatePayment(context.Context, IssueRequest, string) (*api.Payment, error) {
	return nil, fmt.Errorf("not at a counter")
}
func (p *tillFake) Payment(context.Context, string) (*api.Payment, error) {
	return nil, fmt.Errorf("not at a counter")
}
func (p *tillFake) CancelPayment(context.Context, string) error { return nil }

func (p *tillFake) ConfirmTill(_ context.Context, code string) (*api.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.offline {
		return nil, fmt.Errorf("%w: dial refused", ErrOffline)
	}
	p.confirmed = append(p.confirmed, code)
	for i, q := range p.pending {
		if q.Code == code {
			p.pending = append(p.pending[:i:i], p.pending[i+1:]...)
			q.State = api.PaymentPaid
			return &q, nil
		}
	}
	return nil, &Refusal{Status: 404, Reason: api.ReasonPaymentUnknown, Message: "no payment of this shop has this code"}
}

func (p *tillFake) PendingTill(context.Context) ([]api.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.offline {
		return nil, fmt.Errorf("%w: dial refused", ErrOffline)
	}
	return append([]api.Payment(nil), p.pending...), nil
}

func tillRig(t *testing.T) (*rig, *tillFake) {
	t.Helper()
	r := newRig(t, Operator)
	pay := &tillFake{pending: []api.Payment{
		{ID: "pay-2", Method: api.PayAtTill, State: api.PaymentPending, AmountCents: 1652, Code: "H7KM4Q", Created: testNow.Add(-2 * time.Minute),
			Types: []string{"residenza"}},
		{ID: "pay-1", Method: api.PayAtTill, State: api.PaymentPending, AmountCents: 52, Code: "B3NR8T", Created: testNow.Add(-5 * time.Minute),
			Types: []string{"stato_di_famiglia"}},
	}}
	var err error
	r.flow, err = New(Config{Mode: Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150},
		Deps{Hub: r.hub, Reader: r.reader, Printers: r.prn, Outbox: r.out, Journal: r.journal, Clock: r.clock, Payments: pay})
	if err != nil {
		t.Fatal(err)
	}
	return r, pay
}

// TestTillConfirmation: the counter's clerk sees how many till payments
// of the shop's self-service kiosks wait, lists them (oldest first, with
// amount and what is paid for), and confirms one by its code as typed or
// scanned; the hub gets the code, the list shrinks, the day's account has
// the money as a till payment. A code no payment has is refused with the
// catalogue's Italian sentence; an empty code never reaches the hub.
// Before, the counter had no way to confirm a till payment.
func TestTillConfirmation(t *testing.T) {
	ctx := context.Background()
	r, pay := tillRig(t)
	if err := r.flow.ShowTill(ctx); err == nil {
		t.Fatal("till payments shown before a clerk logged in")
	}
	if err := r.logIn(); err != nil {
		t.Fatal(err)
	}
	r.flow.RefreshStatus(ctx)
	if n := r.flow.View().Status.TillPending; n != 2 {
		t.Fatalf("the identification screen counts %d till payments waiting, want 2", n)
	}
	if err := r.flow.ShowTill(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepTill)
	v := r.flow.View()
	if len(v.Till.Pending) != 2 || v.Till.Pending[0].ID != "pay-1" {
		t.Fatalf("till list %+v, want both, oldest first", v.Till.Pending)
	}
	wantProblem(t, "no code", r.flow.ConfirmTill(ctx, "  "), "till_code_missing")
	err := r.flow.ConfirmTill(ctx, "ZZZ999")
	wantProblem(t, "unknown code", err, "hub_payment_unknown")
	cat, cerr := LoadCatalog(assets.FS, "i18n")
	if cerr != nil {
		t.Fatal(cerr)
	}
	if s := cat.Problem(Italian, r.flow.View().Problem); !strings.Contains(s, "codice") || strings.Contains(s, "no payment") {
		t.Errorf("the clerk reads %q, not the Italian sentence", s)
	}
	// Typed in groups, lower case, with the scanner's Enter.
	if err := r.flow.ConfirmTill(ctx, "h7k-m4q\n"); err != nil {
		t.Fatal(err)
	}
	if got := pay.confirmed[len(pay.confirmed)-1]; got != "H7KM4Q" {
		t.Errorf("the hub got code %q, want H7KM4Q", got)
	}
	v = r.flow.View()
	if v.Step != StepTill || v.Till.Confirmed == nil || v.Till.Confirmed.ID != "pay-2" || len(v.Till.Pending) != 1 || v.Status.TillPending != 1 {
		t.Errorf("after the confirmation: step %s, till %+v, count %d", v.Step, v.Till, v.Status.TillPending)
	}
	if err := r.flow.CloseTill(); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepIdentify)
	// A sale at the counter too; the day's account by method.
	reviewedLoggedIn(t, r)
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	r.flow.Next()
	if err := r.flow.ShowSummary(); err != nil {
		t.Fatal(err)
	}
	s := r.flow.View().Summary
	if s.TillPayments != 1 || s.ByMethod[MethodTill] != 1652 || s.ByMethod[MethodCounter] != 1802 || s.Collected != 1652+1802 || s.Transactions != 1 {
		t.Errorf("summary %+v: want one till payment of 16,52 and one counter sale of 18,02", s)
	}
	if s.State != 1600 || s.Shop != 150 {
		t.Errorf("shares %d/%d: a till payment must not count in the counter's shares", s.State, s.Shop)
	}
}

// reviewedLoggedIn identifies Mario by card and reviews a residenza, the
// clerk being logged in already.
func reviewedLoggedIn(t *testing.T, r *rig) {
	t.Helper()
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
}

// TestSummaryUpdatesWhileOpen: the day's summary on the screen follows a
// queued sale the outbox's sender settles in the background and a sale
// journaled meanwhile, without leaving the screen. Before, it kept the
// numbers of the moment it was opened.
func TestSummaryUpdatesWhileOpen(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, Operator)
	reviewed(r)
	r.hub.offline = true
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	claim := r.flow.View().Result.Claim
	r.flow.Next()
	r.hub.offline = false
	if err := r.flow.ShowSummary(); err != nil {
		t.Fatal(err)
	}
	if s := r.flow.View().Summary; s.Queued != 1 || len(s.Protocols) != 0 {
		t.Fatalf("summary before: %+v", s)
	}
	b, _ := certificate.Fees(certificate.FeeRequest{Types: []certificate.Type{certificate.Residenza}, ServiceCents: 150, Channel: certificate.Counter}, certificate.Policy{})
	r.flow.Settle(Claimed{Code: claim, State: ClaimIssued, Settled: testNow, Issued: &Issued{Protocol: "2026/0000077", Types: []string{"residenza"}, Fees: b.Lines, TotalCents: b.TotalCents}})
	s := r.flow.View().Summary
	if s.Queued != 0 || len(s.Protocols) != 1 || s.Protocols[0] != "2026/0000077" {
		t.Errorf("the open summary did not follow the settlement: %+v", s)
	}
	r.journal.Append(Sale{Time: testNow, Protocol: "2026/0000078", Types: []string{"nascita"}, Fees: []fees.Line{{Kind: fees.Service, Cents: 150}}, Total: 150})
	r.flow.RefreshStatus(ctx)
	if s := r.flow.View().Summary; s.Transactions != 2 || s.ByType["nascita"] != 1 {
		t.Errorf("the open summary did not follow the journal at the status poll: %+v", s)
	}
	r.step(t, StepSummary)
}
