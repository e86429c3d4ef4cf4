package kiosk

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/outbox"
)

// TestOfflineLimitsRefuseWithTheirReason: the kiosk's outbox takes the
// city's offline limits from the agreement (the defaults when the hub never
// gave any), and a sale past one is refused with a sentence naming the
// limit and its value, in Italian and English.
func TestOfflineLimitsRefuseWithTheirReason(t *testing.T) {
	if got := OutboxLimits(nil); got.MaxOperationCents != 5000 || got.MaxAmountCents != 50000 || got.MaxCount != 100 || got.MaxAge != 24*time.Hour {
		t.Errorf("no agreement: %+v, want the defaults", got)
	}
	a := &Agreement{Offline: &operators.OfflineLimits{OperationCents: 2000, TotalCents: 4000, Count: 3, AgeHours: 8}}
	lim := OutboxLimits(a)
	if lim.MaxOperationCents != 2000 || lim.MaxAmountCents != 4000 || lim.MaxCount != 3 || lim.MaxAge != 8*time.Hour {
		t.Fatalf("the city's: %+v", lim)
	}
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	if err := ob.SetLimits(lim); err != nil {
		t.Fatal(err)
	}
	q := &Queue{Outbox: ob}
	enqueue := func(key string, cents int64) error {
		_, err := q.Outbox.Enqueue(context.Background(), outbox.Op{Kind: QueueKind, IdempotencyKey: key, Payload: []byte("{}"), PersonalData: true, AmountCents: cents})
		return err
	}
	// A million euros in one sale.
	err = enqueue("huge", 100000000)
	p := limitProblem(err)
	if p == nil || p.Key != "offline_limit_max_operation_amount" {
		t.Fatalf("a sale over the cap: %v (%+v)", err, p)
	}
	if it, en := cat.T(Italian, p.Key, p.Args...), cat.T(English, p.Key, p.Args...); !strings.Contains(it, "20,00 EUR") || !strings.Contains(en, "at most 20,00 EUR") {
		t.Errorf("the sentences do not name the cap: %q / %q", it, en)
	}
	if err := enqueue("a", 1852); err != nil {
		t.Fatal(err)
	}
	if err := enqueue("b", 1852); err != nil {
		t.Fatal(err)
	}
	p = limitProblem(enqueue("c", 1852))
	if p == nil || p.Key != "offline_limit_max_amount" {
		t.Fatalf("a sale over the total: %+v", p)
	}
	if en := cat.T(English, p.Key, p.Args...); !strings.Contains(en, "at most 40,00 EUR") || !strings.Contains(en, "37,04 EUR are already waiting") {
		t.Errorf("the total's sentence: %q", en)
	}
	if limitProblem(context.Canceled) != nil {
		t.Error("a plain error taken for a limit")
	}
	// Every limit kind has its sentence, with the arguments it is given.
	for _, kind := range []outbox.LimitKind{outbox.LimitOperationAmount, outbox.LimitAmount, outbox.LimitCount, outbox.LimitAge, "new_kind"} {
		p := limitProblem(&outbox.LimitError{Kind: kind, Limits: lim})
		for _, l := range []Lang{Italian, English} {
			if s := cat.T(l, p.Key, p.Args...); s == p.Key || strings.Contains(s, "%!") {
				t.Errorf("%s in %s: %q", kind, l, s)
			}
		}
	}
}

// TestFlowRefusesPastOfflineLimits: at the counter, with the hub away, a
// sale over the cap per sale, or one that would take what is waiting over
// the total cap, is refused on the review screen with the limit named; a
// sale within them is queued with its claim code.
func TestFlowRefusesPastOfflineLimits(t *testing.T) {
	r := newRig(t, Operator)
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{Key: make([]byte, 32), Clock: &skewClock{t: testNow}})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	cat, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Mode: Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150}
	r.flow, err = New(cfg, Deps{Hub: r.hub, Reader: r.reader, Printers: r.prn, Outbox: &Queue{Outbox: ob, Hub: r.hub}, Journal: r.journal, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	first := true
	confirm := func() (*Problem, *Result) {
		t.Helper()
		if first {
			reviewed(r)
			first = false
		} else {
			r.flow.TapCard(ctx)
			r.flow.Choose(Choice{SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}})
		}
		r.hub.offline = true // the line goes as the operator confirms
		err := r.flow.Confirm(ctx)
		r.hub.offline = false
		var p *Problem
		errors.As(err, &p)
		v := r.flow.View()
		r.flow.Next()
		return p, v.Result
	}

	ob.SetLimits(OutboxLimits(&Agreement{Offline: &operators.OfflineLimits{OperationCents: 1000}}))
	p, _ := confirm()
	if p == nil || p.Key != "offline_limit_max_operation_amount" {
		t.Fatalf("a sale over the cap per sale: %+v", p)
	}
	if s := cat.T(Italian, p.Key, p.Args...); !strings.Contains(s, "al massimo 10,00 EUR") {
		t.Errorf("the operator reads %q; it does not name the cap", s)
	}
	if st, _ := ob.Stats(); st.Pending != 0 {
		t.Errorf("a refused sale was queued: %+v", st)
	}

	ob.SetLimits(OutboxLimits(&Agreement{Offline: &operators.OfflineLimits{OperationCents: 5000, TotalCents: 3000}}))
	if p, res := confirm(); p != nil || res == nil || res.Claim == "" {
		t.Fatalf("a sale within the limits: %+v %+v, want it queued with a claim code", p, res)
	}
	p, _ = confirm()
	if p == nil || p.Key != "offline_limit_max_amount" {
		t.Fatalf("a sale over the total cap: %+v", p)
	}
	if s := cat.T(English, p.Key, p.Args...); !strings.Contains(s, "at most 30,00 EUR") {
		t.Errorf("the operator reads %q; it does not name the total cap", s)
	}
}

// TestQueueCountsSetAside: the status bar's count of sales set aside is the
// outbox's list of them.
func TestQueueCountsSetAside(t *testing.T) {
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	q := &Queue{Outbox: ob}
	var c setAsideCounter = q
	if _, err := ob.Enqueue(context.Background(), outbox.Op{Kind: QueueKind, IdempotencyKey: "bad", Payload: []byte("{}"), PersonalData: true}); err != nil {
		t.Fatal(err)
	}
	ob.NewSender(outbox.DelivererFunc(func(context.Context, outbox.Entry) (outbox.Result, error) {
		return outbox.Result{}, outbox.ClassifyHTTP(422, 0, "invalid_cf", "not a codice fiscale")
	}), outbox.SenderOptions{}).Drain(context.Background())
	if n, err := c.SetAside(); n != 1 || err != nil {
		t.Errorf("SetAside = %d, %v; want 1", n, err)
	}
}
