package kiosk

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/iso7816"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/receipt"
)

// ---- card reader ----

// CIEReader reads CIEs through a cardreader.Provider (PC/SC, CCID or the
// in-process virtual card), trusting CSCAs.
type CIEReader struct {
	Provider cardreader.Provider
	Reader   string // "" for the first reader holding a card
	CSCAs    []*x509.Certificate
	// KeyID is the key id the hub knows this device by (its profile's):
	// each tap's challenge is bound to it, so the chip's answer proves the
	// card was read here and by no other device.
	KeyID string
	// PIN configures the secure channel the self-service PIN travels in.
	PIN cie.PINOptions
	// Now checks the card's certificates; it also stamps each tap (whole
	// seconds) unless TapClock is set.
	Now func() time.Time
	// TapClock stamps each tap. The hub bounds how old a tap it accepts
	// is, by its own clock, so a kiosk sets the clock it signs its
	// requests with (hubclient.Client.HubNow): a device clock that is off
	// does not make every tap look stale.
	TapClock func() time.Time
	Rand     io.Reader // the tap nonces; crypto/rand when nil

	mu   sync.Mutex
	card cardreader.Card // the card read last, for the PIN
}

// ReadCard waits for a card, reads it at level 1 over a challenge bound to
// this device, a fresh nonce and the tap's time (cie.TapChallenge), and
// returns what the hub needs to check the tap itself. It still verifies
// the card here, so a clone or a card the issuer did not sign is refused
// at once.
func (r *CIEReader) ReadCard(ctx context.Context) (*api.RequesterEvidence, error) {
	if r.KeyID == "" {
		return nil, problem("card_unreadable", "the card reader does not know this device's key id, which every tap is bound to", nil)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	tapClock := now
	if r.TapClock != nil {
		tapClock = r.TapClock
	}
	rnd := r.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	nonce := make([]byte, cie.TapNonceSize)
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("could not draw the tap's nonce: %w", err)
	}
	// The card read last is let go first: a PC/SC reader shares a card
	// with one connection, and the clerk's own card, read at log-in, may
	// still be on it.
	r.mu.Lock()
	if r.card != nil {
		r.card.Close()
		r.card = nil
	}
	r.mu.Unlock()
	card, err := r.connect(ctx)
	if err != nil {
		return nil, err
	}
	tapped := tapClock().UTC().Truncate(time.Second)
	challenge := cie.TapChallenge(r.KeyID, nonce, tapped)
	c, err := cie.Collect(ctx, iso7816.NewChannel(card), bytes.NewReader(challenge))
	if err != nil {
		card.Close()
		return nil, err
	}
	res := cie.Verify(c, cie.Options{CSCAs: r.CSCAs, Now: now()})
	if !res.Verified() {
		card.Close()
		detail := "the card did not prove itself genuine"
		if len(res.Problems) > 0 {
			detail = res.Problems[0].Detail
		}
		return nil, problem("card_not_genuine", "the card is not a genuine CIE: "+detail, nil)
	}
	r.mu.Lock()
	if r.card != nil {
		r.card.Close()
	}
	r.card = card
	r.mu.Unlock()
	return &api.RequesterEvidence{Method: api.EvidenceCIE, NIS: res.NIS, Kpub: c.Kpub, SOD: c.SOD,
		TapNonce: nonce, TappedAt: tapped, Response: c.Response}, nil
}

func (r *CIEReader) connect(ctx context.Context) (cardreader.Card, error) {
	card, err := r.Provider.Connect(ctx, r.Reader)
	if err == nil || !errors.Is(err, cardreader.ErrNoCard) {
		return card, err
	}
	var readers []string
	if r.Reader != "" {
		readers = []string{r.Reader}
	}
	var got string
	r.Provider.Watch(ctx, readers, func(e cardreader.Event) bool {
		if e.Kind == cardreader.Inserted {
			got = e.Reader
			return false
		}
		return true
	})
	if got == "" {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, cardreader.ErrNoCard
	}
	return r.Provider.Connect(ctx, got)
}

// WatchCards reports cards placed on and taken off the configured reader
// (every reader when none is configured).
func (r *CIEReader) WatchCards(ctx context.Context, fn func(placed bool)) error {
	var readers []string
	if r.Reader != "" {
		readers = []string{r.Reader}
	}
	return r.Provider.Watch(ctx, readers, func(e cardreader.Event) bool {
		fn(e.Kind == cardreader.Inserted)
		return true
	})
}

// VerifyPIN checks the PIN on the card read last.
func (r *CIEReader) VerifyPIN(ctx context.Context, pin string) error {
	r.mu.Lock()
	card := r.card
	r.mu.Unlock()
	if card == nil {
		return problem("card_unreadable", "tap the card again before typing the PIN", nil)
	}
	err := cie.VerifyPIN(ctx, card, []byte(pin), r.PIN)
	var pe *cie.PINError
	if errors.As(err, &pe) {
		return &PINError{TriesLeft: pe.TriesLeft, Blocked: pe.Blocked}
	}
	return err
}

// Status says whether a reader is there.
func (r *CIEReader) Status(ctx context.Context) string {
	names, err := r.Provider.Readers(ctx)
	switch {
	case err != nil:
		return err.Error()
	case len(names) == 0:
		return cardreader.ErrNoReader.Error()
	}
	return ""
}

// Close releases the card.
func (r *CIEReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card != nil {
		err := r.card.Close()
		r.card = nil
		return err
	}
	return nil
}

// ---- printers ----

// DevicePrinters prints A4 certificates (PDF) and ESC/POS receipts through
// printer.Printer, which keeps failed jobs in its spool for reprint. Both
// printers share one spool (the kiosk's is JobSpool, in the outbox file).
type DevicePrinters struct {
	A4      *printer.Printer
	Receipt *printer.Printer
	Profile escpos.Profile
	Now     func() time.Time

	mu sync.Mutex // one job at a time: the sender prints while the counter does
}

func (p *DevicePrinters) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *DevicePrinters) PrintA4(ctx context.Context, name string, pdf []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.A4.Print(ctx, p.a4Job(name, pdf))
}

func (p *DevicePrinters) a4Job(name string, pdf []byte) printer.Job {
	now := p.now()
	return printer.Job{ID: printer.NewJobID(now), Name: name, Format: printer.FormatPDF, Printer: p.A4.URI, Created: now, Data: pdf}
}

func (p *DevicePrinters) PrintReceipt(ctx context.Context, r receipt.Receipt) error {
	job, err := p.receiptJob(r)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Receipt.Print(ctx, job)
}

func (p *DevicePrinters) receiptJob(r receipt.Receipt) (printer.Job, error) {
	data, err := receipt.Encode(r, p.Profile)
	if err != nil {
		return printer.Job{}, err
	}
	now := p.now()
	name := "ricevuta"
	if len(r.Certificates) > 0 {
		name += " " + r.Certificates[0].Protocol
	}
	return printer.Job{ID: printer.NewJobID(now), Name: name, Format: printer.FormatESCPOS, Printer: p.Receipt.URI, Created: now, Data: data}, nil
}

func (p *DevicePrinters) PrintClaim(ctx context.Context, c receipt.Claim) error {
	data, err := receipt.EncodeClaim(c, p.Profile)
	if err != nil {
		return err
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.Receipt.Print(ctx, printer.Job{ID: printer.NewJobID(now), Name: "ricevuta di prenotazione " + c.Code, Format: printer.FormatESCPOS, Printer: p.Receipt.URI, Created: now, Data: data})
}

// Jobs renders a sale's certificate and receipt, in that order.
func (p *DevicePrinters) Jobs(name string, pdf []byte, r receipt.Receipt) ([]printer.Job, error) {
	rj, err := p.receiptJob(r)
	if err != nil {
		return nil, err
	}
	return []printer.Job{p.a4Job(name, pdf), rj}, nil
}

// PrintJob prints a spooled job on the printer for its format (the A4 one
// for PDFs, the receipt one for ESC/POS) and lets it go once printed.
func (p *DevicePrinters) PrintJob(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	job, err := p.A4.Spool.Get(id)
	if err != nil {
		return err
	}
	pr := p.Receipt
	if job.Format == printer.FormatPDF {
		pr = p.A4
	}
	return pr.PrintSpooled(ctx, job)
}

// Spooled lists the jobs waiting in the spool.
func (p *DevicePrinters) Spooled() ([]printer.Job, error) { return p.A4.Spool.List() }

func (p *DevicePrinters) Status(ctx context.Context) string {
	for _, pr := range []*printer.Printer{p.A4, p.Receipt} {
		st, err := pr.Transport.Status(ctx)
		if errors.Is(err, printer.ErrNoStatus) {
			continue
		}
		if err != nil {
			return err.Error()
		}
		if err := st.Err(); err != nil {
			return err.Error()
		}
	}
	return ""
}

// ---- outbox ----

// QueueKind is the outbox operation kind of a queued certificate request.
const QueueKind = "certificate.request"

// QueuePayKind is the outbox operation kind of a self-service request
// queued while the hub could not be reached: delivering it asks the hub
// for its payment (which confirms the requester and the eligibility), and
// the request is then kept for its collection at the kiosk (collect.go).
// Its outbox key is PayKeyPrefix and the request's own key, which the hub
// sees (the payment's Idempotency-Key is the request's).
const QueuePayKind = "certificate.payment"

// PayKeyPrefix prefixes the outbox key of a QueuePayKind operation, so the
// request sent once paid is queued under its own key.
const PayKeyPrefix = "pay-"

// waitsForPayment says a request must be paid before the hub issues it: a
// self-service request with a total above zero that names no payment
// (api.ReasonPaymentRequired).
func waitsForPayment(req IssueRequest, amountCents int64) bool {
	return req.Channel == certificate.SelfService && req.PaymentID == "" && amountCents > 0
}

// Queue is the kiosk's journal of requests in its bbolt outbox: each
// request is written there before it is sent, delivered through Hub, and
// committed with its print jobs.
type Queue struct {
	Outbox *outbox.Outbox
	Hub    Hub
	// Answered, when set, is called once the hub's answer to a request
	// sent at the counter is read, before it is committed. It is a test
	// hook: the kiosk's crash test stops the process there.
	Answered func()
	// Payments and PayMethods deliver QueuePayKind operations (a
	// self-service kiosk's), should Recover send one.
	Payments   Payments
	PayMethods []string
}

func (q *Queue) Enqueue(ctx context.Context, req IssueRequest, amountCents int64, online bool) (string, error) {
	payload, err := json.Marshal(queued{req.Key, requestOf(req)})
	if err != nil {
		return "", err
	}
	kind, key := QueueKind, req.Key
	if waitsForPayment(req, amountCents) {
		// Not sent now (Now would hold it for a Deliver that never
		// comes): the sender asks for its payment when the hub answers.
		kind, key = QueuePayKind, PayKeyPrefix+req.Key
		online = false
	}
	e, err := q.Outbox.Enqueue(ctx, outbox.Op{Kind: kind, IdempotencyKey: key, Payload: payload, PersonalData: true,
		AmountCents: amountCents, Now: kind == QueueKind, Online: online})
	if err != nil {
		return "", err
	}
	return e.ClaimCode, nil
}

func (q *Queue) Deliver(ctx context.Context, key string, render Render) (*Delivery, error) {
	e, err := q.Outbox.LookupKey(key)
	if err != nil {
		return nil, err
	}
	// A request never sent before is a sale nobody was promised yet (the
	// claim code is printed only once a delivery failed): if the hub will
	// not hear this device (api.Hold, e.g. a suspended device) it is
	// refused, with nothing charged, rather than queued behind a claim
	// code for a device that may not be heard for days. One sent before
	// has its claim code and stays queued, in order, as the Sender keeps it.
	out, derr := q.Outbox.Deliver(ctx, e.ID, deliverer(delivererOpts{hub: q.Hub, payments: q.Payments, methods: q.PayMethods, render: render,
		answered: q.Answered, live: e.Attempts == 0}))
	switch out.Entry.State {
	case outbox.Delivered:
		d := &Delivery{Claim: out.Entry.ClaimCode}
		if out.Result.Body == nil {
			// Delivered before (by the sender): its jobs were committed then.
			d.Issued = decodeDelivery(out.Entry.ResultRef)
			return d, nil
		}
		var is Issued
		if err := json.Unmarshal(out.Result.Body, &is); err != nil {
			return nil, fmt.Errorf("the hub's answer kept for claim %s is unreadable: %w", d.Claim, err)
		}
		d.Issued = &is
		for _, j := range out.Result.Jobs {
			d.Jobs = append(d.Jobs, j.ID)
		}
		return d, nil
	case outbox.Refused, outbox.Dismissed:
		r := &Refusal{Reason: "refused"}
		if out.Entry.Refusal != nil {
			r.Reason, r.Message = out.Entry.Refusal.Reason, out.Entry.Refusal.Message
		}
		if r.Message == "" {
			r.Message = "the hub refused the request (" + r.Reason + ")"
		}
		return nil, r
	}
	if derr == nil {
		derr = errors.New("the request is still waiting for the hub")
	}
	return nil, derr
}

func (q *Queue) Dismiss(_ context.Context, key string) error {
	e, err := q.Outbox.LookupKey(key)
	if err != nil {
		return err
	}
	if e.State != outbox.Refused {
		return nil
	}
	return q.Outbox.Dismiss(e.ID)
}

func (q *Queue) Unfinished(context.Context) ([]Unfinished, error) {
	es, err := q.Outbox.PendingPayloads()
	if err != nil {
		return nil, err
	}
	var out []Unfinished
	for _, e := range es {
		if e.Kind != QueueKind && e.Kind != QueuePayKind {
			continue
		}
		u := Unfinished{Key: e.IdempotencyKey, Claim: e.ClaimCode, Queued: e.EnqueuedAt, AmountCents: e.AmountCents}
		if req, err := DecodeQueued(e.Payload); err == nil {
			u.Types = typeNames(req.Types)
		}
		out = append(out, u)
	}
	return out, nil
}

func (q *Queue) Pending() (int, error) {
	st, err := q.Outbox.Stats()
	return st.Pending, err
}

// Lookup reads a claim code's operation back from the outbox: its state,
// and for a delivered one the issued certificate kept in its tombstone.
func (q *Queue) Lookup(_ context.Context, code string) (*Claimed, error) {
	e, err := q.Outbox.Lookup(code)
	switch {
	case errors.Is(err, outbox.ErrNotFound):
		return nil, fmt.Errorf("%w: %s", ErrClaimUnknown, code)
	case err != nil:
		return nil, err
	}
	if e.Kind != QueueKind && e.Kind != QueuePayKind {
		return nil, fmt.Errorf("%w: %s names a %s operation, not a certificate request", ErrClaimUnknown, code, e.Kind)
	}
	c := &Claimed{Code: e.ClaimCode, Queued: e.EnqueuedAt, Settled: e.DoneAt, AmountCents: e.AmountCents,
		Attempts: e.Attempts, LastError: e.LastError, Kept: e.Kept}
	switch e.State {
	case outbox.Pending:
		c.State = ClaimQueued
	case outbox.Delivered:
		if e.Kind == QueuePayKind {
			// Confirmed: the hub made its payment; not issued until
			// paid at the collection.
			c.State = ClaimQueued
			c.Payment = decodePayment(e.ResultRef)
			break
		}
		c.State = ClaimIssued
		c.Issued = decodeDelivery(e.ResultRef)
	default: // refused, or refused and dismissed by the operator
		c.State = ClaimRefused
		if e.Refusal != nil {
			c.Reason, c.Message = e.Refusal.Reason, e.Refusal.Message
		}
	}
	return c, nil
}

// Kept reads back the request a self-service claim keeps for its
// collection.
func (q *Queue) Kept(_ context.Context, code string) (IssueRequest, error) {
	e, err := q.Outbox.Lookup(code)
	if err != nil {
		return IssueRequest{}, err
	}
	payload, err := q.Outbox.KeptPayload(e.ID)
	if err != nil {
		return IssueRequest{}, err
	}
	return DecodeQueued(payload)
}

// Release forgets a collected claim's request.
func (q *Queue) Release(_ context.Context, code string) error {
	e, err := q.Outbox.Lookup(code)
	if err != nil {
		return err
	}
	return q.Outbox.Release(e.ID)
}

// keptPayment is what an outbox tombstone keeps of the payment the hub
// made for a QueuePayKind operation: its identifier and how it is paid,
// nothing that names the person.
type keptPayment struct {
	ID          string    `json:"payment_id"`
	Method      string    `json:"method"`
	AmountCents int64     `json:"amount_cents"`
	Expires     time.Time `json:"expires"`
}

func encodePayment(p *api.Payment) string {
	b, _ := json.Marshal(keptPayment{ID: p.ID, Method: p.Method, AmountCents: p.AmountCents, Expires: p.Expires})
	return string(b)
}

func decodePayment(ref string) *api.Payment {
	var k keptPayment
	if json.Unmarshal([]byte(ref), &k) != nil || k.ID == "" {
		return nil
	}
	return &api.Payment{ID: k.ID, Method: k.Method, AmountCents: k.AmountCents, Expires: k.Expires, State: api.PaymentPending}
}

// delivery is what an outbox tombstone keeps of an issued certificate: enough
// to print it and its receipt again when the citizen returns with the claim
// code, and nothing that names the person.
type delivery struct {
	ID         string      `json:"id"`
	Protocol   string      `json:"protocol"`
	Types      []string    `json:"types"`
	Fees       []fees.Line `json:"fees"`
	TotalCents int64       `json:"total_cents"`
	VerifyURL  string      `json:"verify_url"`
	Issued     time.Time   `json:"issued"`
}

func encodeDelivery(is *Issued) string {
	b, _ := json.Marshal(delivery{ID: is.ID, Protocol: is.Protocol, Types: is.Types, Fees: is.Fees, TotalCents: is.TotalCents,
		VerifyURL: is.VerifyURL, Issued: is.Issued})
	return string(b)
}

// decodeDelivery reads a tombstone's reference; one that is not JSON is a
// bare protocol number, as kiosks kept before.
func decodeDelivery(ref string) *Issued {
	var d delivery
	if !strings.HasPrefix(ref, "{") || json.Unmarshal([]byte(ref), &d) != nil {
		return &Issued{Protocol: ref}
	}
	return &Issued{ID: d.ID, Protocol: d.Protocol, Types: d.Types, Fees: d.Fees, TotalCents: d.TotalCents, VerifyURL: d.VerifyURL, Issued: d.Issued}
}

// queued is a queued request as stored in the outbox: the key and the
// API's body, so a delivery sends exactly what the citizen confirmed.
type queued struct {
	Key  string                 `json:"key"`
	Body api.CertificateRequest `json:"body"`
}

// DecodeQueued reads a queued certificate request back from its payload.
func DecodeQueued(payload []byte) (IssueRequest, error) {
	var q queued
	if err := json.Unmarshal(payload, &q); err != nil {
		return IssueRequest{}, fmt.Errorf("the queued request is not the expected JSON: %w", err)
	}
	req := IssueRequest{Key: q.Key, SubjectCF: q.Body.CF, Exemption: q.Body.Exemption, Requester: q.Body.Requester,
		Channel: certificate.Channel(q.Body.Channel), Contrassegno: q.Body.Contrassegno, Use: q.Body.Use,
		At: q.Body.At, PaymentID: q.Body.PaymentID}
	for _, t := range q.Body.Types {
		req.Types = append(req.Types, certificate.Type(t))
	}
	return req, nil
}

// Deliverer sends queued certificate requests to hub, for the outbox's
// Sender. A request is delivered once the hub issued it and its PDF is in
// hand: the answer (an Issued, as JSON) and the print jobs render makes of
// it are committed together, and OnResult prints the jobs. A PDF that
// cannot be downloaded leaves the request pending, to be sent again under
// its key (the hub answers the same certificate).
func Deliverer(hub Hub, render Render) outbox.Deliverer {
	return deliverer(delivererOpts{hub: hub, render: render})
}

// SelfServiceDeliverer sends a self-service kiosk's queued requests: a
// QueuePayKind one asks the hub for its payment, a paid one is issued; both
// keep their request for the collection at the kiosk, with nothing to print
// (a certificate is never printed into an unattended tray).
func SelfServiceDeliverer(hub Hub, payments Payments, methods []string) outbox.Deliverer {
	return deliverer(delivererOpts{hub: hub, payments: payments, methods: methods, keep: true})
}

// delivererOpts configures deliverer: live, for a sale the citizen waits for at
// the counter, turns a Hold into a refusal (the Sender, delivering what was
// queued, keeps it in the queue until the device may speak again); keep
// keeps the request for its collection (outbox.Result.Keep), rendering no
// print jobs.
type delivererOpts struct {
	hub      Hub
	payments Payments
	methods  []string
	render   Render
	answered func()
	live     bool
	keep     bool
}

// deliverer is Deliverer and SelfServiceDeliverer.
func deliverer(o delivererOpts) outbox.Deliverer {
	hub, render, answered, live := o.hub, o.render, o.answered, o.live
	if o.keep {
		render = nil
	}
	return outbox.DelivererFunc(func(ctx context.Context, e outbox.Entry) (outbox.Result, error) {
		if e.Kind != QueueKind && e.Kind != QueuePayKind {
			return outbox.Result{}, &outbox.Refusal{Reason: "unknown_kind", Message: fmt.Sprintf("this kiosk cannot deliver %q operations", e.Kind)}
		}
		req, err := DecodeQueued(e.Payload)
		if err != nil {
			return outbox.Result{}, &outbox.Refusal{Reason: "bad_payload", Message: err.Error()}
		}
		if e.Kind == QueuePayKind {
			return o.askPayment(ctx, req)
		}
		if req.Requester == nil {
			// Queued by a kiosk from before requester evidence: the hub
			// refuses it, and nobody can add the tap now. A refusal the
			// operator sees, not a retry for ever.
			return outbox.Result{}, &outbox.Refusal{Reason: api.ReasonRequesterEvidenceRequired, Message: "the request was queued without the evidence of who asked for it, which the hub requires: the citizen must ask again"}
		}
		is, err := hub.Issue(ctx, req)
		if err != nil {
			if r, ok := api.Refused(err); ok && live && r.Disposition() == api.Hold {
				// A sale being made: refused now, not queued (Queue.Deliver).
				return outbox.Result{}, &outbox.Refusal{Reason: r.Reason, Message: r.Message}
			}
			// The hub's answer (*api.Refusal), if any, is in the chain
			// with the client's error around it (a 503 is ErrOffline):
			// the outbox decides by it, as api.Decide says.
			return outbox.Result{}, err
		}
		if answered != nil {
			answered()
		}
		pdf, err := hub.PDF(ctx, is.ID)
		if err != nil {
			// A refusal here is no refusal of the request: it was issued.
			return outbox.Result{}, &outbox.RetryableError{Err: fmt.Errorf("the hub issued certificate %s but its PDF could not be downloaded: %w", is.Protocol, keepOffline(err))}
		}
		res := outbox.Result{Ref: encodeDelivery(is), Keep: o.keep}
		if render != nil {
			jobs, err := render(is, pdf)
			if err != nil {
				return outbox.Result{}, fmt.Errorf("the print jobs of certificate %s cannot be made: %w", is.Protocol, err)
			}
			for _, j := range jobs {
				oj, err := spoolJob(j)
				if err != nil {
					return outbox.Result{}, err
				}
				res.Jobs = append(res.Jobs, oj)
			}
		}
		res.Body, _ = json.Marshal(is)
		return res, nil
	})
}

// askPayment asks the hub for the payment of a queued self-service request,
// by the first method it offers: the hub checks the requester and the
// eligibility as for issuing, so an answer confirms the request, which is
// then kept for its collection. A refusal is the request's: the citizen
// is told at the collection.
func (o delivererOpts) askPayment(ctx context.Context, req IssueRequest) (outbox.Result, error) {
	if o.payments == nil {
		return outbox.Result{}, &outbox.RetryableError{Err: errors.New("this kiosk has no payments to ask the hub for")}
	}
	methods := o.methods
	if len(methods) == 0 {
		methods = DefaultPayMethods()
	}
	p, err := payByFirst(methods, func(m string) (*api.Payment, error) { return o.payments.CreatePayment(ctx, req, m) })
	if err != nil {
		// The hub's answer, if any, is the outbox's to decide (api.Decide).
		return outbox.Result{}, err
	}
	body, _ := json.Marshal(p)
	return outbox.Result{Ref: encodePayment(p), Body: body, Keep: true}, nil
}

// keepOffline keeps ErrOffline in an error's chain and nothing else, so
// that a failure after the issue is never taken for a refusal of it.
func keepOffline(err error) error {
	if errors.Is(err, ErrOffline) {
		return fmt.Errorf("%w: %v", ErrOffline, err)
	}
	return errors.New(err.Error())
}

// JobSpool is the kiosk's print spool kept in its outbox file, where a
// sale's jobs are committed together with the hub's answer (see
// outbox.Job): a printer.Spool for printer.Printer and the kiosk's
// commands. Jobs are sealed with the outbox key there.
type JobSpool struct{ Outbox *outbox.Outbox }

func spoolJob(j printer.Job) (outbox.Job, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return outbox.Job{}, err
	}
	return outbox.Job{ID: j.ID, Data: b}, nil
}

func unspoolJob(oj outbox.Job) (printer.Job, error) {
	var j printer.Job
	if err := json.Unmarshal(oj.Data, &j); err != nil {
		return printer.Job{}, fmt.Errorf("print job %s in the outbox is not a print job: %w", oj.ID, err)
	}
	if j.ID != oj.ID {
		return printer.Job{}, fmt.Errorf("print job %s in the outbox holds job %s", oj.ID, j.ID)
	}
	return j, nil
}

func noJob(id string, err error) error {
	if errors.Is(err, outbox.ErrNoJob) {
		return fmt.Errorf("job %q: %w", id, printer.ErrNoJob)
	}
	return err
}

func (s *JobSpool) Put(j printer.Job) error {
	oj, err := spoolJob(j)
	if err != nil {
		return err
	}
	return s.Outbox.PutJob(oj)
}

func (s *JobSpool) Get(id string) (printer.Job, error) {
	oj, err := s.Outbox.Job(id)
	if err != nil {
		return printer.Job{}, noJob(id, err)
	}
	return unspoolJob(oj)
}

// List returns the jobs in the order they came into the spool. One that
// cannot be read is named in the error and does not hide the others.
func (s *JobSpool) List() ([]printer.Job, error) {
	ojs, err := s.Outbox.Jobs()
	out := make([]printer.Job, 0, len(ojs))
	for _, oj := range ojs {
		j, jerr := unspoolJob(oj)
		if jerr != nil {
			err = errors.Join(err, jerr)
			continue
		}
		out = append(out, j)
	}
	return out, err
}

func (s *JobSpool) Delete(id string) error { return noJob(id, s.Outbox.DeleteJob(id)) }

// DirTransport is a file printer that keeps every job: DIR/ID.EXT, with
// .pdf for A4 and .bin for ESC/POS. It is the demo's printer. Jobs are
// certificates and receipts of people: the files and a directory it makes
// are the kiosk user's only.
type DirTransport struct{ Dir string }

func (d *DirTransport) Send(_ context.Context, job printer.Job) error {
	ext := ".bin"
	if job.Format == printer.FormatPDF {
		ext = ".pdf"
	}
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(d.Dir, job.ID+ext), job.Data, 0o600)
}

func (d *DirTransport) Status(context.Context) (printer.Status, error) {
	return printer.Status{}, printer.ErrNoStatus
}

func (d *DirTransport) Close() error { return nil }

// ---- payments ----

// ClientPayments is Payments over the kiosk's signed hub client.
type ClientPayments struct{ C *hubclient.Client }

// NewClientPayments binds an enrolled client.
func NewClientPayments(c *hubclient.Client) *ClientPayments { return &ClientPayments{C: c} }

// CreatePayment asks the hub for the payment of req, under req's own
// Idempotency-Key: the request sent once paid carries the same key, and a
// retry answers the same payment.
func (p *ClientPayments) CreatePayment(ctx context.Context, req IssueRequest, method string) (*api.Payment, error) {
	pay, err := p.C.CreatePayment(ctx, api.PaymentRequest{Request: requestOf(req), Method: method}, req.Key)
	return pay, clientErr(err)
}

func (p *ClientPayments) Payment(ctx context.Context, id string) (*api.Payment, error) {
	pay, err := p.C.Payment(ctx, id)
	return pay, clientErr(err)
}

func (p *ClientPayments) CancelPayment(ctx context.Context, id string) error {
	return clientErr(p.C.CancelPayment(ctx, id))
}

func (p *ClientPayments) ConfirmTill(ctx context.Context, code string) (*api.Payment, error) {
	pay, err := p.C.ConfirmPayment(ctx, api.PaymentConfirm{Code: code})
	return pay, clientErr(err)
}

func (p *ClientPayments) PendingTill(ctx context.Context) ([]api.Payment, error) {
	l, err := p.C.PendingPayments(ctx)
	if err != nil {
		return nil, clientErr(err)
	}
	return l.Payments, nil
}
