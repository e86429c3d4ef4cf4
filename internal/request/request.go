// Package request is the demographic requests a citizen files with the
// registry office, at a self-service kiosk (CIE and PIN) or at a counter
// for the person in front of it: a typed form with its attachments, given
// a protocol number and the SHA-256 of exactly what was filed at the
// moment of filing, then reviewed by staff, who ask for more, accept (the
// registry change applied in the same transaction) or refuse it.
//
// Six kinds, each with its own form, checks and legal basis (form.go):
// a change of address within the comune, a change of residence from
// another comune or from abroad, the registration or end of a convivenza
// di fatto, a historical certificate the office prepares, the receipt of
// a DAT, and the correction of registry data.
//
// The package owns the store's view of a transaction (Tx) and its
// sentinel errors; it imports neither the hub's store nor a database.
// Every backend passes the suite in package requesttest.
package request

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sentinel errors of the stores; returned errors wrap them.
var (
	// ErrNotFound: no request (or attachment) has that id.
	ErrNotFound = errors.New("request not found")
	// ErrExists: a request with that id, or that idempotency key, is
	// stored already.
	ErrExists = errors.New("request already stored")
	// ErrStale: the request changed since the copy being saved was read
	// (two staff members deciding it at once); read it again.
	ErrStale = errors.New("the request changed meanwhile")
	// ErrTransition: the action is not allowed in the request's state
	// (accepting a refused request, answering one nobody asked about).
	ErrTransition = errors.New("action not allowed in the request's state")
	// ErrInvalid: a record a store must refuse (no id, no protocol).
	ErrInvalid = errors.New("invalid request record")
)

// Kind is the type of a request.
type Kind string

const (
	// AddressChange is a move within the comune (DPR 223/1989 art. 13
	// c. 1 lett. b: "mutazioni di abitazione").
	AddressChange Kind = "cambio_indirizzo"
	// ResidenceChange is a move into the comune from another comune or
	// from abroad (DPR 223/1989 art. 13 c. 1 lett. a, art. 18-bis; DL
	// 5/2012 art. 5, L. 35/2012: registered within two working days,
	// accepted by silence after 45).
	ResidenceChange Kind = "cambio_residenza"
	// Cohabitation is the registration or the end of a convivenza di
	// fatto (L. 76/2016 art. 1 c. 36-37).
	Cohabitation Kind = "convivenza_di_fatto"
	// Historical is a historical certificate the office must prepare
	// from its archive (DPR 223/1989 art. 33; DPR 445/2000 art. 40).
	Historical Kind = "certificato_storico"
	// DAT is the receipt of disposizioni anticipate di trattamento
	// delivered by the person to the comune of residence (L. 219/2017
	// art. 4 c. 6).
	DAT Kind = "dat"
	// Correction is a correction of the person's registry data on a
	// supporting document (DPR 223/1989; DPR 445/2000 art. 43).
	Correction Kind = "rettifica_dati"
)

// Kinds lists every kind, in the order the console shows their queues.
func Kinds() []Kind {
	return []Kind{AddressChange, ResidenceChange, Cohabitation, Historical, DAT, Correction}
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds(), k) }

// Title is the kind's name in Italian, as the receipt and the console
// print it.
func (k Kind) Title() string {
	switch k {
	case AddressChange:
		return "Cambio di indirizzo nel Comune"
	case ResidenceChange:
		return "Dichiarazione di residenza (da altro Comune o dall'estero)"
	case Cohabitation:
		return "Convivenza di fatto"
	case Historical:
		return "Richiesta di certificato storico"
	case DAT:
		return "Consegna DAT (disposizioni anticipate di trattamento)"
	case Correction:
		return "Rettifica di dati anagrafici"
	}
	return string(k)
}

// Status is where a request stands.
type Status string

const (
	// Filed: registered in the protocol, waiting for the office.
	Filed Status = "filed"
	// MoreInfo: the office asked the citizen for more information;
	// the citizen answers at a kiosk or a counter.
	MoreInfo Status = "more_info"
	// Accepted: the office accepted it (and applied the registry change).
	Accepted Status = "accepted"
	// Refused: the office refused it, with reasons.
	Refused Status = "refused"
)

// Open reports whether the request still waits for a decision.
func (s Status) Open() bool { return s == Filed || s == MoreInfo }

// Italian is the status as the receipt, the kiosk and the console say it.
func (s Status) Italian() string {
	switch s {
	case Filed:
		return "protocollata, in esame"
	case MoreInfo:
		return "in attesa di integrazione"
	case Accepted:
		return "accolta"
	case Refused:
		return "respinta"
	}
	return string(s)
}

// Channel is where the request was filed: the channels of certificates
// ("counter", "self_service", "office").
type Channel string

// Attachment is a document filed with a request: its bytes are kept by
// the store under their SHA-256 (Tx.PutAttachment), the record names them.
type Attachment struct {
	Name      string `json:"name"`
	MediaType string `json:"media_type"` // application/pdf, image/jpeg, image/png
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"` // hex
}

// Event is one step of a request's history: who did what, when.
type Event struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // "staff:mrossi", "device:k1", "system"
	Action string    `json:"action"` // filed, assigned, asked, answered, accepted, silence_assent, refused
	Note   string    `json:"note,omitempty"`
	// Attachments are the documents added by this step (an answer).
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Actions of the history.
const (
	ActionFiled    = "filed"
	ActionAssigned = "assigned"
	ActionAsked    = "asked"
	ActionAnswered = "answered"
	ActionAccepted = "accepted"
	ActionRefused  = "refused"
	// ActionSilenceAssent: a residence or address change the office did
	// not decide within its term, accepted by law (desk.AssentBySilence).
	ActionSilenceAssent = "silence_assent"
)

// Request is one filed request as the store keeps it.
type Request struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Protocol is the protocol number given at filing (an incoming
	// registration), and Filed its registration time.
	Protocol string    `json:"protocol"`
	Filed    time.Time `json:"filed"`
	// SHA256 is that of Filing.Canonical: exactly what was filed, the
	// form and the attachments' hashes. The protocol entry carries it.
	SHA256 string `json:"sha256"`

	Channel    Channel `json:"channel"`
	OperatorID string  `json:"operator_id,omitempty"`
	Actor      string  `json:"actor"` // who filed it: "device:…", "staff:…"
	// RequesterCF and RequesterName are who filed it, as identified.
	RequesterCF   string `json:"requester_cf"`
	RequesterName string `json:"requester_name,omitempty"`
	RequesterMail string `json:"requester_email,omitempty"`
	// DelegateCF and DelegationID: the request was filed for the requester
	// by their delegate under that delegation (DPR 445/2000 art. 38 c. 3).
	DelegateCF   string `json:"delegate_cf,omitempty"`
	DelegationID string `json:"delegation_id,omitempty"`
	// Persons is the codici fiscali of everyone the request concerns
	// (the requester, the persons moving, the partners, the subject):
	// whose requests a person's list shows.
	Persons []string `json:"persons"`

	Form        Form         `json:"form"`
	Attachments []Attachment `json:"attachments,omitempty"`

	Status     Status `json:"status"`
	AssignedTo string `json:"assigned_to,omitempty"`
	// Question is the office's last request for more information, open
	// while Status is MoreInfo.
	Question string `json:"question,omitempty"`
	// Decision is the reasons of an acceptance or a refusal.
	Decision string    `json:"decision,omitempty"`
	Decided  time.Time `json:"decided,omitzero"`
	// BySilence says an Accepted request was accepted by the office's
	// silence, not by a staff member's decision.
	BySilence bool `json:"by_silence,omitempty"`
	// Outcome is what an accepted historical certificate request
	// delivered: the certificate issued from the registry, or the
	// document the office prepared from its paper archive. Nil for the
	// other kinds and for an open or refused request.
	Outcome *Outcome `json:"outcome,omitempty"`

	// RegisterBy and SilenceAssent are a residence change's deadlines
	// (Deadlines); zero for other kinds.
	RegisterBy    time.Time `json:"register_by,omitzero"`
	SilenceAssent time.Time `json:"silence_assent,omitzero"`

	History []Event `json:"history"`

	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Version counts the saves: Tx.Put refuses a copy older than the
	// stored one (ErrStale).
	Version int `json:"version"`
}

// Outcome is what an accepted request delivered to the citizen: exactly
// one of a certificate issued through the hub's issuance path (sealed,
// numbered in the register, verifiable at /v/{id}) or a document the
// office prepared by hand and attached on acceptance (records from before
// computerisation, which the registry does not hold).
type Outcome struct {
	CertificateID       string `json:"certificate_id,omitempty"`
	CertificateProtocol string `json:"certificate_protocol,omitempty"`
	// Document is the office's prepared PDF, kept with the attachments
	// (Tx.PutAttachment) under its SHA-256.
	Document *Attachment `json:"document,omitempty"`
}

// Check is what every store refuses to keep.
func (r *Request) Check() error {
	switch {
	case r == nil:
		return fmt.Errorf("%w: no request given", ErrInvalid)
	case strings.TrimSpace(r.ID) == "":
		return fmt.Errorf("%w: the request has no id", ErrInvalid)
	case !r.Kind.Valid():
		return fmt.Errorf("%w: request %s has kind %q", ErrInvalid, r.ID, r.Kind)
	case r.Protocol == "" || r.SHA256 == "" || r.Filed.IsZero():
		return fmt.Errorf("%w: request %s has no protocol number, hash or filing time: only a registered request is kept", ErrInvalid, r.ID)
	case r.Status == "":
		return fmt.Errorf("%w: request %s has no status", ErrInvalid, r.ID)
	case len(r.Persons) == 0:
		return fmt.Errorf("%w: request %s concerns nobody", ErrInvalid, r.ID)
	}
	return nil
}

// Concerns reports whether the person with codice fiscale cf is among
// those the request concerns.
func (r *Request) Concerns(cf string) bool {
	return slices.Contains(r.Persons, strings.ToUpper(strings.TrimSpace(cf)))
}

// Summary is a request as a person's list shows it (the dossier).
type Summary struct {
	ID       string    `json:"id"`
	Kind     Kind      `json:"kind"`
	Title    string    `json:"title"`
	Protocol string    `json:"protocol"`
	Filed    time.Time `json:"filed"`
	Status   Status    `json:"status"`
	// StatusText is Status in Italian.
	StatusText string    `json:"status_text"`
	Question   string    `json:"question,omitempty"`
	Decision   string    `json:"decision,omitempty"`
	Decided    time.Time `json:"decided,omitzero"`
	// Outcome is what an accepted historical certificate request
	// delivered, for the citizen to print (Request.Outcome).
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Summary is r's line in a person's list.
func (r *Request) Summary() Summary {
	text := r.Status.Italian()
	if r.BySilence && r.Status == Accepted {
		text = "accolta per silenzio-assenso"
	}
	return Summary{ID: r.ID, Kind: r.Kind, Title: r.Kind.Title(), Protocol: r.Protocol, Filed: r.Filed, Status: r.Status,
		StatusText: text, Question: r.Question, Decision: r.Decision, Decided: r.Decided, Outcome: r.Outcome}
}

// Filing is what a citizen files: what its hash covers.
type Filing struct {
	Kind        Kind         `json:"kind"`
	RequesterCF string       `json:"requester_cf"`
	Channel     Channel      `json:"channel"`
	Form        Form         `json:"form"`
	Attachments []Attachment `json:"attachments"`
	// DelegateCF is who filed it for RequesterCF under a delegation;
	// empty (and absent from Canonical) when the requester filed it.
	DelegateCF string `json:"delegate_cf,omitempty"`
}

// Canonical is the filing as the bytes its SHA-256 is taken of: JSON with
// the fields in their declared order, no insignificant space, codici
// fiscali upper case, attachments in the order filed (each by name, type,
// size and SHA-256, so the hash fixes their content too).
func (f Filing) Canonical() []byte {
	f.RequesterCF = strings.ToUpper(strings.TrimSpace(f.RequesterCF))
	f.DelegateCF = strings.ToUpper(strings.TrimSpace(f.DelegateCF))
	if f.Attachments == nil {
		f.Attachments = []Attachment{}
	}
	b, err := json.Marshal(f)
	if err != nil {
		// Every field is a string, a number, a bool or a struct of
		// them: Marshal cannot fail.
		panic(err)
	}
	return b
}

// Hash is the hex SHA-256 of Canonical.
func (f Filing) Hash() string {
	sum := sha256.Sum256(f.Canonical())
	return hex.EncodeToString(sum[:])
}

// Filter selects requests for a queue: a kind (empty: all) and statuses
// (none: all).
type Filter struct {
	Kind     Kind
	Statuses []Status
}

// Match reports whether r passes f.
func (f Filter) Match(r *Request) bool {
	return (f.Kind == "" || r.Kind == f.Kind) && (len(f.Statuses) == 0 || slices.Contains(f.Statuses, r.Status))
}

// Tx is the requests' view of one hub transaction (store.Tx.Requests): a
// request is created in the transaction that writes its protocol entry and
// its audit entry, and decided in the one that changes the registry.
type Tx interface {
	// Create stores a new request (r.Check must pass), with Version 1.
	// An id or an idempotency key already stored is ErrExists.
	Create(r *Request) error
	// Put replaces the stored request r.ID (ErrNotFound) if its Version
	// is r.Version (ErrStale otherwise), and sets r.Version one higher.
	// Kind, protocol, filing time, hash and persons are what Create
	// stored: they are never changed.
	Put(r *Request) error
	// Get returns request id (ErrNotFound). In a write transaction it
	// holds the request until the transaction ends, so a decision is not
	// lost to another hub's.
	Get(id string) (Request, error)
	// ByKey returns the request filed with idempotency key (ErrNotFound).
	ByKey(key string) (Request, error)
	// OfPerson returns the requests that concern the person with codice
	// fiscale cf (Request.Persons), newest filed first.
	OfPerson(cf string) ([]Request, error)
	// List returns the requests f selects, oldest filed first: a queue.
	List(f Filter) ([]Request, error)
	// PutAttachment keeps data under its SHA-256 (hex), returned;
	// putting the same bytes again is a no-op.
	PutAttachment(data []byte) (string, error)
	// Attachment returns the bytes kept under sum (ErrNotFound).
	Attachment(sum string) ([]byte, error)
}

// SumOf is the hex SHA-256 of data, as attachments are named.
func SumOf(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Runner runs functions on the requests' view of a transaction:
// store.Domain(s, store.Tx.Requests) is one.
type Runner interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// OfPerson lists the requests that concern the person with codice fiscale
// cf and where each stands, newest first: what the citizen's dossier
// shows. Call it as request.OfPerson(ctx, store.Domain(s, store.Tx.Requests), cf).
func OfPerson(ctx context.Context, r Runner, cf string) ([]Summary, error) {
	var out []Summary
	err := r.View(ctx, func(tx Tx) error {
		rs, err := tx.OfPerson(cf)
		for i := range rs {
			out = append(out, rs[i].Summary())
		}
		return err
	})
	return out, err
}
