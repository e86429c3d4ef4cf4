// Package paymenttest is the suite every backend's payment.Tx must pass
// (store.Tx.Payments), so that PostgreSQL behaves as bbolt does.
//
// A backend's test calls Run with a function that opens a new, empty hub
// store (closed by the test's cleanup) and one that opens a second
// store.Store on the same data, as a second hub on one database does (a
// backend of one process returns the store it is given):
//
//	func TestPayments(t *testing.T) { paymenttest.Run(t, open, twin) }
package paymenttest

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/store"
)

var t0 = time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)

func till(id, key, op, code string, created time.Time) *payment.Payment {
	return &payment.Payment{ID: id, Method: payment.Till, State: payment.Pending, AmountCents: 1852, RequestKey: key, RequestHash: "h-" + key,
		DeviceKeyID: "dev-a", OperatorID: op, TillCode: code, Created: created, Expires: created.Add(payment.DefaultTTL),
		Types: []string{"residenza"}, SubjectName: "Mario Rossi", SubjectCF: "RSSMRA50B17A558W"}
}

// Run runs the suite.
func Run(t *testing.T, openStore func(t *testing.T) store.Store, twin func(t *testing.T, s store.Store) store.Store) {
	open := func(t *testing.T) payment.Store { return store.PaymentsOf(openStore(t)) }
	t.Run("UseInTheTransaction", func(t *testing.T) { testUse(t, openStore(t)) })
	t.Run("ViewRefusesWrites", func(t *testing.T) { testView(t, openStore(t)) })
	t.Run("TwoHubsUseOnce", func(t *testing.T) {
		a := openStore(t)
		testTwoHubs(t, a, twin(t, a))
	})
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
	t.Run("All", func(t *testing.T) {
		s := openStore(t)
		var ps []payment.Payment
		read := func(tx store.Tx) (err error) { ps, err = tx.Payments().All(); return err }
		if err := s.View(context.Background(), read); err != nil || len(ps) != 0 {
			t.Fatalf("All on an empty store = %v, %v", ps, err)
		}
		// Created out of order, two at one instant: oldest first, ties by id.
		err := s.Update(context.Background(), func(tx store.Tx) error {
			for _, p := range []*payment.Payment{
				till("pay-c", "op-2/k1", "op-2", "GHK234", t0.Add(time.Hour)),
				till("pay-b", "op-1/k2", "op-1", "DEF567", t0),
				till("pay-a", "op-1/k1", "op-1", "ABC234", t0),
			} {
				if err := tx.Payments().Create(p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.View(context.Background(), read); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		if want := []string{"pay-a", "pay-b", "pay-c"}; !reflect.DeepEqual(ids, want) || ps[2].OperatorID != "op-2" {
			t.Errorf("All = %v, want %v with their records", ids, want)
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

func paid(t *testing.T, s payment.Store, id, key string) payment.Payment {
	t.Helper()
	if err := s.Create(till(id, key, "op-1", "C"+id, t0)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Update(id, func(p *payment.Payment) error { return p.MarkPaid(t0.Add(time.Minute), "clerk-1", "Anna", "") })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func claim(p payment.Payment) payment.Claim {
	return payment.Claim{RequestKey: p.RequestKey, RequestHash: p.RequestHash, AmountCents: p.AmountCents}
}

// testUse: Use commits with the transaction or not at all, and only once.
func testUse(t *testing.T, s store.Store) {
	ctx := context.Background()
	ps := store.PaymentsOf(s)
	p := paid(t, ps, "pay-1", "op-1/k1")
	at := t0.Add(2 * time.Minute)
	boom := errors.New("the certificate could not be stored")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Payments().Use("pay-1", claim(p), "cert-1", at); err != nil {
			return err
		}
		if got, err := tx.Payments().Get("pay-1"); err != nil || got.State != payment.Used {
			t.Errorf("inside the transaction the payment is %s (%v), want used", got.State, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failed transaction: %v", err)
	}
	if got, _ := ps.Get("pay-1"); got.State != payment.Paid || got.Certificate != "" {
		t.Fatalf("a failed transaction left the payment %s for %q", got.State, got.Certificate)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Payments().Use("pay-1", claim(p), "cert-1", at) }); err != nil {
		t.Fatal(err)
	}
	got, _ := ps.Get("pay-1")
	if got.State != payment.Used || got.Certificate != "cert-1" || !got.Ended.Equal(at) {
		t.Errorf("after use: %+v", got)
	}
	err = s.Update(ctx, func(tx store.Tx) error { return tx.Payments().Use("pay-1", claim(p), "cert-2", at) })
	if !errors.Is(err, payment.ErrUsed) {
		t.Errorf("a second certificate on one payment: %v, want ErrUsed", err)
	}
	other := claim(p)
	other.AmountCents++
	q := paid(t, ps, "pay-2", "op-1/k2")
	err = s.Update(ctx, func(tx store.Tx) error { return tx.Payments().Use("pay-2", other, "cert-3", at) })
	if !errors.Is(err, payment.ErrMismatch) {
		t.Errorf("another amount: %v, want ErrMismatch", err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Payments().Use("pay-x", claim(q), "cert-3", at) }); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("an unknown payment: %v, want ErrNotFound", err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Payments().Put(till("pay-y", "op-1/ky", "op-1", "XYZ234", t0)) }); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("Put of an unknown payment: %v, want ErrNotFound", err)
	}
}

func testView(t *testing.T, s store.Store) {
	ctx := context.Background()
	ps := store.PaymentsOf(s)
	p := paid(t, ps, "pay-1", "op-1/k1")
	for name, fn := range map[string]func(payment.Tx) error{
		"create": func(tx payment.Tx) error { return tx.Create(till("pay-2", "op-1/k2", "op-1", "DEF567", t0)) },
		"put":    func(tx payment.Tx) error { return tx.Put(&p) },
		"use":    func(tx payment.Tx) error { return tx.Use("pay-1", claim(p), "cert-1", t0.Add(time.Hour)) },
	} {
		err := s.View(ctx, func(tx store.Tx) error {
			if _, err := tx.Payments().Get("pay-1"); err != nil {
				t.Errorf("%s: a View cannot read: %v", name, err)
			}
			return fn(tx.Payments())
		})
		if !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%s in a View: %v, want ErrReadOnly", name, err)
		}
	}
	if got, _ := ps.Get("pay-1"); got.State != payment.Paid {
		t.Errorf("a View changed the payment: %s", got.State)
	}
	if _, err := ps.Get("pay-2"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("a View created a payment: %v", err)
	}
}

// testTwoHubs: requests naming one payment, sent to two hubs at once,
// issue one certificate; a till code is held across hubs.
func testTwoHubs(t *testing.T, a, b store.Store) {
	ctx := context.Background()
	p := paid(t, store.PaymentsOf(a), "pay-1", "op-1/k1")
	if got, err := store.PaymentsOf(b).Get("pay-1"); err != nil || got.State != payment.Paid {
		t.Fatalf("the second hub reads %+v %v", got, err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s := []store.Store{a, b}[i%2]
			errs[i] = s.Update(ctx, func(tx store.Tx) error {
				return tx.Payments().Use("pay-1", claim(p), "cert-"+string(rune('a'+i)), t0.Add(2*time.Minute))
			})
		})
	}
	wg.Wait()
	used := 0
	for i, err := range errs {
		switch {
		case err == nil:
			used++
		case !errors.Is(err, payment.ErrUsed):
			t.Errorf("request %d: %v, want ErrUsed or success", i, err)
		}
	}
	if used != 1 {
		t.Errorf("%d certificates issued against one payment, want 1", used)
	}
	for i := range n {
		wg.Go(func() {
			s := []store.Store{a, b}[i%2]
			errs[i] = store.PaymentsOf(s).Create(till("pay-c"+string(rune('a'+i)), "op-1/kc"+string(rune('a'+i)), "op-1", "SAME23", t0))
		})
	}
	wg.Wait()
	created := 0
	for i, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, payment.ErrCodeTaken):
			t.Errorf("payment %d: %v, want ErrCodeTaken or success", i, err)
		}
	}
	if created != 1 {
		t.Errorf("%d pending payments of one shop hold one till code, want 1", created)
	}
}
