package outbox

import (
	"context"
	"strings"
	"testing"
)

// TestPoisonedOperationIsSetAside: what the hub decides against (a
// malformed codice fiscale, 422) leaves the queue at the first answer, and
// an operation the hub itself fails on (500) leaves it after SetAsideAfter
// tries, with the reason for the operator; the operations behind either are
// delivered. One the device may not send just now (its operator suspended)
// holds the queue in order and is never set aside. Requeue puts a set-aside
// operation back, and it is delivered once the hub takes it.
func TestPoisonedOperationIsSetAside(t *testing.T) {
	clk := newFakeClock()
	o, _ := openTest(t, Options{Key: testKey, Clock: clk})
	for _, k := range []string{"bad-cf", "ok-1", "hub-fails", "ok-2"} {
		mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: k, Payload: []byte(k), PersonalData: true, AmountCents: 1852})
	}
	hub := newFakeHub()
	brokenFor := map[string]bool{"hub-fails": true}
	suspended := false
	hub.fail = func(e Entry, attempt int) error {
		switch {
		case suspended:
			return ClassifyHTTP(403, 0, "key_suspended", "key id \"dev-1\" belongs to a suspended operator")
		case e.IdempotencyKey == "bad-cf":
			return ClassifyHTTP(422, 0, "invalid_cf", `the subject's codice fiscale "RSSMRA50B17F205X" is not valid`)
		case brokenFor[e.IdempotencyKey]:
			return ClassifyHTTP(500, 0, "internal", "the hub could not complete the request; the error has been logged")
		}
		return nil
	}
	s := o.NewSender(hub, SenderOptions{})
	ctx := context.Background()
	var errs int
	for i := 0; i < 10; i++ {
		if _, err := s.Drain(ctx); err == nil {
			break
		}
		errs++
	}
	if errs != 2 {
		t.Errorf("%d failed drains, want 2: the hub's failures on one operation before it is set aside at the third", errs)
	}
	if hub.seen["bad-cf"] != 1 || hub.seen["hub-fails"] != 3 {
		t.Errorf("tries: bad-cf %d, hub-fails %d; want 1 and 3", hub.seen["bad-cf"], hub.seen["hub-fails"])
	}
	if hub.effects["ok-1"] == "" || hub.effects["ok-2"] == "" {
		t.Fatalf("delivered %v; the operations behind the poisoned ones must go through", hub.effects)
	}
	aside, err := o.Refused()
	if err != nil || len(aside) != 2 {
		t.Fatalf("set aside %+v, %v; want 2", aside, err)
	}
	byKey := map[string]Entry{}
	for _, e := range aside {
		byKey[e.IdempotencyKey] = e
	}
	if r := byKey["bad-cf"].Refusal; r == nil || r.Reason != "invalid_cf" || r.SetAside || !strings.Contains(r.Message, "not valid") {
		t.Errorf("bad-cf: %+v, want the hub's refusal invalid_cf", r)
	}
	if r := byKey["hub-fails"].Refusal; r == nil || r.Reason != "internal" || !r.SetAside || !strings.Contains(r.Message, "3 times") {
		t.Errorf("hub-fails: %+v, want set aside with the reason internal after 3 failures", r)
	}
	if st, _ := o.Stats(); st.Pending != 0 || st.Refused != 2 || st.AmountCents != 0 {
		t.Errorf("stats %+v", st)
	}

	// A suspended operator: nothing is set aside, the queue waits in order.
	suspended = true
	mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "ok-3", Payload: []byte("x"), PersonalData: true, AmountCents: 1852})
	mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "ok-4", Payload: []byte("y"), PersonalData: true, AmountCents: 1852})
	for i := 0; i < 5; i++ {
		if _, err := s.Drain(ctx); err == nil || !strings.Contains(err.Error(), "key_suspended") {
			t.Fatalf("drain while suspended: %v, want the hold with its reason", err)
		}
	}
	if st, _ := o.Stats(); st.Pending != 2 || st.Refused != 2 || hub.seen["ok-4"] != 0 {
		t.Errorf("while suspended: %+v, ok-4 tried %d times; want both waiting in order", st, hub.seen["ok-4"])
	}
	pend, _ := o.Pending()
	if len(pend) != 2 || pend[0].LastError == "" || !strings.Contains(pend[0].LastError, "key_suspended") {
		t.Errorf("pending %+v, want the hold's reason on the head", pend)
	}

	// The operator puts the set-aside one back once the hub is mended.
	suspended = false
	brokenFor["hub-fails"] = false
	if err := o.Requeue(byKey["hub-fails"].ID); err != nil {
		t.Fatal(err)
	}
	if err := o.Requeue(9999); err == nil {
		t.Error("Requeue accepted an operation that is not set aside")
	}
	if _, err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if hub.effects["hub-fails"] == "" || hub.effects["ok-3"] == "" || hub.effects["ok-4"] == "" {
		t.Errorf("after the requeue: delivered %v", hub.effects)
	}
	if st, _ := o.Stats(); st.Pending != 0 || st.Refused != 1 {
		t.Errorf("after the requeue: %+v, want only bad-cf left aside", st)
	}
}
