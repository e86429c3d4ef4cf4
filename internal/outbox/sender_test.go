package outbox

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestSenderBacksOffWithJitterInOrder(t *testing.T) {
	const (
		base      = time.Second
		maxDelay  = 16 * time.Second
		idle      = time.Hour
		failures  = 9
		throttled = 4 // this attempt answers 429 with a Retry-After
		retryAft  = 100 * time.Second
		kickAfter = 6 // the operator presses "retry now" during this wait
	)
	clk := newFakeClock()
	o, _ := openTest(t, Options{Clock: clk})
	mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "b1", AmountCents: 200})
	mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "b2", AmountCents: 100})

	hub := newFakeHub()
	hub.fail = func(e Entry, attempt int) error {
		switch {
		case e.IdempotencyKey != "b1" || attempt > failures:
			return nil
		case attempt == throttled:
			return ClassifyHTTP(429, retryAft, "", "")
		case attempt%2 == 0:
			return ClassifyHTTP(503, 0, "", "")
		default:
			return errors.New("dial tcp 127.0.0.1:8443: connect: connection refused")
		}
	}
	outcomes := make(chan Outcome, 4)
	s := o.NewSender(hub, SenderOptions{BaseDelay: base, MaxDelay: maxDelay, IdleTick: idle,
		Rand: rand.New(rand.NewPCG(7, 11)), OnResult: func(oc Outcome) { outcomes <- oc }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		if err := stopSender(cancel, done, clk); !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	}()

	// n is the consecutive-failure count each wait should follow from.
	n := 0
	var capped []time.Duration
	for i := 1; i <= failures; i++ {
		w := <-clk.waits
		n++
		want := min(base<<(n-1), maxDelay)
		switch {
		case i == throttled:
			if w.d != retryAft {
				t.Errorf("wait %d after a 429 with Retry-After %v = %v, want the hub's wait", i, retryAft, w.d)
			}
		case w.d < want/2 || w.d > want:
			t.Errorf("wait %d (failure %d in a row) = %v, want between %v and %v", i, n, w.d, want/2, want)
		case want == maxDelay:
			capped = append(capped, w.d)
		}
		p, err := o.Pending()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 2 || p[0].Attempts != i || p[0].LastError == "" || !p[0].LastAttempt.Equal(clk.Now()) || p[1].Attempts != 0 {
			t.Fatalf("after failure %d, Pending = %+v; want the head to record %d attempts and the second untouched", i, p, i)
		}
		if i == kickAfter {
			s.Kick()
			n = 0
			continue
		}
		clk.Advance(w.d)
		w.fire <- clk.Now()
	}
	for _, key := range []string{"b1", "b2"} {
		select {
		case oc := <-outcomes:
			if oc.Entry.IdempotencyKey != key || oc.Entry.State != Delivered {
				t.Fatalf("outcome %+v, want %s delivered", oc.Entry, key)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no outcome for %s", key)
		}
	}
	if w := <-clk.waits; w.d != idle {
		t.Errorf("once the queue is empty the sender waits %v, want the idle tick %v", w.d, idle)
	}
	if hub.seen["b2"] != 1 || len(hub.order) != 2 || hub.order[0] != "b1" {
		t.Errorf("the hub saw b2 %d times, order %v; b2 must wait for b1", hub.seen["b2"], hub.order)
	}
	if len(capped) >= 2 {
		all := true
		for _, d := range capped[1:] {
			all = all && d == capped[0]
		}
		if all {
			t.Errorf("capped waits %v are all equal: no jitter", capped)
		}
	}
	if st, _ := o.Stats(); st.Pending != 0 || st.AmountCents != 0 {
		t.Errorf("Stats after the drain = %+v", st)
	}
}

func TestOnlyOneSenderRuns(t *testing.T) {
	clk := newFakeClock()
	o, _ := openTest(t, Options{Clock: clk})
	s1 := o.NewSender(newFakeHub(), SenderOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s1.Run(ctx) }()
	<-clk.waits // s1 is idle and running
	err := o.NewSender(newFakeHub(), SenderOptions{}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "another sender") {
		t.Errorf("a second Run: %v, want a refusal", err)
	}
	stopSender(cancel, done, clk)
}

func TestEnqueueWakesAnIdleSender(t *testing.T) {
	clk := newFakeClock()
	o, _ := openTest(t, Options{Clock: clk})
	hub := newFakeHub()
	got := make(chan Outcome, 1)
	s := o.NewSender(hub, SenderOptions{OnResult: func(oc Outcome) { got <- oc }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer stopSender(cancel, done, clk)
	<-clk.waits // idle; the fake clock never fires this wait
	e := mustEnqueue(t, o, Op{Kind: "audit.event", IdempotencyKey: "w1"})
	select {
	case oc := <-got:
		if oc.Entry.ID != e.ID {
			t.Errorf("delivered %+v, want %d", oc.Entry, e.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the idle sender did not deliver a new operation")
	}
	<-clk.waits
}

// stopSender cancels a running sender and waits for Run to return, while
// answering any wait it asks for meanwhile (an idle sender may look again
// before it sees the cancellation).
func stopSender(cancel context.CancelFunc, done <-chan error, clk *fakeClock) error {
	cancel()
	for {
		select {
		case err := <-done:
			return err
		case <-clk.waits:
		}
	}
}

// TestQueueAndTheLimits: how the queue treats the hub's limits (package
// limits, decided in api.Decide). Over the rate the request is sound: it
// stays first in the queue and waits the hub's Retry-After, then goes.
// Over the day's cap it leaves the queue for the operator, with the
// reason. A suspended device holds it, and everything behind it, in order.
func TestQueueAndTheLimits(t *testing.T) {
	clk := newFakeClock()
	o, _ := openTest(t, Options{Clock: clk})
	mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "a", AmountCents: 200})
	mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "b", AmountCents: 200})
	hub := newFakeHub()
	answer := map[string]error{"a": ClassifyHTTP(429, 12*time.Second, "rate_limited", "too many requests: try again in 12 seconds")}
	hub.fail = func(e Entry, attempt int) error { return answer[e.IdempotencyKey] }
	s := o.NewSender(hub, SenderOptions{})
	ctx := context.Background()

	n, err := s.Drain(ctx)
	var re *RetryableError
	if n != 0 || !errors.As(err, &re) || re.After != 12*time.Second || re.Hold || re.SetAside || re.Reason != "rate_limited" {
		t.Fatalf("a 429 rate_limited: %d delivered, %v (%+v), want it retried after the hub's 12 s", n, err, re)
	}
	if p, _ := o.Pending(); len(p) != 2 || p[0].IdempotencyKey != "a" {
		t.Fatalf("pending %+v, want a still first", p)
	}
	answer["a"] = nil
	answer["b"] = ClassifyHTTP(403, 0, "device_suspended", "this device has been suspended")
	n, err = s.Drain(ctx)
	if n != 1 || !errors.As(err, &re) || !re.Hold {
		t.Fatalf("a delivered, b held: %d delivered, %v", n, err)
	}
	if p, _ := o.Pending(); len(p) != 1 || p[0].IdempotencyKey != "b" {
		t.Fatalf("pending %+v, want b kept", p)
	}
	answer["b"] = ClassifyHTTP(429, 3600*time.Second, "daily_cap_reached", "this shop has reached its cap")
	if n, err = s.Drain(ctx); n != 1 || err != nil {
		t.Fatalf("over the day's cap: %d, %v; want it out of the queue", n, err)
	}
	if rs, _ := o.Refused(); len(rs) != 1 || rs[0].Refusal.Reason != "daily_cap_reached" {
		t.Fatalf("refused %+v", rs)
	}
}
