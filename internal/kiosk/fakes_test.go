package kiosk

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/printer/receipt"
)

// Valid codici fiscali from DESIGN.md's reference vectors.
const (
	cfMario  = "RSSMRA50B17A558W"
	cfMaria  = "MRTMRA83T56A269B"
	cfOther  = "CCCFBA85D03L219P"
	nisMario = "012345678901"
)

type fakeHub struct {
	mu       sync.Mutex
	persons  map[string]*Person // by NIS and by CF+"/"+document
	offline  bool
	refuse   *Refusal
	issued   []IssueRequest
	pdfFails bool
	n        int
	now      time.Time
}

func newFakeHub(now time.Time) *fakeHub {
	mario := &Person{CF: cfMario, Surname: "ROSSI", GivenNames: "MARIO", BirthDate: "1950-02-17",
		Family: []Member{{CF: cfMaria, Surname: "MORETTI", GivenNames: "MARIA", BirthDate: "1983-12-16", Relationship: 2}}}
	return &fakeHub{now: now, persons: map[string]*Person{nisMario: mario, cfMario + "/CA12345AB": mario}}
}

func (h *fakeHub) LookupPerson(_ context.Context, q PersonQuery) (*Person, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.offline {
		return nil, fmt.Errorf("%w: dial refused", ErrOffline)
	}
	key := q.NIS
	if key == "" {
		key = q.CF + "/" + q.Document
	}
	p, ok := h.persons[key]
	if !ok {
		return nil, &Refusal{Status: 404, Reason: "not_found", Message: "no such person"}
	}
	c := *p
	return &c, nil
}

func (h *fakeHub) Issue(_ context.Context, req IssueRequest) (*Issued, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.offline {
		return nil, fmt.Errorf("%w: dial refused", ErrOffline)
	}
	if h.refuse != nil {
		return nil, h.refuse
	}
	h.issued = append(h.issued, req)
	h.n++
	b, err := certificate.Fees(req.Types, req.Exemption, 150, certificate.Policy{})
	if err != nil {
		return nil, err
	}
	return &Issued{ID: fmt.Sprintf("id%d", h.n), Protocol: fmt.Sprintf("2026/%07d", h.n), Types: typeNames(req.Types),
		Fees: b.Lines, TotalCents: b.TotalCents, VerifyURL: "https://hub.example/v/x", Issued: h.now}, nil
}

func (h *fakeHub) PDF(_ context.Context, id string) ([]byte, error) {
	if h.pdfFails {
		return nil, fmt.Errorf("%w: timeout", ErrOffline)
	}
	return []byte("%PDF-1.7 " + id), nil
}

func (h *fakeHub) Ping(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.offline {
		return ErrOffline
	}
	return nil
}

type fakeReader struct {
	nis      string
	err      error
	pin      string
	tries    int
	verified int
	onRead   func()
}

func (r *fakeReader) ReadCard(context.Context) (string, error) {
	if r.onRead != nil {
		r.onRead()
	}
	return r.nis, r.err
}
func (r *fakeReader) VerifyPIN(_ context.Context, pin string) error {
	if r.tries == 0 {
		return &PINError{Blocked: true}
	}
	if pin != r.pin {
		r.tries--
		if r.tries == 0 {
			return &PINError{Blocked: true}
		}
		return &PINError{TriesLeft: r.tries}
	}
	r.verified++
	return nil
}
func (r *fakeReader) Status(context.Context) string { return "" }

type fakePrinters struct {
	a4       [][]byte
	receipts []receipt.Receipt
	claims   []receipt.Claim
	a4Err    error
	claimErr error
}

func (p *fakePrinters) PrintClaim(_ context.Context, c receipt.Claim) error {
	if p.claimErr != nil {
		return p.claimErr
	}
	if err := c.Validate(); err != nil {
		return err
	}
	p.claims = append(p.claims, c)
	return nil
}

func (p *fakePrinters) PrintA4(_ context.Context, _ string, pdf []byte) error {
	if p.a4Err != nil {
		return p.a4Err
	}
	p.a4 = append(p.a4, bytes.Clone(pdf))
	return nil
}
func (p *fakePrinters) PrintReceipt(_ context.Context, r receipt.Receipt) error {
	if err := r.Validate(); err != nil {
		return err
	}
	p.receipts = append(p.receipts, r)
	return nil
}
func (p *fakePrinters) Status(context.Context) string { return "" }

type fakeOutbox struct {
	queued []IssueRequest
	amount int64
	full   bool
	claims map[string]*Claimed // what Lookup answers, by code
}

func (o *fakeOutbox) Lookup(_ context.Context, code string) (*Claimed, error) {
	if code == "" || code == "???" {
		return nil, fmt.Errorf("claim code %q is not a claim code", code)
	}
	c, ok := o.claims[code]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrClaimUnknown, code)
	}
	cc := *c
	return &cc, nil
}

// settle makes the fake outbox report claim as delivered or refused.
func (o *fakeOutbox) settle(code string, c Claimed) {
	if o.claims == nil {
		o.claims = map[string]*Claimed{}
	}
	c.Code = code
	o.claims[code] = &c
}

func (o *fakeOutbox) Enqueue(_ context.Context, req IssueRequest, cents int64) (string, error) {
	if o.full {
		return "", fmt.Errorf("offline limit reached")
	}
	o.queued = append(o.queued, req)
	o.amount += cents
	code := fmt.Sprintf("CLAIM%d", len(o.queued))
	o.settle(code, Claimed{State: ClaimQueued, AmountCents: cents})
	return code, nil
}
func (o *fakeOutbox) Pending() (int, error) { return len(o.queued), nil }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type rig struct {
	flow    *Flow
	hub     *fakeHub
	reader  *fakeReader
	prn     *fakePrinters
	out     *fakeOutbox
	clock   *fakeClock
	journal *MemJournal
}

var (
	testNow   = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	staffOnce sync.Once
	staffHash string
)

// demoStaff is one staff member with PIN 2468 (hashed once: PBKDF2 is slow on purpose).
func demoStaff(t testing.TB) []Staff {
	staffOnce.Do(func() {
		var err error
		staffHash, err = HashPIN("2468", bytes.NewReader(make([]byte, 16)))
		if err != nil {
			t.Fatal(err)
		}
	})
	return []Staff{{ID: "anna", Name: "Anna Bianchi", PINHash: staffHash}}
}

func newRig(t testing.TB, mode Mode) *rig {
	t.Helper()
	r := &rig{hub: newFakeHub(testNow), reader: &fakeReader{nis: nisMario, pin: "12345678", tries: 3},
		prn: &fakePrinters{}, out: &fakeOutbox{}, clock: &fakeClock{t: testNow}, journal: &MemJournal{}}
	cfg := Config{Mode: mode, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150, Staff: demoStaff(t)}
	if mode == SelfService {
		cfg.ServiceCents = 0
	}
	f, err := New(cfg, Deps{Hub: r.hub, Reader: r.reader, Printers: r.prn, Outbox: r.out, Journal: r.journal, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	r.flow = f
	return r
}

func (r *rig) step(t testing.TB, want Step) {
	t.Helper()
	if v := r.flow.View(); v.Step != want {
		t.Fatalf("on step %s, want %s (problem: %v)", v.Step, want, v.Problem)
	}
}

var _ = fees.Bollo
