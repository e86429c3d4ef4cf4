package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/printer"
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
	mu      sync.Mutex
	persons map[string]*Person // by NIS and by CF+"/"+document
	lookups []PersonQuery
	offline bool
	refuse  *Refusal
	// lookupErr, when set, is the look-up's answer (as ClientHub maps it).
	lookupErr error
	issued    []IssueRequest
	pdfFails  bool
	n         int
	now       time.Time
	onIssue   func(IssueRequest) // called as the request reaches the hub
	// Clerk log-ins: what was asked, what to answer, how many log-outs.
	logins      []api.ClerkLogin
	clerkRefuse *Refusal
	logouts     int
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
	if h.lookupErr != nil {
		return nil, h.lookupErr
	}
	h.lookups = append(h.lookups, q)
	key := q.Requester.NIS
	if q.Requester.Method == api.EvidenceDocument {
		key = q.Requester.CF + "/" + q.Requester.Document
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
	if h.onIssue != nil {
		h.onIssue(req)
	}
	h.issued = append(h.issued, req)
	h.n++
	b, err := certificate.Fees(certificate.FeeRequest{Types: req.Types, Exemption: req.Exemption, ServiceCents: 150, Channel: certificate.Counter, Contrassegno: req.Contrassegno}, certificate.Policy{})
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

func (h *fakeHub) LogInClerk(_ context.Context, req api.ClerkLogin) (*Staff, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.offline {
		return nil, fmt.Errorf("%w: dial refused", ErrOffline)
	}
	c := req
	c.CIE = cloneEvidence(req.CIE)
	h.logins = append(h.logins, c)
	if h.clerkRefuse != nil {
		return nil, h.clerkRefuse
	}
	return &Staff{ID: "cl-0001", Name: "Anna Bianchi", CF: cfMaria}, nil
}

func (h *fakeHub) LogOutClerk() {
	h.mu.Lock()
	h.logouts++
	h.mu.Unlock()
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
	taps     int // each tap's evidence differs: its nonce counts them
	err      error
	pin      string
	tries    int
	verified int
	onRead   func()
}

func (r *fakeReader) ReadCard(context.Context) (*api.RequesterEvidence, error) {
	if r.onRead != nil {
		r.onRead()
	}
	if r.err != nil {
		return nil, r.err
	}
	r.taps++
	return fakeTap(r.nis, r.taps), nil
}

// fakeTap is the evidence of tap n of the card holding nis.
func fakeTap(nis string, n int) *api.RequesterEvidence {
	return &api.RequesterEvidence{Method: api.EvidenceCIE, NIS: nis, Kpub: []byte("kpub"), SOD: []byte("sod"),
		TapNonce: bytes.Repeat([]byte{byte(n)}, 16), TappedAt: time.Date(2026, 3, 2, 10, 0, n, 0, time.UTC), Response: []byte{byte(n), 0xAA}}
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
	spool    *printer.MemSpool // where a sale's jobs wait, shared with the fake outbox
	n        int
}

// receiptJSON is the fake's format for a receipt job: the receipt itself,
// so the tests read what was printed.
const receiptJSON = "application/x-test-receipt+json"

func (p *fakePrinters) Jobs(name string, pdf []byte, r receipt.Receipt) ([]printer.Job, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	rj, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	p.n += 2
	return []printer.Job{{ID: fmt.Sprintf("job-%d", p.n-1), Name: name, Format: printer.FormatPDF, Data: bytes.Clone(pdf)},
		{ID: fmt.Sprintf("job-%d", p.n), Name: "ricevuta", Format: receiptJSON, Data: rj}}, nil
}

func (p *fakePrinters) PrintJob(ctx context.Context, id string) error {
	j, err := p.spool.Get(id)
	if err != nil {
		return err
	}
	if j.Format == printer.FormatPDF {
		err = p.PrintA4(ctx, j.Name, j.Data)
	} else {
		var r receipt.Receipt
		if err = json.Unmarshal(j.Data, &r); err == nil {
			err = p.PrintReceipt(ctx, r)
		}
	}
	if err != nil {
		j.Attempts++
		j.LastError = err.Error()
		p.spool.Put(j)
		return err
	}
	return p.spool.Delete(id)
}

func (p *fakePrinters) Spooled() ([]printer.Job, error) { return p.spool.List() }

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

// fakeOutbox journals requests in memory and delivers them through the
// fake hub, putting their jobs in the printers' spool.
type fakeOutbox struct {
	hub     *fakeHub
	spool   *printer.MemSpool
	queued  []IssueRequest // every request written, in order
	keys    []string       // the outbox key of each
	amount  int64
	full    bool                // the offline limits refuse what is not online
	claims  map[string]*Claimed // what Lookup answers, by code
	codes   map[string]string   // key → claim code
	pending []string            // keys not answered yet
	fail    error               // every Enqueue fails with it while set
	now     func() time.Time
	at      map[string]time.Time // key → when written
	// released are the claim codes whose kept request was let go.
	released []string
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

func (o *fakeOutbox) Enqueue(_ context.Context, req IssueRequest, cents int64, online bool) (string, error) {
	if o.fail != nil {
		return "", o.fail
	}
	if o.full && !online {
		return "", fmt.Errorf("offline limit reached")
	}
	if o.codes == nil {
		o.codes, o.at = map[string]string{}, map[string]time.Time{}
	}
	key := req.Key
	if waitsForPayment(req, cents) {
		key = PayKeyPrefix + key // as Queue files it
	}
	if code, ok := o.codes[key]; ok {
		return code, nil
	}
	o.queued = append(o.queued, req)
	o.keys = append(o.keys, key)
	o.amount += cents
	code := fmt.Sprintf("CLAIM%d", len(o.queued))
	o.codes[key] = code
	o.at[key] = o.now()
	o.pending = append(o.pending, key)
	o.settle(code, Claimed{State: ClaimQueued, AmountCents: cents})
	return code, nil
}

func (o *fakeOutbox) request(key string) IssueRequest {
	for i, r := range o.queued {
		if o.keys[i] == key {
			return r
		}
	}
	return IssueRequest{}
}

func (o *fakeOutbox) Deliver(ctx context.Context, key string, render Render) (*Delivery, error) {
	code, ok := o.codes[key]
	if !ok {
		return nil, errors.New("no request written under this key")
	}
	if c := o.claims[code]; c.State == ClaimIssued {
		return &Delivery{Issued: c.Issued, Claim: code}, nil
	}
	is, err := o.hub.Issue(ctx, o.request(key))
	var r *Refusal
	switch {
	case errors.As(err, &r):
		o.pending = slices.DeleteFunc(o.pending, func(k string) bool { return k == key })
		o.settle(code, Claimed{State: ClaimRefused, Reason: r.Reason, Message: r.Message})
		return nil, r
	case err != nil:
		return nil, err
	}
	pdf, err := o.hub.PDF(ctx, is.ID)
	if err != nil {
		return nil, err
	}
	jobs, err := render(is, pdf)
	if err != nil {
		return nil, err
	}
	d := &Delivery{Issued: is, Claim: code}
	for _, j := range jobs {
		o.spool.Put(j)
		d.Jobs = append(d.Jobs, j.ID)
	}
	o.pending = slices.DeleteFunc(o.pending, func(k string) bool { return k == key })
	o.settle(code, Claimed{State: ClaimIssued, Issued: is})
	return d, nil
}

func (o *fakeOutbox) Dismiss(context.Context, string) error { return nil }

func (o *fakeOutbox) Unfinished(context.Context) ([]Unfinished, error) {
	var out []Unfinished
	for _, k := range o.pending {
		r := o.request(k)
		out = append(out, Unfinished{Key: k, Claim: o.codes[k], Queued: o.at[k], Types: typeNames(r.Types), AmountCents: o.claims[o.codes[k]].AmountCents})
	}
	return out, nil
}

func (o *fakeOutbox) Pending() (int, error) { return len(o.pending), nil }

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
	pay     *fakePayments
}

var (
	testNow = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
)

func newRig(t testing.TB, mode Mode) *rig {
	t.Helper()
	spool := printer.NewMemSpool()
	hub := newFakeHub(testNow)
	r := &rig{hub: hub, reader: &fakeReader{nis: nisMario, pin: "12345678", tries: 3},
		prn: &fakePrinters{spool: spool}, out: &fakeOutbox{hub: hub, spool: spool}, clock: &fakeClock{t: testNow}, journal: &MemJournal{},
		pay: &fakePayments{hub: hub}}
	cfg := Config{Mode: mode, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150}
	if mode == SelfService {
		cfg.ServiceCents = 0
	}
	f, err := New(cfg, Deps{Hub: r.hub, Reader: r.reader, Printers: r.prn, Outbox: r.out, Journal: r.journal, Clock: r.clock, Payments: r.pay})
	if err != nil {
		t.Fatal(err)
	}
	r.out.now = r.clock.Now
	r.flow = f
	return r
}

// logIn logs the clerk in with the card and its PIN, then forgets the
// clerk's tap so the citizen's taps count from 1 in the tests.
func (r *rig) logIn() error {
	err := r.flow.LoginCard(ctx, "12345678")
	r.reader.taps, r.reader.verified = 0, 0
	return err
}

// payLast marks the last payment created paid, lets a poll fall due and
// polls: the flow then sends and prints the request.
func (r *rig) payLast(t testing.TB) {
	t.Helper()
	r.step(t, StepPay)
	r.pay.set(r.flow.View().Payment.ID, api.PaymentPaid)
	r.clock.Add(DefaultPayPoll)
	if err := r.flow.PollPayment(ctx); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) step(t testing.TB, want Step) {
	t.Helper()
	if v := r.flow.View(); v.Step != want {
		t.Fatalf("on step %s, want %s (problem: %v)", v.Step, want, v.Problem)
	}
}

var _ = fees.Bollo

// fakePayments is the hub's payments as a self-service kiosk sees them:
// each created payment waits until the test marks it paid (a till
// confirmed, or pagoPA's receipt arrived).
type fakePayments struct {
	mu        sync.Mutex
	hub       *fakeHub
	payments  map[string]*api.Payment
	byKey     map[string]string // idempotency key → payment id
	created   []IssueRequest
	methods   []string // the method of each creation tried, in order
	offer     []string // methods the hub offers; every one when nil
	cancelled []string
	polls     int
	n         int
}

func (p *fakePayments) CreatePayment(_ context.Context, req IssueRequest, method string) (*api.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hub != nil && p.hub.Ping(context.Background()) != nil {
		return nil, fmt.Errorf("%w: dial refused", ErrOffline)
	}
	p.methods = append(p.methods, method)
	if p.offer != nil && !slices.Contains(p.offer, method) {
		return nil, &Refusal{Status: 400, Reason: api.ReasonPaymentMethod, Message: "not offered"}
	}
	if p.payments == nil {
		p.payments, p.byKey = map[string]*api.Payment{}, map[string]string{}
	}
	p.created = append(p.created, req)
	if id, ok := p.byKey[req.Key]; ok && p.payments[id].State != api.PaymentExpired && p.payments[id].State != api.PaymentCancelled {
		// As the hub does: a live payment answers again; an expired or
		// cancelled one frees its key (payment.Service.Create).
		c := *p.payments[id]
		return &c, nil
	}
	p.n++
	pay := &api.Payment{ID: fmt.Sprintf("pay-%d", p.n), Method: method, State: api.PaymentPending, AmountCents: 1652,
		Created: testNow, Expires: testNow.Add(30 * time.Minute)}
	if method == api.PayAtTill {
		pay.Code = fmt.Sprintf("K7P%d", p.n)
	} else {
		pay.NoticeNumber, pay.CreditorFiscalCode = "301000000000012345", "01199250158"
		pay.QR = "PAGOPA|002|301000000000012345|01199250158|1652"
	}
	p.payments[pay.ID], p.byKey[req.Key] = pay, pay.ID
	c := *pay
	return &c, nil
}

func (p *fakePayments) Payment(_ context.Context, id string) (*api.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hub != nil && p.hub.Ping(context.Background()) != nil {
		return nil, fmt.Errorf("%w: dial refused", ErrOffline)
	}
	p.polls++
	pay, ok := p.payments[id]
	if !ok {
		return nil, &Refusal{Status: 404, Reason: api.ReasonPaymentUnknown, Message: "no such payment"}
	}
	c := *pay
	return &c, nil
}

func (p *fakePayments) CancelPayment(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cancelled = append(p.cancelled, id)
	if pay, ok := p.payments[id]; ok && pay.State == api.PaymentPending {
		pay.State = api.PaymentCancelled
	}
	return nil
}

func (p *fakePayments) ConfirmTill(_ context.Context, code string) (*api.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pay := range p.payments {
		if pay.Code == code {
			pay.State = api.PaymentPaid
			c := *pay
			return &c, nil
		}
	}
	return nil, &Refusal{Status: 404, Reason: api.ReasonPaymentUnknown, Message: "no such code"}
}

func (p *fakePayments) PendingTill(context.Context) ([]api.Payment, error) { return nil, nil }

// set moves payment id to state.
func (p *fakePayments) set(id, state string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.payments[id].State = state
}

// Kept answers the request of a claim the fake keeps for its collection.
func (o *fakeOutbox) Kept(_ context.Context, code string) (IssueRequest, error) {
	c, ok := o.claims[code]
	if !ok || !c.Kept {
		return IssueRequest{}, fmt.Errorf("%w: %s is kept for no collection", ErrClaimUnknown, code)
	}
	for k, cc := range o.codes {
		if cc == code {
			r := o.request(k)
			r.Requester = cloneEvidence(r.Requester)
			return r, nil
		}
	}
	return IssueRequest{}, errors.New("no request")
}

func (o *fakeOutbox) Release(_ context.Context, code string) error {
	if c, ok := o.claims[code]; ok {
		c.Kept = false
		o.released = append(o.released, code)
	}
	return nil
}

// confirm is the outbox's sender delivering a queued self-service request
// once the hub answers: the hub made its payment, the request is kept for
// its collection, nothing is printed.
func (o *fakeOutbox) confirm(t testing.TB, code string, pay *fakePayments) *api.Payment {
	t.Helper()
	for k, cc := range o.codes {
		if cc != code {
			continue
		}
		p, err := pay.CreatePayment(context.Background(), o.request(k), api.PayPagoPA)
		if err != nil {
			t.Fatal(err)
		}
		o.pending = slices.DeleteFunc(o.pending, func(x string) bool { return x == k })
		c := o.claims[code]
		c.Payment, c.Kept = p, true
		return p
	}
	t.Fatalf("no claim %s", code)
	return nil
}

// CopyPDF is the hub's "COPIA" PDF of a certificate.
func (h *fakeHub) CopyPDF(_ context.Context, id string) ([]byte, error) {
	if h.pdfFails {
		return nil, fmt.Errorf("%w: timeout", ErrOffline)
	}
	return []byte("%PDF-1.7 COPIA " + id), nil
}
