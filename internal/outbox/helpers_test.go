package outbox

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// fakeClock is a settable clock. After reports each requested wait on
// waits, so a test can see the delay and decide when it ends.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan fakeWait
}

type fakeWait struct {
	d    time.Duration
	fire chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), waits: make(chan fakeWait)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	w := fakeWait{d: d, fire: make(chan time.Time, 1)}
	c.waits <- w
	return w.fire
}

// fakeHub acts like the hub's certificate endpoint: the first delivery of
// an idempotency key takes effect, later ones get the same answer back.
type fakeHub struct {
	mu         sync.Mutex
	effects    map[string]string // idempotency key → result ref
	payloads   map[string][]byte
	order      []string // keys in order of first effect
	deliveries int
	// fail, when set, decides the outcome of a delivery before the hub
	// acts on it; a nil error lets the delivery through.
	fail func(e Entry, attempt int) error
	seen map[string]int
}

func newFakeHub() *fakeHub {
	return &fakeHub{effects: map[string]string{}, payloads: map[string][]byte{}, seen: map[string]int{}}
}

func (h *fakeHub) Deliver(ctx context.Context, e Entry) (Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen[e.IdempotencyKey]++
	if h.fail != nil {
		if err := h.fail(e, h.seen[e.IdempotencyKey]); err != nil {
			return Result{}, err
		}
	}
	h.deliveries++
	if ref, ok := h.effects[e.IdempotencyKey]; ok {
		return Result{Ref: ref, Body: []byte("replayed")}, nil
	}
	ref := fmt.Sprintf("CERT-%04d", len(h.effects)+1)
	h.effects[e.IdempotencyKey] = ref
	h.payloads[e.IdempotencyKey] = append([]byte(nil), e.Payload...)
	h.order = append(h.order, e.IdempotencyKey)
	return Result{Ref: ref, Body: e.Payload}, nil
}

func openTest(t testing.TB, opts Options) (*Outbox, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o, path
}

func mustEnqueue(t testing.TB, o *Outbox, op Op) Entry {
	t.Helper()
	e, err := o.Enqueue(context.Background(), op)
	if err != nil {
		t.Fatalf("Enqueue(%s): %v", op.IdempotencyKey, err)
	}
	return e
}
