package api

import "time"

// Payments (issue 15): nothing a self-service kiosk prints is printed
// before it is paid. The kiosk asks the hub for a payment of the request
// it is about to send (the hub prices it itself, from the same request it
// will issue, so a kiosk cannot name its own price), shows the citizen how
// to pay, waits until the hub says it is paid, and only then sends the
// certificate request naming the payment. The hub issues a self-service
// request with a total above zero only against a paid payment for the
// same request (same Idempotency-Key, same amount), used once.

// Payment methods.
const (
	// PayAtTill is "paga alla cassa": a kiosk inside a shop shows a short
	// code, the citizen pays the shop, and the shop's operator screen
	// confirms the code (POST PathPaymentConfirm, with a clerk session).
	PayAtTill = "till"
	// PayPagoPA is an avviso di pagamento pagoPA for an unattended kiosk:
	// the hub creates a debt position at the city's creditor-institution
	// service and the citizen pays the notice (number and QR) in any
	// banking app; the hub learns it is paid from that service.
	PayPagoPA = "pagopa"
)

// Payment states.
const (
	PaymentPending   = "pending"   // waiting for the citizen to pay
	PaymentPaid      = "paid"      // paid: a certificate request may name it once
	PaymentUsed      = "used"      // a certificate was issued against it
	PaymentExpired   = "expired"   // not paid in time; nothing may be issued against it
	PaymentCancelled = "cancelled" // the citizen gave up, or the kiosk wiped the session
)

// Paths of the payment API, all signed by the device.
const (
	// PathPayments: POST a PaymentRequest with an Idempotency-Key header
	// equal to the certificate request's own key; the answer (201, or 200
	// for a repeated key) is a Payment. GET lists the shop's pending
	// till payments for its operator screen (PaymentList), for devices
	// of an operator (counter) only.
	PathPayments = "/api/v1/payments"
	// PathPayment is GET /api/v1/payments/{id}: the Payment as it stands
	// now (the kiosk polls it while the citizen pays); DELETE cancels a
	// pending one.
	PathPayment = "/api/v1/payments/{id}"
	// PathPaymentConfirm: POST a PaymentConfirm from a counter device of
	// the same shop, with a clerk session: the till took the money.
	PathPaymentConfirm = "/api/v1/payments/confirm"
)

// PaymentRequest is the body of POST /api/v1/payments: the certificate
// request that will be sent once paid (its Requester evidence checked as
// for issuing, so a payment is never taken for a certificate the hub would
// refuse) and how the citizen pays.
type PaymentRequest struct {
	Request CertificateRequest `json:"request"`
	Method  string             `json:"method"` // PayAtTill or PayPagoPA
}

// Payment is the hub's record of one payment as a kiosk sees it.
type Payment struct {
	ID          string    `json:"id"`
	Method      string    `json:"method"`
	State       string    `json:"state"`
	AmountCents int64     `json:"amount_cents"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires"`
	// Code is the short code a PayAtTill payment shows the citizen and
	// the shop's operator types (or scans): unambiguous characters only.
	Code string `json:"code,omitempty"`
	// NoticeNumber (numero avviso, 18 digits), CreditorFiscalCode (the
	// ente creditore's codice fiscale, 11 digits) and QR (the pagoPA
	// notice's QR payload, "PAGOPA|002|notice|creditor|amount") are a
	// PayPagoPA payment's, as printed on an avviso di pagamento.
	NoticeNumber       string `json:"notice_number,omitempty"`
	CreditorFiscalCode string `json:"creditor_fiscal_code,omitempty"`
	QR                 string `json:"qr,omitempty"`
	// Paid is when the payment was confirmed; ConfirmedBy the clerk who
	// confirmed a till payment, Receipt pagoPA's receipt identifier.
	Paid        *time.Time `json:"paid,omitempty"`
	ConfirmedBy string     `json:"confirmed_by,omitempty"`
	Receipt     string     `json:"receipt,omitempty"`
	// Types and SubjectName describe what is being paid for. The shop's
	// list of pending till payments (GET PathPayments) carries the types
	// only: it is polled, not an audited read, so it names no one.
	Types       []string `json:"types,omitempty"`
	SubjectName string   `json:"subject_name,omitempty"`
}

// PaymentConfirm is the body of POST /api/v1/payments/confirm.
type PaymentConfirm struct {
	Code string `json:"code"`
}

// PaymentList is the answer of GET /api/v1/payments.
type PaymentList struct {
	Payments []Payment `json:"payments"`
}

// Reasons of the payment refusals.
const (
	// ReasonPaymentRequired (402): a self-service request with a total
	// above zero names no payment.
	ReasonPaymentRequired = "payment_required"
	// ReasonPaymentPending (409): the payment named is not paid yet.
	ReasonPaymentPending = "payment_pending"
	// ReasonPaymentMismatch (409): the payment named was taken for
	// another request or another amount.
	ReasonPaymentMismatch = "payment_mismatch"
	// ReasonPaymentUsed (409): a certificate was issued against it already
	// under another key.
	ReasonPaymentUsed = "payment_used"
	// ReasonPaymentExpired (410): not paid in time.
	ReasonPaymentExpired = "payment_expired"
	// ReasonPaymentUnknown (404): no payment with this id or code for
	// this shop.
	ReasonPaymentUnknown = "payment_unknown"
	// ReasonPaymentMethod (400): a method the hub does not offer this
	// device (PayPagoPA without a configured creditor service, PayAtTill
	// at a kiosk with no shop till).
	ReasonPaymentMethod = "payment_method"
	// ReasonPaymentServiceDown (503): the pagoPA service did not answer;
	// the kiosk may try again or offer the till.
	ReasonPaymentServiceDown = "payment_service_down"
)
