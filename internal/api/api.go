// Package api declares the JSON bodies of the hub's HTTP API, version 1,
// shared by the server (internal/hubapi) and its clients
// (internal/hubclient). openapi.json in internal/hubapi publishes the same
// shapes; a field changes here, or nowhere.
//
// Where a body carries a domain value whose JSON the domain already fixes
// (fee lines, exemptions, opening hours, transit), it embeds that type
// rather than a copy of it, so the wire format cannot drift from it.
package api

import (
	"time"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/operators"
)

// Problem is the body of every refusal (4xx) and failure (5xx): a machine
// reason a client can branch on and a sentence a person can read.
type Problem struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
	// Notice is the city's word to a suspended device (key_suspended):
	// why it was suspended and whom to call.
	Notice string `json:"notice,omitempty"`
}

// Reasons of the 503 answers the protocol register gives (besides
// ReasonStorageFull and ReasonUnavailable): the request is sound, the
// client keeps it and tries again after Retry-After.
const (
	// ReasonRegisterClockBehind: the hub's clock reads well before the
	// protocol register's latest entry, and the register is never dated
	// back (protocol.Stamp).
	ReasonRegisterClockBehind = "register_clock_behind"
	// ReasonRegisterDayClosed: the day the request was being registered
	// in was closed meanwhile (at midnight); a retry is dated anew.
	ReasonRegisterDayClosed = "register_day_closed"
)

// ReasonPDFExpired (410) answers GET /api/v1/certificates/{id}/pdf once
// the city's re-download window is over: the PDF was deleted, the record
// and the document's hash are kept and /v/{id} still verifies the paper.
const ReasonPDFExpired = "pdf_expired"

// Health statuses: a healthy hub answers 200 with StatusOK; one that
// cannot store anything answers 503 with StatusDegraded and, like a
// Problem, the reason and a sentence.
const (
	StatusOK       = "ok"
	StatusDegraded = "degraded"
)

// Health is the answer of GET /healthz. It is public and unsigned, so a
// kiosk uses it only to decide whether to try the hub.
type Health struct {
	Status        string `json:"status"`
	Version       string `json:"version"`
	Persons       int    `json:"persons"`
	UptimeSeconds int    `json:"uptime_seconds"`
	// Reason and Message say why the hub is degraded, under the names a
	// Problem uses, so a client reading the 503 as a Problem finds them.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Since is when the hub became degraded.
	Since *time.Time `json:"since,omitempty"`
}

// EnrolRequest is the body of POST /api/v1/devices, authenticated by the
// one-time code city staff gave the shop.
type EnrolRequest struct {
	Code      string `json:"code"`
	PublicKey string `json:"public_key"` // base64 of the raw 32-byte Ed25519 key
	Name      string `json:"name"`
}

// Enrolment is the 201 answer of POST /api/v1/devices. HubKeyID names the
// key the hub signs responses with; the kiosk pins HubKey.
type Enrolment struct {
	KeyID      string `json:"key_id"`
	OperatorID string `json:"operator_id"`
	HubKey     string `json:"hub_key"` // base64 of the raw Ed25519 public key
	HubKeyID   string `json:"hub_key_id,omitempty"`
}

// Device is the answer of GET /api/v1/devices/self: the calling device,
// its operator and what the operator's agreement lets it issue.
type Device struct {
	KeyID          string   `json:"key_id"`
	Name           string   `json:"name"`
	Status         string   `json:"status"`
	OperatorID     string   `json:"operator_id"`
	OperatorName   string   `json:"operator_name"`
	OperatorStatus string   `json:"operator_status"`
	FeeCents       int      `json:"fee_cents"`
	Types          []string `json:"certificate_types"`
	MayIssue       bool     `json:"may_issue"`
	Why            string   `json:"why,omitempty"` // why not, when MayIssue is false
	// Shop is the operator as the city registered it in the agreement:
	// the kiosk's set-up writes it into its kiosk.json, so the shop
	// never types it. Channel is how this device issues:
	// ChannelSelfService for a self-service kiosk operator's devices,
	// else ChannelCounter.
	Shop    *DeviceShop `json:"shop,omitempty"`
	Channel string      `json:"channel,omitempty"`
	// Offline is what the city lets the kiosk take while it cannot reach
	// the hub: its outbox refuses, naming the limit, what would pass one.
	Offline *operators.OfflineLimits `json:"offline,omitempty"`
	// FeePolicy is the city's certificate fee policy as it stands now,
	// so the kiosk's preview charges what the hub will; absent from a hub
	// that does not say (the kiosk then previews under the defaults).
	FeePolicy *FeePolicy `json:"fee_policy,omitempty"`
}

// FeePolicy is what a certificate's fees depend on besides the request:
// the city's cap on the service fee, whether it exempts birth, marriage
// and civil union certificates (art. 7 c. 5 L. 405/1990), its virtual
// bollo authorisation and the diritti di segreteria per channel (the
// kiosk's two, ChannelCounter and ChannelSelfService).
type FeePolicy struct {
	ServiceCapCents     int64                 `json:"service_cap_cents"`
	BirthMarriageExempt bool                  `json:"birth_marriage_exempt"`
	BolloAuthorisation  string                `json:"bollo_authorisation,omitempty"`
	Diritti             map[string]fees.Rates `json:"diritti"`
}

// DeviceShop is the registered identity of a device's operator.
type DeviceShop struct {
	Name       string  `json:"name"` // the sign over the door, else the legal name
	LegalName  string  `json:"legal_name"`
	PartitaIVA string  `json:"partita_iva"`
	Category   string  `json:"category"`
	Address    string  `json:"address"`
	Lat        float64 `json:"lat,omitempty"`
	Lon        float64 `json:"lon,omitempty"`
}

// Backlog is the body of PUT /api/v1/devices/self/status: the figures of
// the kiosk's offline outbox, so city staff see devices holding requests
// (and money) the hub has not had yet. The oldest operation is given as an
// age, not an instant, because the kiosk's clock may be wrong.
type Backlog struct {
	Pending          int   `json:"pending"`
	Refused          int   `json:"refused"`
	OldestAgeSeconds int64 `json:"oldest_age_seconds"`
	AmountCents      int64 `json:"amount_cents"`
}

// DeviceStatus is the answer of PUT /api/v1/devices/self/status: the
// report as the hub stored it, stamped with the hub's time.
type DeviceStatus struct {
	KeyID string `json:"key_id"`
	Backlog
	Reported time.Time `json:"reported"`
}

// Directory is the answer of GET /api/v1/directory: the points of service
// nearest to Near at the instant At, open ones first.
type Directory struct {
	At      time.Time        `json:"at"`
	Near    operators.Point  `json:"near"`
	Results []DirectoryEntry `json:"results"`
}

// DirectoryEntry is one shop or office in a Directory.
type DirectoryEntry struct {
	ID            string             `json:"id"`
	Name          string             `json:"name"`
	Category      operators.Category `json:"category"`
	CategoryLabel string             `json:"category_label"`
	Address       string             `json:"address"`
	Lat           float64            `json:"lat"`
	Lon           float64            `json:"lon"`
	DistanceM     int                `json:"distance_m"`
	Open          bool               `json:"open"`
	Today         DirectoryDay       `json:"today"`
	Hours         operators.Hours    `json:"hours"`
	Transit       operators.Transit  `json:"transit"`
	// FeeCents is the operator's service fee; absent for the city's own
	// offices, which have no agreement and charge none.
	FeeCents *int     `json:"fee_cents,omitempty"`
	Types    []string `json:"certificate_types,omitempty"`
	// OrdinaryTotalCents is what a citizen pays there, in all, for one
	// ordinary certificate (residenza in bollo for the ordinary use, or
	// the first type the shop issues): bollo, diritti di segreteria and the
	// shop's fee, as the hub's fee policy computes them when it issues;
	// absent when the place issues nothing.
	OrdinaryTotalCents *int64 `json:"ordinary_total_cents,omitempty"`
}

// DirectoryDay is an entry's opening on the day asked about, holidays and
// exceptions applied.
type DirectoryDay struct {
	Date  string               `json:"date"` // YYYY-MM-DD
	Spans []operators.Interval `json:"spans"`
	Note  string               `json:"note,omitempty"` // why the day differs from the week
}

// Channels of a request, in the request body or the look-up's query: one
// vocabulary, which the audit log records as given.
const (
	ChannelCounter     = "counter"
	ChannelSelfService = "self_service"
)

// CertificateRequest is the body of POST /api/v1/certificates, which also
// needs an Idempotency-Key header.
type CertificateRequest struct {
	// CF is the subject's codice fiscale; empty on a counter or
	// self-service request, the requester themself as the evidence
	// identifies them (a request queued offline after a CIE tap).
	CF        string         `json:"cf"`
	Types     []string       `json:"types"`
	Exemption fees.Exemption `json:"exemption"`
	// Requester is who asks, as the kiosk identified them; the hub
	// refuses a request without it (ReasonRequesterEvidenceRequired) and
	// checks it itself in the transaction that issues.
	Requester *RequesterEvidence `json:"requester"`
	Channel   string             `json:"channel,omitempty"` // ChannelCounter (default) or ChannelSelfService
	// Contrassegno is the 14-digit identifier of the contrassegno
	// telematico (marca da bollo) the counter applied to the certificate;
	// empty when the bollo is paid virtually. The hub refuses one already
	// used.
	Contrassegno string `json:"contrassegno,omitempty"`
	// Use is the declared destination of use (certificate.Use: "estero",
	// "giudiziario", ...); empty for the ordinary use under art. 40 DPR
	// 445/2000.
	Use string `json:"use,omitempty"`
	// At is the date, YYYY-MM-DD, a historical certificate (residenza
	// storica, stato di famiglia storico) describes; empty otherwise.
	At string `json:"at,omitempty"`
	// PaymentID names the paid Payment (PathPayments) a self-service
	// request is issued against; the hub refuses a self-service request
	// with a total above zero without it (ReasonPaymentRequired).
	PaymentID string `json:"payment_id,omitempty"`
	// IdempotencyKey travels as the Idempotency-Key header, never in the
	// body: a client keeps it with the request so every retry, even after
	// a restart, carries the same one.
	IdempotencyKey string `json:"-"`
}

// Certificate is the answer of POST /api/v1/certificates: 201 for a new
// certificate, 200 with Replayed for one a retried key already issued.
type Certificate struct {
	ID         string      `json:"id"`
	Protocol   string      `json:"protocol"`
	Title      string      `json:"title"`
	Types      []string    `json:"types"`
	Fees       []fees.Line `json:"fees"`
	TotalCents int64       `json:"total_cents"`
	PDFURL     string      `json:"pdf_url"` // GET it, signed, for the PDF
	VerifyURL  string      `json:"verify_url"`
	Issued     time.Time   `json:"issued"`
	Replayed   bool        `json:"replayed,omitempty"`
}

// Person is the answer of POST /api/v1/persons/identify: only what the kiosk's
// screen needs for the operator to pick whom a certificate is about.
type Person struct {
	CF         string         `json:"cf"`
	Surname    string         `json:"surname"`
	GivenNames string         `json:"given_names"`
	BirthDate  string         `json:"birth_date"` // YYYY-MM-DD
	Family     []FamilyMember `json:"family,omitempty"`
	// Eligibility is which certificates the person may have about
	// themself on the look-up's channel at this device; absent from a hub
	// that does not say (the kiosk then offers every type its agreement
	// names, and the hub refuses at issue).
	Eligibility *Eligibility `json:"eligibility,omitempty"`
}

// Eligibility is what a requester may have about one subject (themself or
// a member of their famiglia anagrafica) on a channel at a device: the
// types the device's agreement names that the hub would issue, and for
// each other type the reason code it would refuse it with, judged by the
// rules it issues by (certificate.Eligible). A historical type is judged
// without its date, which is checked when the request names it.
type Eligibility struct {
	Allowed []string      `json:"allowed"`
	Missing []TypeMissing `json:"missing,omitempty"`
}

// TypeMissing is one type the subject may not have, and the reason code
// of the refusal issuing it would meet (certificate.Reason*), which the
// kiosk shows in the citizen's language from its catalogue.
type TypeMissing struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// FamilyMember is one other living member of the person's famiglia
// anagrafica.
type FamilyMember struct {
	CF           string `json:"cf"`
	Surname      string `json:"surname"`
	GivenNames   string `json:"given_names"`
	BirthDate    string `json:"birth_date"`   // YYYY-MM-DD
	Relationship int    `json:"relationship"` // ANPR table 5, to the head of the family
	// Eligibility is what the requester may have about this member.
	Eligibility *Eligibility `json:"eligibility,omitempty"`
}

// PathIdentify is the look-up a kiosk makes once it has identified the
// citizen in front of it: POST, signed, with an IdentifyRequest; the answer
// is a Person. It replaces GET /api/v1/persons, which took a bare NIS or
// codice fiscale in the query.
const PathIdentify = "/api/v1/persons/identify"

// IdentifyRequest is the body of POST /api/v1/persons/identify: the same
// evidence a certificate request carries, which the hub verifies the same
// way, and the channel the audit log records.
type IdentifyRequest struct {
	Requester RequesterEvidence `json:"requester"`
	Channel   string            `json:"channel,omitempty"` // ChannelCounter (default) or ChannelSelfService
}

// Reasons of the refusals about who asks (issue 13). They are all the
// hub says: the precise cause of a failed identification, and anything
// about a subject the requester may not see, stay in the hub's log and
// audit entry, so a refusal cannot be used to map the registry.
const (
	// ReasonRequesterEvidenceRequired: the request names no requester
	// evidence (400).
	ReasonRequesterEvidenceRequired = "requester_evidence_required"
	// ReasonIdentificationFailed: the evidence does not identify a living
	// person of the registry (403).
	ReasonIdentificationFailed = "identification_failed"
	// ReasonNotRequesterHousehold: the subject is neither the requester
	// nor in the requester's famiglia anagrafica (403); the same answer
	// whether or not the subject exists.
	ReasonNotRequesterHousehold = "not_requester_household"
)
