// Package paymenttest is the suite every payment.Store implementation
// must pass, so that another store behaves as paybolt does.
//
// An implementation's test calls Run with a function that opens a new,
// empty store (closed by the test's cleanup):
//
//	func TestStore(t *testing.T) { paymenttest.Run(t, open) }
package paymenttest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/payment"
)

var t0 = time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)

func till(id, key, op, code string, created time.Time) *payment.Payment {
	return &payment.Payment{ID: id, Method: payment.Till, State: payment.Pending, AmountCents: 1852, RequestKey: key, RequestHash: "h-" + key,
		DeviceKeyID: "dev-a", OperatorID: op, TillCode: code, Created: created, Expires: created.Add(payment.DefaultTTL),
		Types: []string{"residenza"}, SubjectName: "Mario Rossi", SubjectCF: "RSSMRA50B17A558W"}
}

// Run runs the suite.
func Run(t *testing.T, open func(t *testing.T) payment.Store) {
	t.Run("CreateGet", func(t *testing.T) {
		s := open(t)
		p := till("pay-1", "op-1/k1", "op-1", "ABC234", t0)
		if err := s.Create(p); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get("pay-1")
		if err != nil || !reflect.DeepEqual(got, *p) {
			t.Errorf("get: %+v %v, want %+v", got, err, *p)
		}
		if got, err := s.ByKey("op-1/k1"); err != nil || got.ID != "pay-1" {
			t.Errorf("by key: %+v %v", got, err)
		}
		if got, err := s.ByTillCode("op-1", "ABC234"); err != nil || got.ID != "pay-1" {
			t.Errorf("by code: %+v %v", got, err)
		}
		for name, err := range map[string]error{
			"get":           func() error { _, err := s.Get("pay-x"); return err }(),
			"by key":        func() error { _, err := s.ByKey("op-1/other"); return err }(),
			"another shop":  func() error { _, err := s.ByTillCode("op-2", "ABC234"); return err }(),
			"update absent": func() error { _, err := s.Update("pay-x", func(*payment.Payment) error { return nil }); return err }(),
		} {
			if !errors.Is(err, payment.ErrNotFound) {
				t.Errorf("%s: %v, want ErrNotFound", name, err)
			}
		}
	})
	t.Run("KeyTakenWhileLive", func(t *testing.T) {
		s := open(t)
		if err := s.Create(till("pay-1", "op-1/k1", "op-1", "ABC234", t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(till("pay-2", "op-1/k1", "op-1", "DEF567", t0.Add(time.Minute))); !errors.Is(err, payment.ErrKeyTaken) {
			t.Errorf("second payment of a live key: %v, want ErrKeyTaken", err)
		}
		if _, err := s.Get("pay-2"); !errors.Is(err, payment.ErrNotFound) {
			t.Errorf("the refused payment was stored: %v", err)
		}
		// Cancelled, the key takes a new payment and names it.
		if _, err := s.Update("pay-1", func(p *payment.Payment) error { return p.Cancel(t0.Add(2 * time.Minute)) }); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(till("pay-3", "op-1/k1", "op-1", "DEF567", t0.Add(3*time.Minute))); err != nil {
			t.Fatalf("new payment after cancel: %v", err)
		}
		if got, err := s.ByKey("op-1/k1"); err != nil || got.ID != "pay-3" {
			t.Errorf("by key after a new payment: %+v %v", got, err)
		}
		// Expired (not yet marked so) frees the key as well.
		if err := s.Create(till("pay-4", "op-1/k4", "op-1", "GHJ789", t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(till("pay-5", "op-1/k4", "op-1", "KLM234", t0.Add(payment.DefaultTTL))); err != nil {
			t.Errorf("new payment once the first expired: %v", err)
		}
	})
	t.Run("TillCodeUniqueAmongPending", func(t *testing.T) {
		s := open(t)
		if err := s.Create(till("pay-1", "op-1/k1", "op-1", "ABC234", t0)); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(till("pay-2", "op-1/k2", "op-1", "ABC234", t0.Add(time.Minute))); !errors.Is(err, payment.ErrCodeTaken) {
			t.Errorf("same code, same shop, first pending: %v, want ErrCodeTaken", err)
		}
		// Another shop may hold the same code.
		if err := s.Create(till("pay-3", "op-2/k1", "op-2", "ABC234", t0.Add(time.Minute))); err != nil {
			t.Errorf("same code at another shop: %v", err)
		}
		// Once the first is paid, or expired, the code is free again.
		if _, err := s.Update("pay-1", func(p *payment.Payment) error { return p.MarkPaid(t0.Add(2*time.Minute), "clerk-1", "Anna", "") }); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(till("pay-4", "op-1/k4", "op-1", "ABC234", t0.Add(3*time.Minute))); err != nil {
			t.Errorf("code of a paid payment: %v", err)
		}
		if got, _ := s.ByTillCode("op-1", "ABC234"); got.ID != "pay-4" {
			t.Errorf("the code names %s, want the latest pay-4", got.ID)
		}
		if err := s.Create(till("pay-5", "op-1/k5", "op-1", "ABC234", t0.Add(3*time.Minute+payment.DefaultTTL))); err != nil {
			t.Errorf("code of an expired payment: %v", err)
		}
	})
	t.Run("UpdateAtomicAndAborts", func(t *testing.T) {
		s := open(t)
		if err := s.Create(till("pay-1", "op-1/k1", "op-1", "ABC234", t0)); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		if _, err := s.Update("pay-1", func(p *payment.Payment) error { p.State = payment.Paid; return boom }); !errors.Is(err, boom) {
			t.Errorf("update error: %v", err)
		}
		if got, _ := s.Get("pay-1"); got.State != payment.Pending {
			t.Errorf("an aborted update was stored: %s", got.State)
		}
		got, err := s.Update("pay-1", func(p *payment.Payment) error { return p.MarkPaid(t0.Add(time.Minute), "clerk-1", "Anna Bianchi", "") })
		if err != nil || got.State != payment.Paid || got.ConfirmedByName != "Anna Bianchi" {
			t.Fatalf("mark paid: %+v %v", got, err)
		}
		if again, _ := s.Get("pay-1"); !reflect.DeepEqual(again, got) {
			t.Errorf("stored %+v, answered %+v", again, got)
		}
	})
	t.Run("Since", func(t *testing.T) {
		s := open(t)
		for i, at := range []time.Duration{0, time.Minute, 2 * time.Minute} {
			p := till("pay-"+string(rune('a'+i)), "op-1/k"+string(rune('a'+i)), "op-1", "ABC23"+string(rune('4'+i)), t0.Add(at))
			if err := s.Create(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Create(till("pay-z", "op-2/kz", "op-2", "ABC234", t0.Add(time.Minute))); err != nil {
			t.Fatal(err)
		}
		ps, err := s.Since("op-1", t0.Add(time.Minute))
		if err != nil || len(ps) != 2 || ps[0].ID != "pay-b" || ps[1].ID != "pay-c" {
			t.Errorf("since: %+v %v, want pay-b, pay-c", ps, err)
		}
		if ps, err := s.Since("op-3", t0); err != nil || len(ps) != 0 {
			t.Errorf("since at a shop without payments: %+v %v", ps, err)
		}
	})
}
