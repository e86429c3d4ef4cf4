package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/internal/protocol"
)

// skewClock is a kiosk's clock off the hub's by a fixed amount: for the
// signed client and for the outbox.
type skewClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *skewClock) Now() time.Time                       { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *skewClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

// queueRequest writes req to the outbox as the counter does when the hub
// cannot be reached.
func queueRequest(t *testing.T, ob *outbox.Outbox, req IssueRequest) {
	t.Helper()
	payload, err := json.Marshal(queued{req.Key, requestOf(req)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Enqueue(context.Background(), outbox.Op{Kind: QueueKind, IdempotencyKey: req.Key, Payload: payload, PersonalData: true, AmountCents: 1852}); err != nil {
		t.Fatal(err)
	}
}

// drain runs the sender until the queue is empty or it gives up; a failed
// round is what a running sender would back off from and try again.
func drain(t *testing.T, s *outbox.Sender) (failedRounds int) {
	t.Helper()
	for i := 0; i < 10; i++ {
		if _, err := s.Drain(context.Background()); err == nil {
			return failedRounds
		}
		failedRounds++
	}
	return failedRounds
}

// issuedAtHub lists the certificates the hub issued today for the shop.
func issuedAtHub(t *testing.T, h *realHub) []certificate.Record {
	t.Helper()
	d := protocol.DayOf(testNow)
	rs, err := h.desk.Certs.ByOperator("op-1", d, d)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestQueuedRequestsSurviveClockSkew is the clock-skew table: a kiosk
// whose clock is off the hub's by −2 h … +2 h queues requests while the hub
// is down; when the hub is back, every request is issued exactly once. The
// kiosk's first request, signed before it knows the hub's time, is refused
// for it with a signed answer that teaches it the hub's time; a refusal for
// the time is retried, never taken as the hub's last word; and the hub's
// signed answer is accepted whatever the kiosk's clock says.
func TestQueuedRequestsSurviveClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{-2 * time.Hour, -3 * time.Minute, -time.Minute, 0, time.Minute, 3 * time.Minute, 2 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			h := newRealHub(t)
			kclock := &skewClock{t: testNow.Add(skew)}
			h.hub.C.Clock = kclock.Now
			ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), outbox.Options{Key: make([]byte, 32), Clock: kclock})
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()

			// The hub is down: a proxy answers in its place.
			h.answer(nil, 502, "<html>bad gateway</html>")
			var keys []string
			for i := range 4 {
				req := IssueRequest{Key: fmt.Sprintf("sale-%d", i), SubjectCF: h.who.CF, Requester: h.asker(),
					Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter}
				if _, err := h.hub.Issue(context.Background(), req); !errors.Is(err, ErrOffline) {
					t.Fatalf("with the hub down: %v, want offline", err)
				}
				queueRequest(t, ob, req)
				keys = append(keys, req.Key)
			}

			// The hub is back.
			h.mu.Lock()
			h.front = nil
			h.mu.Unlock()
			s := ob.NewSender(Deliverer(h.hub, nil), outbox.SenderOptions{})
			if n := drain(t, s); n > 1 {
				t.Errorf("%d failed rounds before the queue drained", n)
			}
			st, err := ob.Stats()
			if err != nil || st.Pending != 0 || st.Refused != 0 {
				aside, _ := ob.Refused()
				t.Fatalf("after the hub came back: %+v %v; set aside: %+v", st, err, aside)
			}
			issued := issuedAtHub(t, h)
			if len(issued) != len(keys) {
				t.Errorf("the hub issued %d certificates for %d requests", len(issued), len(keys))
			}
			seen := map[string]bool{}
			for _, k := range keys {
				e, err := ob.LookupKey(k)
				if err != nil || e.State != outbox.Delivered {
					t.Fatalf("%s: %+v %v, want delivered", k, e, err)
				}
				is := decodeDelivery(e.ResultRef)
				if is.ID == "" || seen[is.ID] {
					t.Errorf("%s: certificate %q, want its own", k, is.ID)
				}
				seen[is.ID] = true
			}
			if off, ok := h.hub.C.ClockOffset(); !ok || (off+skew).Abs() > time.Second {
				t.Errorf("the kiosk learnt an offset of %s (known %v), want %s", off, ok, -skew)
			}
		})
	}
}

// TestMalformedQueuedRequestDoesNotBlock: a request queued with a malformed
// codice fiscale is refused by the hub with 422 invalid_cf and set aside
// with that reason, for the operator; the request queued behind it is
// issued. (The hub used to answer 500, which the kiosk retried, and the
// whole in-order queue waited behind it for ever.)
func TestMalformedQueuedRequestDoesNotBlock(t *testing.T) {
	h := newRealHub(t)
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	good := h.who.CF
	queueRequest(t, ob, IssueRequest{Key: "bad", SubjectCF: "RSSMRA50B17F205X", Requester: h.asker(),
		Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter})
	queueRequest(t, ob, IssueRequest{Key: "good", SubjectCF: good, Requester: h.asker(),
		Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter})
	var outcomes []outbox.Outcome
	s := ob.NewSender(Deliverer(h.hub, nil), outbox.SenderOptions{OnResult: func(o outbox.Outcome) { outcomes = append(outcomes, o) }})
	if n := drain(t, s); n != 0 {
		t.Errorf("%d failed rounds: the malformed request was retried", n)
	}
	e, err := ob.LookupKey("good")
	if err != nil || e.State != outbox.Delivered {
		t.Fatalf("the request behind the malformed one: %+v %v, want delivered", e, err)
	}
	aside, err := ob.Refused()
	if err != nil || len(aside) != 1 || aside[0].IdempotencyKey != "bad" {
		t.Fatalf("set aside: %+v %v, want the malformed request", aside, err)
	}
	r := aside[0].Refusal
	if r == nil || r.Reason != "invalid_cf" || !strings.Contains(r.Message, "RSSMRA50B17F205X") {
		t.Errorf("its reason: %+v, want invalid_cf naming the code", r)
	}
	if len(outcomes) != 2 || outcomes[0].Entry.State != outbox.Refused {
		t.Errorf("outcomes %+v, want the refusal reported to the operator, then the delivery", outcomes)
	}
	if got := issuedAtHub(t, h); len(got) != 1 {
		t.Errorf("the hub issued %d certificates, want 1", len(got))
	}
}

// TestClientAndOutboxDecideAlike: the counter and the queue take the hub's
// answers the same way, from api.Decide: what is retried is offline at the
// counter and retried in the queue; what the hub decided is refused at the
// counter and set aside in the queue; a device the hub will not hear is
// refused at the counter and holds the queue; the hub's failure on one
// request is offline at the counter and set aside in the queue after a few
// tries. (A 408 used to be a refusal at the counter and a retry in the queue.)
func TestClientAndOutboxDecideAlike(t *testing.T) {
	h := newRealHub(t)
	const (
		offline = "offline"
		refused = "refused"
	)
	tests := []struct {
		status  int
		body    string
		counter string // offline or refused
		queue   string // "retry", "set aside", "refuse"
	}{
		{408, `{"reason":"request_timeout","message":"the proxy gave up"}`, offline, "retry"},
		{429, `{"reason":"too_many_requests","message":"slow down"}`, offline, "retry"},
		{503, `{"reason":"storage_full","message":"the hub's disk is full"}`, offline, "retry"},
		{401, `{"reason":"nonce_replayed","message":"seen before"}`, offline, "retry"},
		{403, `{"reason":"key_suspended","message":"the operator is suspended"}`, refused, "retry"},
		{401, `{"reason":"unknown_key","message":"not enrolled"}`, refused, "retry"},
		{422, `{"reason":"invalid_cf","message":"not a codice fiscale"}`, refused, "refuse"},
		{404, `{"reason":"subject_not_found","message":"nobody"}`, refused, "refuse"},
		{500, `{"reason":"internal","message":"the hub could not complete the request"}`, offline, "set aside"},
	}
	req := IssueRequest{Key: "k-decide", SubjectCF: h.who.CF, Requester: h.asker(), Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter}
	for _, tt := range tests {
		var p struct{ Reason string }
		json.Unmarshal([]byte(tt.body), &p)
		t.Run(fmt.Sprint(tt.status, " ", p.Reason), func(t *testing.T) {
			h.answer(h.hubSign, tt.status, tt.body)
			_, err := h.hub.Issue(context.Background(), req)
			var r *Refusal
			switch {
			case tt.counter == offline && !errors.Is(err, ErrOffline):
				t.Errorf("at the counter: %v, want offline (the sale is queued)", err)
			case tt.counter == refused && (!errors.As(err, &r) || r.Status != tt.status):
				t.Errorf("at the counter: %v, want the hub's refusal", err)
			}
			payload, _ := json.Marshal(queued{req.Key, requestOf(req)})
			_, err = Deliverer(h.hub, nil).Deliver(context.Background(), outbox.Entry{Op: outbox.Op{Kind: QueueKind, IdempotencyKey: req.Key, Payload: payload}})
			// As the outbox takes it (Sender, Outbox.Deliver).
			err = outbox.Classify(err)
			var re *outbox.RetryableError
			var rf *outbox.Refusal
			got := "other"
			switch {
			case errors.As(err, &rf):
				got = "refuse"
			case errors.As(err, &re) && re.SetAside:
				got = "set aside"
			case err != nil:
				got = "retry"
			}
			if got != tt.queue {
				t.Errorf("in the queue: %v (%s), want %s", err, got, tt.queue)
			}
		})
	}
}
