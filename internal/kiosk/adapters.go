package kiosk

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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
	// PIN configures the secure channel the self-service PIN travels in.
	PIN cie.PINOptions
	Now func() time.Time

	mu   sync.Mutex
	card cardreader.Card // the card read last, for the PIN
}

// ReadCard waits for a card and reads it at level 1.
func (r *CIEReader) ReadCard(ctx context.Context) (string, error) {
	card, err := r.connect(ctx)
	if err != nil {
		return "", err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	res, err := cie.ReadLevel1(ctx, card, cie.Options{CSCAs: r.CSCAs, Now: now()})
	if err != nil {
		card.Close()
		return "", err
	}
	if !res.Verified() {
		card.Close()
		detail := "the card did not prove itself genuine"
		if len(res.Problems) > 0 {
			detail = res.Problems[0].Detail
		}
		return "", problem("card_not_genuine", "the card is not a genuine CIE: "+detail, nil)
	}
	r.mu.Lock()
	if r.card != nil {
		r.card.Close()
	}
	r.card = card
	r.mu.Unlock()
	return res.NIS, nil
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
// printer.Printer, which keeps failed jobs in its spool for reprint.
type DevicePrinters struct {
	A4      *printer.Printer
	Receipt *printer.Printer
	Profile escpos.Profile
	Now     func() time.Time
}

func (p *DevicePrinters) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *DevicePrinters) PrintA4(ctx context.Context, name string, pdf []byte) error {
	now := p.now()
	return p.A4.Print(ctx, printer.Job{ID: printer.NewJobID(now), Name: name, Format: printer.FormatPDF, Printer: p.A4.URI, Created: now, Data: pdf})
}

func (p *DevicePrinters) PrintReceipt(ctx context.Context, r receipt.Receipt) error {
	data, err := receipt.Encode(r, p.Profile)
	if err != nil {
		return err
	}
	now := p.now()
	name := "ricevuta"
	if len(r.Certificates) > 0 {
		name += " " + r.Certificates[0].Protocol
	}
	return p.Receipt.Print(ctx, printer.Job{ID: printer.NewJobID(now), Name: name, Format: printer.FormatESCPOS, Printer: p.Receipt.URI, Created: now, Data: data})
}

func (p *DevicePrinters) PrintClaim(ctx context.Context, c receipt.Claim) error {
	data, err := receipt.EncodeClaim(c, p.Profile)
	if err != nil {
		return err
	}
	now := p.now()
	return p.Receipt.Print(ctx, printer.Job{ID: printer.NewJobID(now), Name: "ricevuta di prenotazione " + c.Code, Format: printer.FormatESCPOS, Printer: p.Receipt.URI, Created: now, Data: data})
}

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

// Queue puts requests in the kiosk's bbolt outbox.
type Queue struct{ Outbox *outbox.Outbox }

func (q *Queue) Enqueue(ctx context.Context, req IssueRequest, amountCents int64) (string, error) {
	payload, err := json.Marshal(queued{req.Key, requestOf(req)})
	if err != nil {
		return "", err
	}
	e, err := q.Outbox.Enqueue(ctx, outbox.Op{Kind: QueueKind, IdempotencyKey: req.Key, Payload: payload, PersonalData: true, AmountCents: amountCents})
	if err != nil {
		return "", err
	}
	return e.ClaimCode, nil
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
	if e.Kind != QueueKind {
		return nil, fmt.Errorf("%w: %s names a %s operation, not a certificate request", ErrClaimUnknown, code, e.Kind)
	}
	c := &Claimed{Code: e.ClaimCode, Queued: e.EnqueuedAt, Settled: e.DoneAt, AmountCents: e.AmountCents,
		Attempts: e.Attempts, LastError: e.LastError}
	switch e.State {
	case outbox.Pending:
		c.State = ClaimQueued
	case outbox.Delivered:
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
	req := IssueRequest{Key: q.Key, SubjectCF: q.Body.CF, Exemption: q.Body.Exemption, RequesterCF: q.Body.RequesterCF,
		Channel: certificate.Channel(q.Body.Channel)}
	for _, t := range q.Body.Types {
		req.Types = append(req.Types, certificate.Type(t))
	}
	return req, nil
}

// Deliverer sends queued certificate requests to hub, for the outbox's
// Sender. The hub's answer (an Issued, as JSON) goes to OnResult, which
// prints it.
func Deliverer(hub Hub) outbox.Deliverer {
	return outbox.DelivererFunc(func(ctx context.Context, e outbox.Entry) (outbox.Result, error) {
		if e.Kind != QueueKind {
			return outbox.Result{}, outbox.ClassifyHTTP(http.StatusBadRequest, 0, "unknown_kind", fmt.Sprintf("this kiosk cannot deliver %q operations", e.Kind))
		}
		req, err := DecodeQueued(e.Payload)
		if err != nil {
			return outbox.Result{}, outbox.ClassifyHTTP(http.StatusBadRequest, 0, "bad_payload", err.Error())
		}
		is, err := hub.Issue(ctx, req)
		var r *Refusal
		var ae *hubclient.APIError
		switch {
		case errors.As(err, &r):
			return outbox.Result{}, outbox.ClassifyHTTP(r.Status, 0, r.Reason, r.Message)
		case errors.As(err, &ae):
			// The hub answered, unavailable or failing on this request:
			// the outbox retries the one and sets the other aside.
			return outbox.Result{}, outbox.ClassifyHTTP(ae.Status, ae.RetryAfter, ae.Reason, ae.Message)
		case err != nil:
			return outbox.Result{}, err
		}
		body, _ := json.Marshal(is)
		return outbox.Result{Ref: encodeDelivery(is), Body: body}, nil
	})
}

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
