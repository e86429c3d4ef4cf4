// Package kiosk holds the kiosk's flows as state machines with no user
// interface: the shop operator's counter (staff log-in, identification by CIE
// or by codice fiscale and document, choice of certificates and purpose, fee
// preview, issue, print, reprint, end-of-day summary) and the citizen's
// self-service (language, CIE and PIN, certificates for oneself and one's
// family, an idle timeout that forgets everything).
//
// A Flow talks to the world only through the small interfaces below (Hub,
// CardReader, Printers, Outbox, Clock), so every path is tested with fakes;
// adapters.go binds them to the real hub client, card stack, printers and
// outbox. internal/kiosk/ui renders a Flow's View and calls its actions.
package kiosk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/receipt"
)

// Mode is how the kiosk is used.
type Mode string

const (
	Operator    Mode = "operator"     // a shop's counter, run by its staff
	SelfService Mode = "self-service" // a citizen alone at a kiosk
)

// Key is the mode in translation keys: "operator" or "self_service".
func (m Mode) Key() string {
	if m == SelfService {
		return "self_service"
	}
	return "operator"
}

// ParseMode reads a --mode value.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case Operator, SelfService:
		return Mode(s), nil
	}
	return "", fmt.Errorf("mode %q is neither operator nor self-service", s)
}

// Lang is a language of the screens and receipts.
type Lang string

const (
	Italian Lang = "it"
	English Lang = "en"
)

// Langs lists the languages offered on the start screen.
var Langs = []Lang{Italian, English}

// Person is who the hub found: the citizen identified, with the other members
// of the famiglia anagrafica, for whom self-service may also ask.
type Person struct {
	CF         string
	Surname    string
	GivenNames string
	BirthDate  string // YYYY-MM-DD
	Family     []Member
	// Eligibility is what the hub says the person may have about
	// themself here (eligibility.go).
	Eligibility Eligibility
	// Provisional is set (to the evidence's method, api.EvidenceCIE or
	// api.EvidenceDocument) for a person the kiosk identified itself while
	// the hub could not be reached (offline.go): no name and no family are
	// known, CF is empty after a CIE tap (the chip's level 1 holds only
	// the NIS), and the request is for this person alone, issued once the
	// hub confirms the identity.
	Provisional string
	NIS         string // a provisional person's card, after a CIE tap
}

// Name is "Given names Surname", as a screen greets someone.
func (p Person) Name() string { return p.GivenNames + " " + p.Surname }

// Member is another member of the person's family.
type Member struct {
	CF           string
	Surname      string
	GivenNames   string
	BirthDate    string
	Relationship int // ANPR table 5, to the head of the family
	// Eligibility is what the hub says the requester may have about
	// this member here.
	Eligibility Eligibility
}

// Name is "Given names Surname".
func (m Member) Name() string { return m.GivenNames + " " + m.Surname }

// PersonQuery identifies the citizen at the hub by the evidence the kiosk
// gathered: a CIE tap (the chip's answer over a challenge bound to this
// device, checked by the hub itself) or a codice fiscale with the number of
// a document the operator has looked at.
type PersonQuery struct {
	Requester api.RequesterEvidence
	Channel   certificate.Channel
}

// IssueRequest is one certificate request as the hub's API takes it.
type IssueRequest struct {
	// Key is the Idempotency-Key: fixed when the citizen confirms, so a
	// retry or a queued delivery never issues or charges twice.
	Key       string
	SubjectCF string
	Types     []certificate.Type
	Exemption fees.Exemption
	// Requester is how the citizen asking was identified at this visit;
	// the hub checks it again in the transaction that issues, and a
	// request without it is refused.
	Requester *api.RequesterEvidence
	Channel   certificate.Channel
	// Contrassegno is the marca da bollo's 14-digit identifier when the
	// counter applied one; Use the destination of use declared.
	Contrassegno string
	Use          string
	// At is the date, YYYY-MM-DD, a historical certificate describes.
	At string
	// PaymentID is the paid payment a self-service request is issued
	// against (api.CertificateRequest.PaymentID).
	PaymentID string
}

// Issued is the hub's answer to an issued request.
type Issued struct {
	ID         string
	Protocol   string
	Title      string
	Types      []string
	Fees       []fees.Line
	TotalCents int64
	VerifyURL  string
	Issued     time.Time
}

// Hub is the part of the hub the flows use.
type Hub interface {
	LookupPerson(ctx context.Context, q PersonQuery) (*Person, error)
	Issue(ctx context.Context, req IssueRequest) (*Issued, error)
	PDF(ctx context.Context, id string) ([]byte, error)
	// Ping tells whether the hub answers, for the status bar.
	Ping(ctx context.Context) error
	// LogInClerk opens a clerk's session at the hub; every later call
	// names it, until LogOutClerk.
	LogInClerk(ctx context.Context, req api.ClerkLogin) (*Staff, error)
	// LogOutClerk forgets the session at once and tells the hub in the
	// background; it never blocks.
	LogOutClerk()
}

// Payments takes payment for a self-service request before anything is
// printed (api.PayAtTill, api.PayPagoPA), and lets a shop's counter
// confirm the till payments of its own self-service kiosks. The hub prices
// the request itself; the kiosk shows what it answers.
type Payments interface {
	// CreatePayment asks the hub for a payment of req (its Key is the
	// payment's idempotency key too) by method.
	CreatePayment(ctx context.Context, req IssueRequest, method string) (*api.Payment, error)
	// Payment is the payment as it stands now.
	Payment(ctx context.Context, id string) (*api.Payment, error)
	// CancelPayment drops a pending payment the citizen gave up.
	CancelPayment(ctx context.Context, id string) error
	// ConfirmTill confirms, at the shop's counter, that the till took the
	// money for the payment with this code.
	ConfirmTill(ctx context.Context, code string) (*api.Payment, error)
	// PendingTill lists the shop's till payments waiting for the counter.
	PendingTill(ctx context.Context) ([]api.Payment, error)
}

// ErrOffline wraps every Hub error that means the hub could not be reached
// (as opposed to a refusal): the flow then queues the request.
var ErrOffline = errors.New("the hub cannot be reached")

// Refusal is the hub's answer refusing a request: api.Refusal, the kiosk
// side's one refusal type, from the hub client to the screen. The flow
// treats an error as the hub's refusal when api.Refused says so.
type Refusal = api.Refusal

// CardReader reads the citizen's CIE.
type CardReader interface {
	// ReadCard waits for a card until ctx ends and reads it at level 1,
	// the chip answering a challenge bound to this device, a fresh nonce
	// and the tap's time (cie.TapChallenge). It returns the tap's evidence
	// for the hub only when the chip proved itself genuine and its data
	// signed by the issuer here too; otherwise an error saying why.
	ReadCard(ctx context.Context) (*api.RequesterEvidence, error)
	// VerifyPIN checks the PIN on the card read last (self-service's
	// level 2). A refusal is a *PINError.
	VerifyPIN(ctx context.Context, pin string) error
	// Status is a short state for the status bar: "" when ready.
	Status(ctx context.Context) string
}

// CardWatcher reports cards placed on and taken off the reader, so a screen
// can react to the card itself rather than to a button.
type CardWatcher interface {
	// WatchCards calls fn for each change until ctx ends or the reader
	// fails; a card already on the reader is reported as placed first.
	WatchCards(ctx context.Context, fn func(placed bool)) error
}

// PINError is a refused PIN: TriesLeft more attempts before the card blocks.
type PINError struct {
	TriesLeft int
	Blocked   bool
}

func (e *PINError) Error() string {
	if e.Blocked {
		return "the card's PIN is blocked after too many wrong attempts"
	}
	return fmt.Sprintf("the PIN is wrong; %d attempts left before the card blocks", e.TriesLeft)
}

// Printers prints certificates and receipts.
//
// A sale's certificate and receipt are print jobs in the spool from the
// commit that records the hub's answer (see Outbox.Deliver) until the
// printer confirms them: Jobs renders them, PrintJob prints one.
// PrintA4 and PrintReceipt print a fresh copy (reprint, a claim redeemed),
// kept in the spool only if it fails.
type Printers interface {
	PrintA4(ctx context.Context, name string, pdf []byte) error
	PrintReceipt(ctx context.Context, r receipt.Receipt) error
	// PrintClaim prints the receipt of a request queued while the hub
	// could not be reached.
	PrintClaim(ctx context.Context, c receipt.Claim) error
	// Jobs renders an issued sale's certificate (name, PDF) and receipt as
	// print jobs for the spool, without printing them.
	Jobs(name string, pdf []byte, r receipt.Receipt) ([]printer.Job, error)
	// PrintJob prints a job the spool holds and lets it go only once the
	// printer confirms it; a failure leaves it there with the attempt.
	PrintJob(ctx context.Context, id string) error
	// Spooled lists the jobs the spool holds, oldest first.
	Spooled() ([]printer.Job, error)
	// Status is a short state for the status bar: "" when ready.
	Status(ctx context.Context) string
}

// Outbox is the kiosk's durable journal of requests for the hub: every
// request is written there with its Idempotency-Key before the first byte
// goes to the hub, online or not, so that a crash at any point is finished
// by sending it again under the same key (the hub answers the same
// certificate, never a second charge).
type Outbox interface {
	// Enqueue writes req durably, to be sent at once with Deliver, and
	// returns the claim code printed for the citizen should it have to
	// wait. online says the hub answered just now: the offline limits
	// are then not applied.
	Enqueue(ctx context.Context, req IssueRequest, amountCents int64, online bool) (claim string, err error)
	// Deliver sends the written request with this key and commits the
	// hub's answer together with the sale's print jobs (render makes
	// them). A refusal is a *Refusal; a request the hub did not answer
	// stays queued for the outbox's sender and the error says why
	// (ErrOffline when the hub could not be reached).
	Deliver(ctx context.Context, key string, render Render) (*Delivery, error)
	// Dismiss drops a refused request the operator has seen.
	Dismiss(ctx context.Context, key string) error
	// Unfinished lists the requests still waiting for the hub, oldest
	// first: a kiosk that starts again finishes them.
	Unfinished(ctx context.Context) ([]Unfinished, error)
	// Pending is how many operations wait for the hub.
	Pending() (int, error)
	// Lookup finds a request by the claim code on its receipt: an error
	// saying what is wrong with a mistyped code, ErrClaimUnknown for one
	// this kiosk never issued (or forgot after its retention).
	Lookup(ctx context.Context, code string) (*Claimed, error)
	// Kept reads back the request of a self-service claim the outbox keeps
	// for its collection at this kiosk (Claimed.Kept), to check the card
	// of the citizen collecting it and to send it once paid (collect.go).
	Kept(ctx context.Context, code string) (IssueRequest, error)
	// Release forgets a collected claim's kept request.
	Release(ctx context.Context, code string) error
}

// Render makes the print jobs of an issued sale from the hub's answer and
// the certificate's PDF.
type Render func(is *Issued, pdf []byte) ([]printer.Job, error)

// Delivery is a request the hub issued, as committed in the outbox.
type Delivery struct {
	Issued *Issued
	Claim  string
	// Jobs are the ids of the print jobs committed with it; nil when it
	// had been delivered already (its jobs were committed then).
	Jobs []string
}

// Unfinished is a request written to the outbox that the hub has not yet
// answered.
type Unfinished struct {
	Key         string
	Claim       string
	Queued      time.Time
	AmountCents int64
	Types       []string // empty when the request cannot be read back
}

// ErrClaimUnknown is a well-formed claim code the outbox does not know.
var ErrClaimUnknown = errors.New("no request with this claim code is known to this kiosk")

// ClaimState is where a queued request stands.
type ClaimState string

const (
	ClaimQueued  ClaimState = "queued"  // still waiting for the hub
	ClaimIssued  ClaimState = "issued"  // the hub issued it: Claimed.Issued says what
	ClaimRefused ClaimState = "refused" // the hub refused it: Reason and Message say why
)

// Claimed is what the kiosk knows of a claim code. It holds no personal
// data: the request itself is encrypted in the outbox and deleted once
// delivered.
type Claimed struct {
	Code        string
	State       ClaimState
	Queued      time.Time // when the citizen's request was accepted
	Settled     time.Time // when the hub issued or refused it
	AmountCents int64     // the total agreed at the counter
	Attempts    int       // failed deliveries so far (ClaimQueued)
	LastError   string
	Issued      *Issued // ClaimIssued; its ID is empty for requests delivered before kiosks kept it
	Reason      string  // ClaimRefused: the hub's machine code
	Message     string  // ClaimRefused: the hub's sentence, while the outbox still holds it
	// Payment is the payment the hub created when it confirmed a
	// self-service request queued for collection; Kept says the outbox
	// keeps its request (sealed) until it is collected here (collect.go).
	Payment *api.Payment
	Kept    bool
}

// Clock tells the time; tests fix it.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

func (f ClockFunc) Now() time.Time { return f() }

// Problem is an error a screen shows: Key names the sentence in the
// translations (assets/i18n), Args fill it, Detail is the English text for
// logs and for keys a translation lacks.
type Problem struct {
	Key    string
	Args   []any
	Detail string
	Err    error
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Detail
	}
	if p.Err != nil {
		return p.Err.Error()
	}
	return p.Key
}

func (p *Problem) Unwrap() error { return p.Err }

func problem(key, detail string, err error, args ...any) *Problem {
	return &Problem{Key: key, Detail: detail, Err: err, Args: args}
}
