// Package payment is the hub's record of the money a self-service request
// is paid with before anything is printed (issue 15 item 4): a payment at
// the shop's till, confirmed by the shop's counter, or an avviso di
// pagamento pagoPA paid in any banking app, which the city's
// creditor-institution service reports paid (Gateway).
//
// A payment is taken for one certificate request: the kiosk's
// Idempotency-Key of that request (RequestKey, scoped to the operator as
// certificates' keys are), the hash of what was priced (RequestHash) and the
// amount the hub priced it at. The desk issues a self-service request with a
// total above zero only against a paid payment of the same key, hash and
// amount, and marks it used in the transaction that issues the certificate.
//
// States: pending → paid → used; pending → expired (not paid in time) or
// cancelled (the citizen gave up). Nothing else moves. The package knows
// nothing of HTTP or storage: its view of a hub transaction (Tx) is
// implemented by each backend of package store.
package payment

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Method is how the citizen pays.
type Method string

// Methods; the strings are the API's (api.PayAtTill, api.PayPagoPA).
const (
	Till   Method = "till"
	PagoPA Method = "pagopa"
)

// State is where a payment stands.
type State string

// States; the strings are the API's (api.PaymentPending …).
const (
	Pending   State = "pending"
	Paid      State = "paid"
	Used      State = "used"
	Expired   State = "expired"
	Cancelled State = "cancelled"
)

// Errors the domain owns; stores and the service wrap them.
var (
	ErrNotFound = errors.New("no such payment")
	// ErrCodeTaken: a pending payment of the same shop holds the till code
	// (Store.Create); the service draws another.
	ErrCodeTaken = errors.New("the till code is held by another pending payment of the shop")
	// ErrKeyTaken: a live payment was taken for this request key already
	// (Store.Create).
	ErrKeyTaken = errors.New("a payment was already taken for this request")
	// ErrTransition: the state machine does not allow the move.
	ErrTransition = errors.New("the payment cannot move to that state")

	// Why a payment does not pay for a certificate request (Admits).
	ErrNotPaid  = errors.New("the payment is not paid yet")
	ErrMismatch = errors.New("the payment was taken for another request or amount")
	ErrUsed     = errors.New("a certificate was already issued against the payment")
	ErrExpired  = errors.New("the payment expired or was cancelled before it was paid")
	// ErrRequired: a self-service request with a total above zero names
	// no payment.
	ErrRequired = errors.New("a self-service request with a cost must be paid first")
	// ErrMethod: the method is not offered to this device.
	ErrMethod = errors.New("this payment method is not offered here")
	// ErrServiceDown: the creditor-institution service did not answer.
	ErrServiceDown = errors.New("the payment service did not answer")
)

// Payment is one payment for one certificate request.
type Payment struct {
	ID     string `json:"id"`
	Method Method `json:"method"`
	State  State  `json:"state"`
	// AmountCents is the request's total as the hub priced it (fees,
	// bollo, the shop's fee), integer cents.
	AmountCents int64 `json:"amount_cents"`
	// RequestKey is the certificate request's Idempotency-Key, scoped to
	// the operator ("op-0001/<key>"); RequestHash is PricedHash of what
	// was priced.
	RequestKey  string `json:"request_key"`
	RequestHash string `json:"request_hash"`
	// DeviceKeyID and OperatorID are the kiosk that asked and its shop.
	DeviceKeyID string `json:"device_key_id"`
	OperatorID  string `json:"operator_id"`
	// TillCode is the short code of a Till payment (TillAlphabet).
	TillCode string `json:"till_code,omitempty"`
	// A PagoPA payment's debt position: IUPD (the position's id at the
	// creditor-institution service), IUV, notice number (numero avviso:
	// aux digit + IUV) and the creditor's codice fiscale.
	IUPD         string `json:"iupd,omitempty"`
	IUV          string `json:"iuv,omitempty"`
	NoticeNumber string `json:"notice_number,omitempty"`
	CreditorCF   string `json:"creditor_cf,omitempty"`

	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Paid    time.Time `json:"paid,omitzero"`
	// ConfirmedBy is the clerk (id) who confirmed a till payment, and
	// ConfirmedByName their name; Receipt pagoPA's receipt id.
	ConfirmedBy     string `json:"confirmed_by,omitempty"`
	ConfirmedByName string `json:"confirmed_by_name,omitempty"`
	Receipt         string `json:"receipt,omitempty"`
	// Ended is when it expired, was cancelled or used; Certificate the
	// certificate issued against it.
	Ended       time.Time `json:"ended,omitzero"`
	Certificate string    `json:"certificate,omitempty"`

	// Types and SubjectName say what is paid for, for the shop's screen.
	Types       []string `json:"types,omitempty"`
	SubjectName string   `json:"subject_name,omitempty"`
	// SubjectCF is whom the certificate is about, for the audit entry of
	// the counter that confirms the payment; never shown to a kiosk.
	SubjectCF string `json:"subject_cf,omitempty"`
}

// NoticeQR is the payload of an avviso di pagamento's QR code,
// "PAGOPA|002|<notice number>|<creditor's codice fiscale>|<amount in
// cents>" (pagoPA, "Avviso di pagamento" 3.0.0, Struttura, Specifiche
// tecniche, Dati per il pagamento, Codice QR:
// https://docs.pagopa.it/avviso-pagamento/avvisi-3.0.0/struttura/specifiche-tecniche/dati-per-il-pagamento/codice-qr).
func NoticeQR(notice, creditorCF string, cents int64) string {
	return fmt.Sprintf("PAGOPA|002|%s|%s|%d", notice, creditorCF, cents)
}

// Live reports whether the payment still counts for its request: pending,
// paid or used (an expired or cancelled one frees its key for a new one).
func (p *Payment) Live() bool {
	return p.State == Pending || p.State == Paid || p.State == Used
}

// Due moves a pending payment past its expiry to Expired; it reports
// whether it did. Stores and the service apply it whenever they read a
// payment, with their injected clock, so an expired payment is never
// seen pending.
func (p *Payment) Due(now time.Time) bool {
	if p.State != Pending || now.Before(p.Expires) {
		return false
	}
	p.State, p.Ended = Expired, now.UTC()
	return true
}

// MarkPaid records the payment as paid at at: by is the clerk who
// confirmed a till payment (id and name), receipt pagoPA's receipt id.
func (p *Payment) MarkPaid(at time.Time, byID, byName, receipt string) error {
	if p.Due(at) {
		return fmt.Errorf("%w: payment %s expired at %s", ErrExpired, p.ID, p.Expires.Format(time.RFC3339))
	}
	if p.State != Pending {
		return fmt.Errorf("%w: payment %s is %s, not pending", ErrTransition, p.ID, p.State)
	}
	p.State, p.Paid = Paid, at.UTC()
	p.ConfirmedBy, p.ConfirmedByName, p.Receipt = byID, byName, receipt
	return nil
}

// Cancel drops a pending payment.
func (p *Payment) Cancel(at time.Time) error {
	if p.Due(at) {
		return nil // expired already: nothing is left to cancel
	}
	if p.State == Cancelled {
		return nil
	}
	if p.State != Pending {
		return fmt.Errorf("%w: payment %s is %s; only a pending payment can be cancelled", ErrTransition, p.ID, p.State)
	}
	p.State, p.Ended = Cancelled, at.UTC()
	return nil
}

// Claim is what a certificate request presents a payment for: its
// operator-scoped key, PricedHash and total.
type Claim struct {
	RequestKey  string
	RequestHash string
	AmountCents int64
}

// Admits says whether the payment pays for claim now: nil when it is paid
// for exactly this request, or used by this very request (a retry, which
// gets back the same certificate); otherwise ErrNotPaid, ErrMismatch,
// ErrUsed or ErrExpired, wrapped with the detail.
func (p *Payment) Admits(c Claim, now time.Time) error {
	p.Due(now)
	same := p.RequestKey == c.RequestKey
	switch p.State {
	case Expired, Cancelled:
		return fmt.Errorf("%w: payment %s is %s", ErrExpired, p.ID, p.State)
	case Used:
		if same {
			return nil
		}
		return fmt.Errorf("%w: payment %s paid for certificate %s", ErrUsed, p.ID, p.Certificate)
	}
	if !same || p.RequestHash != c.RequestHash || p.AmountCents != c.AmountCents {
		return fmt.Errorf("%w: payment %s was taken for %d cents of another request; this one costs %d cents", ErrMismatch, p.ID, p.AmountCents, c.AmountCents)
	}
	if p.State != Paid {
		return fmt.Errorf("%w: payment %s is %s", ErrNotPaid, p.ID, p.State)
	}
	return nil
}

// Use marks the payment used by certificate certID at at, after Admits.
// Using it again for the same certificate changes nothing.
func (p *Payment) Use(c Claim, certID string, at time.Time) error {
	if err := p.Admits(c, at); err != nil {
		return err
	}
	if p.State == Used {
		if p.Certificate != certID {
			return fmt.Errorf("%w: payment %s paid for certificate %s", ErrUsed, p.ID, p.Certificate)
		}
		return nil
	}
	p.State, p.Ended, p.Certificate = Used, at.UTC(), certID
	return nil
}

// TillAlphabet are the characters of a till code: digits and capitals
// without 0, O, 1 and I, which a citizen reading the code aloud or a clerk
// typing it would confuse (the same choice as Crockford's base 32).
const TillAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// TillCodeLen is a till code's length: 32⁶ ≈ 10⁹ codes, so a shop's
// handful of pending codes never collide by chance and a code is not
// guessed; six characters are still read out in one breath.
const TillCodeLen = 6

// NewTillCode draws a till code from r (crypto/rand when nil).
func NewTillCode(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, TillCodeLen)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("cannot draw a till code: %w", err)
	}
	for i := range b {
		b[i] = TillAlphabet[int(b[i])%len(TillAlphabet)] // 256 is a multiple of 32: no bias
	}
	return string(b), nil
}

// NormaliseTillCode is a code as a clerk typed it in the alphabet's form:
// upper case, without the spaces or dashes a person may add.
func NormaliseTillCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	return s
}

// NewID draws a payment id from r (crypto/rand when nil): "pay-" and 16
// base-32 characters, unguessable since a kiosk polls it unauthenticated
// by anything but its own signature.
func NewID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 10)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("cannot draw a payment id: %w", err)
	}
	return "pay-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}
