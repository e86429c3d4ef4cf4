// Package issuance is the hub's certificate desk: it takes a request from a
// kiosk, the registry office or the command line, applies the rules and
// fees, and issues one sealed, signed and protocol-registered PDF. It is the
// one place where the registry, the certificate rules, the seal and the
// stores meet, so the HTTP API and the staff commands behave the same.
package issuance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/certificate"
	certpdf "github.com/sportello/sportello/internal/certificate/pdf"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
)

// Service issues certificates.
type Service struct {
	Registry registry.Store
	// Stores is the hub's storage, every domain in one transaction: an
	// issuance's protocol number comes from its Numbering, and its
	// protocol entry, record, audit entry, notice and payment's use
	// commit together in one of its transactions (commit.go).
	Stores store.Store
	// Blobs keeps the certificates' PDFs by content, outside Stores.
	Blobs blob.Store
	// Certs is the issued certificates as the hub's pages read them:
	// store.CertificatesOf(Stores, Blobs).
	Certs  certificate.Store
	Keys   *seal.Keys
	Issuer certificate.Issuer
	// PublicURL is the hub's public base URL; certificates link to
	// PublicURL + "/v/" + id.
	PublicURL string
	Policy    certificate.Policy
	// Register is the codes of the certificates' register (IPA, AOO,
	// register), which every number carries; zero prints bare numbers.
	Register protocol.Register
	Now      func() time.Time
	Rand     io.Reader // certificate ids; nil is crypto/rand
	Log      *slog.Logger
	// Audit records every read of a person's data. The entry of an issued
	// certificate commits with it; a refused request's read is recorded
	// on its own. Nil only in tests of other concerns.
	Audit audit.Recorder
	// Current, when set, gives the city's settings at each issuance in
	// place of Issuer, PublicURL and Policy, so a change staff make while
	// the hub runs applies from the next certificate.
	Current func() (Settings, error)
	// Notices, when set, is told in the issuing transaction of each
	// certificate issued about a person at someone else's request, so the
	// subject's notification is queued with the certificate or not at all.
	Notices Notices
	// Identify checks the requester's evidence on counter and
	// self-service requests; nil checks document evidence only (no CSCA
	// is trusted, so no CIE tap identifies anyone).
	Identify *identify.Verifier
	// Payments holds the payments self-service requests are paid with
	// (issue 15): a self-service request with a total above zero is
	// issued only against a paid one, marked used in the issuing
	// transaction. Nil: such a request is refused (payment.ErrRequired).
	Payments Payments

	places atomic.Pointer[places.Table]
	keys   keyLocks // idempotency keys being issued
	marks  keyLocks // contrassegni being issued
	group  group
}

// Payments is what the desk needs of the payment store (paybolt.Store):
// the payment is marked used through the issuing transaction's
// payments' view (store.Tx.Payments).
type Payments interface {
	// Check says whether payment id pays for claim now, before a number
	// is reserved (payment.Payment.Admits).
	Check(id string, c payment.Claim, now time.Time) (payment.Payment, error)
}

// Notices queues the notice a certificate's subject is sent, in tx, the
// transaction that stores the certificate.
type Notices interface {
	Notice(tx store.Tx, n Notice) error
}

// Notice is what the subject of a certificate issued at someone else's
// request is told.
type Notice struct {
	CertificateID, Protocol, Title string
	Issued                         time.Time
	SubjectCF, SubjectEmail        string
	RequesterName                  string
	Place                          string // the shop or the office, by name
	// Delegation is the id of the delegation the subject gave the
	// requester, when the certificate was obtained under it.
	Delegation string
}

// Settings are the city's choices a certificate is issued under.
type Settings struct {
	Issuer    certificate.Issuer
	PublicURL string
	Policy    certificate.Policy
	// Register is the codes of the certificates' own register (city
	// settings IPACode, AOOCode, RegisterCode), carried by every number.
	Register protocol.Register
}

// Settings returns the settings the next certificate is issued under.
func (s *Service) Settings() (Settings, error) {
	if s.Current != nil {
		st, err := s.Current()
		if err != nil {
			return st, fmt.Errorf("cannot read the city's settings: %w", err)
		}
		return st, nil
	}
	return Settings{Issuer: s.Issuer, PublicURL: s.PublicURL, Policy: s.Policy, Register: s.Register}, nil
}

// Places is the table places are named from.
func (s *Service) Places() *places.Table { return s.placeTable() }

// SetPlaces replaces the table used to name places on certificates, after an
// import.
func (s *Service) SetPlaces(t *places.Table) { s.places.Store(t) }

func (s *Service) placeTable() *places.Table {
	if t := s.places.Load(); t != nil {
		return t
	}
	return places.Default()
}

// Request is one certificate request, already authenticated by the caller.
type Request struct {
	// SubjectCF is whom the certificate is about. Empty on a counter or
	// self-service request means the requester themself, as the evidence
	// identifies them: a kiosk that served a new customer while the hub
	// could not be reached knows only their card's NIS after a CIE tap
	// (the chip's level 1 holds no codice fiscale), and asks for them.
	SubjectCF string
	Types     []string
	Exemption fees.Exemption
	// Evidence identifies the requester on a counter or self-service
	// request, which is refused without it. The desk verifies it in the
	// same registry view that loads the subject.
	Evidence identify.Evidence
	// RequesterCF names the requester at the registry office, whom staff
	// identified in person; empty when the subject asks for themself.
	// Other channels ignore it: only Evidence identifies there.
	RequesterCF string
	// Administration names a public administration asking at the registry
	// office and its request's reference; other channels ignore it. Only
	// such a request may claim bollo exemption 10.
	Administration string
	Channel        certificate.Channel
	// Contrassegno is the contrassegno telematico's 14-digit identifier
	// when the counter applied one; empty for virtual bollo.
	Contrassegno string
	// Use is the declared destination of use; empty for the ordinary one.
	Use string
	// At is the date a historical certificate describes; zero otherwise.
	At registry.Date
	// Force is ANPR's forzaCertificazione, the registry officer's
	// decision at the office (certificate.Request.Force); refused on
	// other channels. The record and its audit entry say it was forced.
	Force bool
	// Operator is the shop issuing it; zero at the registry office.
	Operator Operator
	// IdempotencyKey makes a retried request return the first result; it
	// must already be scoped to the caller (device or operator).
	IdempotencyKey string
	// Actor is who reads the registry for this request: the device at a
	// counter, the staff member at the office. Required when Audit is set.
	Actor audit.Actor
	// Clerk is the named clerk logged in at the shop's device; zero on
	// self-service and at the office. It is recorded on the certificate
	// and in every audit entry of the request.
	Clerk audit.Clerk
	// PaymentID names the paid payment a self-service request is issued
	// against (Service.Payments); ignored on other channels.
	PaymentID string
}

// Operator is what issuance needs to know of a shop's agreement.
type Operator struct {
	ID           string
	Name         string // as citizens know the shop, for notices
	ServiceCents int64
	Allowed      map[certificate.Type]bool // nil: every type
	// Widening is the legal basis the agreement names for issuing at the
	// counter about persons outside the requester's household; empty,
	// the default, keeps the household rule.
	Widening string
}

// Result is an issued (or replayed) certificate.
type Result struct {
	Record   certificate.Record
	PDF      []byte
	Replayed bool
}

// Hash is the request hash idempotency compares: what makes the request
// this request, whatever order or spelling the client used.
func (r Request) Hash() string {
	types := make([]string, len(r.Types))
	for i, t := range r.Types {
		types[i] = strings.ToLower(strings.TrimSpace(t))
	}
	// Fields added later are left out when empty, so the hash of a request
	// without them, perhaps waiting in a kiosk's outbox, does not change.
	b, _ := json.Marshal(struct {
		CF, Requester string
		Types         []string
		Exemption     fees.Exemption
		Channel       certificate.Channel
		Operator      string
		Contrassegno  string `json:",omitempty"`
		Use           string `json:",omitempty"`
		At            string `json:",omitempty"` // absent when zero, so older hashes stay valid
	}{strings.ToUpper(strings.TrimSpace(r.SubjectCF)), r.requesterKey(), types, r.Exemption, r.Channel, r.Operator.ID,
		strings.TrimSpace(r.Contrassegno), strings.ToLower(strings.TrimSpace(r.Use)), r.At.String()})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// PricedHash is the hash of what a payment pays for: the subject, the
// types, exemption, channel, operator, contrassegno, use and date, the
// things that decide the price and the certificate. Unlike Hash it leaves
// out the requester's evidence: a citizen who taps their CIE again after
// paying still asks for what they paid for.
func (r Request) PricedHash() string {
	types := make([]string, len(r.Types))
	for i, t := range r.Types {
		types[i] = strings.ToLower(strings.TrimSpace(t))
	}
	b, _ := json.Marshal(struct {
		CF           string
		Types        []string
		Exemption    fees.Exemption
		Channel      certificate.Channel
		Operator     string
		Contrassegno string
		Use          string
		At           string
	}{strings.ToUpper(strings.TrimSpace(r.SubjectCF)), types, r.Exemption, r.Channel, r.Operator.ID,
		strings.TrimSpace(r.Contrassegno), strings.ToLower(strings.TrimSpace(r.Use)), r.At.String()})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// requesterKey is who asks, as the request names them: a retry carries the
// same evidence (the kiosk's outbox keeps the body), another requester is
// another request.
func (r Request) requesterKey() string {
	e := r.Evidence
	switch e.Method {
	case identify.CIE:
		return "cie|" + e.NIS + "|" + hex.EncodeToString(e.TapNonce) + "|" + e.TappedAt.UTC().Format(time.RFC3339)
	case identify.Document:
		return "document|" + strings.ToUpper(strings.TrimSpace(e.CF)) + "|" + strings.ToUpper(strings.TrimSpace(e.Document))
	}
	return strings.ToUpper(strings.TrimSpace(r.RequesterCF))
}

// checked is a request the desk has decided to issue: what it read and
// priced, before any number.
type checked struct {
	now       time.Time
	settings  Settings
	types     []certificate.Type
	creq      certificate.Request
	data      *certificate.SubjectData
	read      audit.Entry
	breakdown fees.Breakdown
	// delegation is the delegation the certificate is obtained under;
	// nil for the requester's own or their household's.
	delegation *delegation.Delegation
}

// Priced is a request as the desk would issue it now: its total and what a
// payment for it records.
type Priced struct {
	TotalCents int64
	// Hash is Request.PricedHash.
	Hash        string
	Types       []string
	SubjectName string
	// SubjectCF is whom the certificate is about, as the registry holds
	// it (the requester's own when the request names no subject).
	SubjectCF string
	// RequesterCF and RequesterName are who asks (a pagoPA debtor).
	RequesterCF, RequesterName string
}

// Price runs every check Issue runs (the requester's identification, the
// subject, the household, eligibility, the exemption, the fees) without
// issuing or numbering anything, so that no payment is taken for a
// certificate the desk would refuse. Its read of the registry is recorded
// in the audit log like an issuance's; refusals are Issue's.
func (s *Service) Price(ctx context.Context, req Request) (Priced, error) {
	c, err := s.check(ctx, req)
	if err != nil {
		return Priced{}, err
	}
	if s.Audit != nil {
		entry := c.read
		entry.Purpose += "; verifica e importo prima del pagamento, nessun certificato rilasciato"
		if err := s.Audit.Record(ctx, entry); err != nil {
			return Priced{}, err
		}
	}
	p := Priced{TotalCents: c.breakdown.TotalCents, Hash: req.PricedHash(), SubjectName: c.data.Person.FullName(), SubjectCF: c.data.Person.CF,
		RequesterCF: c.creq.Requester.CF}
	for _, t := range c.types {
		p.Types = append(p.Types, string(t))
	}
	if c.creq.Requester.Person != nil {
		p.RequesterName = c.creq.Requester.Person.FullName()
	}
	return p, nil
}

// check runs every rule of the request up to its price, recording the read
// behind a refusal (refused); it issues nothing.
func (s *Service) check(ctx context.Context, req Request) (*checked, error) {
	types := make([]certificate.Type, 0, len(req.Types))
	for _, t := range req.Types {
		ct, err := certificate.ParseType(t)
		if err != nil {
			return nil, err
		}
		types = append(types, ct)
	}
	now := s.Now()
	settings, err := s.Settings()
	if err != nil {
		return nil, err
	}

	creq := certificate.Request{Types: types, Channel: req.Channel, Allowed: req.Operator.Allowed, Now: now, Widening: req.Operator.Widening, Force: req.Force, At: req.At}
	read := s.readEntry(req, types, now)
	c := &checked{now: now, settings: settings, types: types, read: read}
	var data *certificate.SubjectData
	// deleg is the subject's delegation to the requester that lets them
	// have these types (issue 17), found after a first pass refused the
	// subject as outside the requester's household.
	var deleg *delegation.Delegation
	// The order is the no-oracle rule (issue 13): who asks, then whether
	// they may see the subject at all, and only then anything about the
	// subject, so a refusal about a stranger says nothing of them.
	view := func(r registry.Reader) error {
		if req.Channel != certificate.Office {
			if err := s.identify(r, req, now, &creq.Requester); err != nil {
				return err
			}
		}
		subjectCF := req.SubjectCF
		if strings.TrimSpace(subjectCF) == "" && req.Channel != certificate.Office {
			// The requester themself (Request.SubjectCF).
			subjectCF = creq.Requester.CF
			read.Subject = subjectCF
		}
		d, err := certificate.Load(r, subjectCF)
		if err != nil {
			if bad := malformedCF("subject's", err); bad != err {
				return bad
			}
			if _, ok := certificate.AsRefusal(err); !ok {
				return err
			}
		}
		var subject *registry.Person
		if d != nil {
			subject = d.Person
		}
		if deleg == nil || subject == nil || !delegation.Same(deleg.DelegatorCF, subject.CF) {
			if herr := certificate.CheckHousehold(creq, subject); herr != nil {
				return herr
			}
		}
		if err != nil {
			return err
		}
		data = d
		if !req.At.IsZero() {
			// The family as it was on the date, for stato di famiglia
			// storico, read in the same snapshot as the subject.
			if err := certificate.LoadPast(r, d, req.At); err != nil {
				return err
			}
		}
		if req.Channel == certificate.Office {
			creq.Requester, err = requester(r, req.RequesterCF, d.Person)
			creq.Requester.Administration = strings.TrimSpace(req.Administration)
			return err
		}
		if w := strings.TrimSpace(creq.Widening); w != "" && !certificate.InHousehold(creq.Requester, d.Person) {
			// The agreement's legal basis is what let this requester see
			// this subject: the audit entry names it.
			read.Purpose += "; fuori dalla famiglia anagrafica del richiedente, in base a: " + w
		}
		return nil
	}
	err = s.Registry.View(ctx, view)
	if ref, ok := certificate.AsRefusal(err); ok && ref.Reason == certificate.ReasonNotRequesterHousehold && s.Stores != nil && creq.Requester.CF != "" {
		// Outside the household: a delegation the subject gave the
		// requester may still let them have these types. The registry
		// is read again with it, in a snapshot of its own; the
		// delegation's use is checked again, under its lock, in the
		// transaction that issues (RecordUse).
		var found bool
		var lerr error
		deleg, found, lerr = s.delegationFor(ctx, req.SubjectCF, creq.Requester.CF, types, now)
		switch {
		case lerr != nil:
			return nil, lerr
		case deleg != nil:
			read = s.readEntry(req, types, now)
			data = nil
			err = s.Registry.View(ctx, view)
		case found:
			err = &certificate.Refusal{Reason: delegation.ReasonOutOfScope,
				Message: "the delegation the subject gave the requester does not cover these certificates."}
		}
	}
	if deleg != nil && err == nil {
		// Recorded under both names: the subject's entry names the
		// delegate and the delegation, and the delegate gets an entry of
		// their own (Issue).
		read.Purpose += fmt.Sprintf("; per delega %s di %s a %s (art. 38 DPR 445/2000)", deleg.ID, deleg.DelegatorCF, deleg.DelegateCF)
		c.delegation = deleg
	}
	if creq.Requester.CF != "" && req.Channel != certificate.Office {
		read.Purpose += "; richiedente " + creq.Requester.CF
	}
	if req.Force {
		// ANPR's forzaCertificazione: the audit entry says the officer
		// took the decision, whoever the Actor is.
		read.Purpose += "; certificazione forzata dall'ufficiale d'anagrafe"
	}
	if err != nil {
		if _, ok := certificate.AsRefusal(err); ok {
			return nil, s.refused(ctx, req, read, err)
		}
		return nil, err
	}
	read.Subject = data.Person.CF
	types, err = certificate.Check(data, creq)
	if err != nil {
		return nil, s.refused(ctx, req, read, err)
	}
	if err := certificate.CheckExemption(req.Exemption, req.Channel, creq.Requester.KindFor(data.Person)); err != nil {
		return nil, s.refused(ctx, req, read, err)
	}
	breakdown, err := certificate.Fees(certificate.FeeRequest{Types: types, Exemption: req.Exemption, ServiceCents: req.Operator.ServiceCents, Channel: req.Channel, Contrassegno: req.Contrassegno, Use: req.Use}, settings.Policy)
	if err != nil {
		return nil, s.refused(ctx, req, read, err)
	}

	c.types, c.creq, c.data, c.read, c.breakdown = types, creq, data, read, breakdown
	return c, nil
}

// Issue decides, charges and issues. Refusals are *certificate.Refusal and
// leave nothing behind: no protocol number, no record. A self-service
// request with a total above zero is issued only against its paid payment
// (req.PaymentID), which the issuing transaction marks used.
func (s *Service) Issue(ctx context.Context, req Request) (Result, error) {
	c, err := s.check(ctx, req)
	if err != nil {
		return Result{}, err
	}
	now, settings, types, creq, data, read, breakdown := c.now, c.settings, c.types, c.creq, c.data, c.read, c.breakdown
	claim := payment.Claim{RequestKey: req.IdempotencyKey, RequestHash: req.PricedHash(), AmountCents: breakdown.TotalCents}
	paid := req.Channel == certificate.SelfService && breakdown.TotalCents > 0
	var pay payment.Payment
	if paid {
		// Issue 15: nothing is printed unattended before it is paid. The
		// payment is checked here, before a number is reserved, and again
		// in the transaction that uses it.
		switch {
		case strings.TrimSpace(req.PaymentID) == "":
			return Result{}, s.refused(ctx, req, read, fmt.Errorf("%w: this request costs %d cents; pay it at the till or with pagoPA, then send it naming the payment", payment.ErrRequired, breakdown.TotalCents))
		case s.Payments == nil:
			return Result{}, s.refused(ctx, req, read, fmt.Errorf("%w: this hub takes no payments", payment.ErrRequired))
		}
		if pay, err = s.Payments.Check(req.PaymentID, claim, now); err != nil {
			return Result{}, s.refused(ctx, req, read, err)
		}
	}
	var pdf []byte
	idem := idempotency{key: req.IdempotencyKey}
	use, _ := certificate.ParseUse(req.Use) // certificate.Fees refused an unknown one
	if idem.key != "" {
		idem.hash = req.Hash()
	}
	names := s.placeTable()
	// The certificate is dated when its number is registered, which is now
	// unless the clock has stepped back a little behind the register
	// (protocol.Stamp): the document and the register say the same time.
	rec, replayed, err := s.commit(ctx, settings.Register, now, idem, breakdown.Contrassegno, func(n protocol.Number, registered time.Time) (*built, error) {
		id, err := certificate.NewID(s.Rand)
		if err != nil {
			return nil, err
		}
		doc, err := certificate.Compose(data, types, names, certificate.Issue{
			ID: id, Protocol: n.String(), Issued: registered, Issuer: settings.Issuer,
			VerifyURL: verifyURL(settings.PublicURL, id), Fees: breakdown, Use: use, At: req.At,
		})
		if err != nil {
			return nil, err
		}
		if pdf, _, err = s.Keys.IssuePDF(doc); err != nil {
			return nil, fmt.Errorf("cannot seal certificate %s: %w", id, err)
		}
		b := &built{rec: certificate.NewRecord(doc, data, creq, req.Operator.ID, breakdown), pdf: pdf}
		b.rec.ClerkID, b.rec.ClerkName = req.Clerk.ID, req.Clerk.Name
		b.rec.Seal = s.Keys.SealedBy()
		b.rec.Use = use
		if s.wantsAudit() {
			entry := read
			entry.Request = id
			b.audit = &entry
		}
		if d := c.delegation; d != nil {
			b.rec.DelegationID = d.ID
			b.use = &delegation.Use{DelegationID: d.ID, At: registered, Service: strings.ToLower(b.rec.Title),
				Ref: id, Channel: string(req.Channel), Place: req.Operator.Name}
			if b.audit != nil {
				// The delegate's own entry: what they did for whom.
				e := *b.audit
				e.Subject = d.DelegateCF
				e.Data = "atto per delega: " + e.Data + " di " + d.DelegatorCF
				b.delegateAudit = &e
			}
		}
		b.notice = s.notice(&b.rec, data, creq.Requester, req.Operator, settings.Issuer)
		if b.notice != nil && c.delegation != nil {
			b.notice.Delegation = c.delegation.ID
		}
		if paid {
			// Who collected the money, for the settlement: the city
			// through pagoPA, or the shop at its till. The payment's use
			// commits with the certificate, so a crash can neither issue
			// without using the payment nor use it without issuing; a
			// payment used meanwhile by another request fails the
			// transaction, and the number goes back.
			b.rec.PaymentID, b.rec.PaidWith = pay.ID, string(pay.Method)
			b.pay = &payUse{id: req.PaymentID, claim: claim, now: now}
		}
		return b, nil
	})
	if _, ok := certificate.AsRefusal(err); ok {
		// A contrassegno already used, found by the store before any
		// number was reserved, is a refusal like the others.
		return Result{}, s.refused(ctx, req, read, err)
	}
	if err != nil {
		return Result{}, err
	}
	if replayed {
		if pdf, err = s.PDF(ctx, rec); err != nil {
			return Result{}, err
		}
	}
	if s.Log != nil {
		s.Log.Info("certificate issued", "id", rec.ID, "protocol", rec.Protocol, "types", rec.Types,
			"operator", rec.OperatorID, "channel", rec.Channel, "total_cents", rec.TotalCents, "replayed", replayed)
	}
	return Result{Record: rec, PDF: pdf, Replayed: replayed}, nil
}

// notice is the subject's notice of a certificate about someone other
// than the requester, queued in the issuing transaction; nil when none is
// sent.
func (s *Service) notice(rec *certificate.Record, data *certificate.SubjectData, rq certificate.Requester, op Operator, issuer certificate.Issuer) *Notice {
	subject := data.Person
	if s.Notices == nil || rq.CF == "" || rq.CF == subject.CF || !subject.Alive() {
		return nil
	}
	n := Notice{CertificateID: rec.ID, Protocol: rec.Protocol, Title: rec.Title, Issued: rec.Issued,
		SubjectCF: subject.CF, SubjectEmail: subject.Email, RequesterName: rq.CF, Place: op.Name}
	if rq.Person != nil {
		n.RequesterName = rq.Person.FullName()
	}
	if n.Place == "" {
		n.Place = strings.TrimSpace(strings.Trim(issuer.Office+", "+issuer.Comune, ", "))
	}
	return &n
}

// delegationFor finds the delegation, live now, the subject subjectCF
// gave requesterCF that covers types: d nil and found true when one is
// live but covers less.
func (s *Service) delegationFor(ctx context.Context, subjectCF, requesterCF string, types []certificate.Type, now time.Time) (d *delegation.Delegation, found bool, err error) {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	err = s.Stores.View(ctx, func(tx store.Tx) error {
		given, err := tx.Delegations().Received(requesterCF)
		if err != nil {
			return err
		}
		one, ok, live := delegation.Find(given, subjectCF, requesterCF, names, now)
		if ok {
			d = &one
		}
		found = live
		return nil
	})
	return d, found, err
}

// householdMark is what a refusal's audit entry says of a subject outside
// the requester's household.
const householdMark = "soggetto fuori dalla famiglia anagrafica del richiedente"

// identify checks the requester's evidence and loads their household into
// q; a failure is one refusal whatever its cause, which it keeps as Err for
// the log and the audit entry.
func (s *Service) identify(r registry.Reader, req Request, now time.Time, q *certificate.Requester) error {
	var err error
	*q, err = s.Requester(r, req.Evidence, req.Channel, now)
	return err
}

// Requester identifies who asks on channel from their evidence, within the
// caller's registry view, with their own famiglia anagrafica: the hub's one
// way, for issuance and for the kiosk's look-up alike. A missing or failed
// identification is a *certificate.Refusal whose message is the same
// whatever the cause (kept as its Err).
func (s *Service) Requester(r registry.Reader, ev identify.Evidence, channel certificate.Channel, now time.Time) (certificate.Requester, error) {
	if ev.Zero() {
		return certificate.Requester{}, &certificate.Refusal{Reason: certificate.ReasonRequesterEvidenceRequired,
			Message: "the requester must be identified (CIE, or codice fiscale and identity document) before a certificate is requested."}
	}
	v := s.Identify
	if v == nil {
		v = &identify.Verifier{}
	}
	p, err := v.Identify(r, ev, channel == certificate.SelfService, now)
	var f *identify.Failure
	if errors.As(err, &f) {
		return certificate.Requester{}, certificate.IdentificationFailed(f)
	} else if err != nil {
		return certificate.Requester{}, err
	}
	q := certificate.Requester{CF: p.CF, Person: p}
	return q, certificate.LoadHousehold(r, &q)
}

// Eligibility judges, within the caller's registry view, which certificate
// types the identified requester q may have about the subject with
// codice fiscale cf on channel under op's agreement, type by type, by the
// rules Issue applies (certificate.Eligible calls certificate.Check).
// Nothing is written: the caller records the read in the audit log as it
// records the look-up that shows it. The household rule comes first, as in
// Issue, so a subject the requester may not see is one refusal
// (ReasonNotRequesterHousehold) whatever the registry holds of them.
func (s *Service) Eligibility(r registry.Reader, q certificate.Requester, cf string, channel certificate.Channel, op Operator, now time.Time) ([]certificate.Verdict, error) {
	creq := certificate.Request{Requester: q, Channel: channel, Allowed: op.Allowed, Now: now, Widening: op.Widening}
	d, err := certificate.Load(r, cf)
	if err != nil {
		if _, ok := certificate.AsRefusal(err); !ok {
			return nil, err
		}
	}
	var subject *registry.Person
	if d != nil {
		subject = d.Person
	}
	if herr := certificate.CheckHousehold(creq, subject); herr != nil {
		return nil, herr
	}
	if err != nil {
		return nil, err
	}
	return certificate.Eligible(d, creq, nil), nil
}

// readEntry is the audit entry of this request's read of the registry,
// naming the subject as the request gave it until the registry has
// resolved it.
func (s *Service) readEntry(req Request, types []certificate.Type, now time.Time) audit.Entry {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	return audit.Entry{
		Time: now, Actor: req.Actor, Subject: strings.ToUpper(strings.TrimSpace(req.SubjectCF)), Data: "certificato " + strings.Join(names, "+"),
		Purpose: "rilascio certificato anagrafico (art. 33 DPR 223/1989)", Channel: string(req.Channel),
		Request: req.IdempotencyKey, Clerk: req.Clerk,
	}
}

// refused records the read behind a refusal and returns the refusal; a
// failure to record wins, since a read must never go unrecorded. The
// precise cause of a refusal whose answer hides it (a failed
// identification) goes to the log and the audit entry only.
func (s *Service) refused(ctx context.Context, req Request, read audit.Entry, refusal error) error {
	ref, _ := certificate.AsRefusal(refusal)
	cause := ""
	if ref != nil && ref.Err != nil {
		cause = ref.Err.Error()
	}
	if s.Log != nil && ref != nil {
		s.Log.Warn("certificate request refused", "reason", ref.Reason, "cause", cause, "subject", read.Subject,
			"channel", req.Channel, "operator", req.Operator.ID, "actor", req.Actor.ID)
	}
	if s.Audit == nil || ref != nil && (ref.Reason == certificate.ReasonInvalidCF || ref.Reason == certificate.ReasonRequesterEvidenceRequired) {
		// Nothing of the registry was read: a code that is no codice
		// fiscale finds nobody, and without evidence nobody is looked up.
		return refusal
	}
	if strings.TrimSpace(read.Subject) == "" {
		read.Subject = "-" // the request named no subject; the entry still records the requester's read
	}
	if ref != nil && ref.Reason == certificate.ReasonIdentificationFailed && cause != "" {
		// The answer hides the cause; the audit log keeps it. It stays
		// before the refusal mark, which the access log strips.
		read.Purpose += "; identificazione non riuscita: " + cause
	}
	if ref != nil && ref.Reason == certificate.ReasonNotRequesterHousehold {
		read.Purpose += "; " + householdMark
	}
	read.Purpose += ", richiesta rifiutata"
	if err := s.Audit.Record(ctx, read); err != nil {
		return fmt.Errorf("the request was refused (%v), and its read of the registry could not be recorded: %w", refusal, err)
	}
	return refusal
}

// requester identifies the person at the counter; empty means the subject.
func requester(r registry.Reader, cf string, subject *registry.Person) (certificate.Requester, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	if cf == "" || cf == subject.CF {
		return certificate.Requester{CF: subject.CF, Person: subject}, nil
	}
	p, err := r.PersonByCF(cf)
	if err != nil {
		if bad := malformedCF("requester's", err); bad != err {
			return certificate.Requester{}, bad
		}
	}
	switch {
	case err == nil:
		return certificate.Requester{CF: p.CF, Person: p}, nil
	case errors.Is(err, registry.ErrNotFound):
		// Not a resident: still a person who may ask at a counter after
		// identification (art. 33 DPR 223/1989).
		return certificate.Requester{CF: cf}, nil
	default:
		return certificate.Requester{}, &certificate.Refusal{Reason: certificate.ReasonRequesterUnknown,
			Message: fmt.Sprintf("the requester's codice fiscale %s cannot be used: %v", cf, err), Err: err}
	}
}

// malformedCF turns a look-up that failed because the code itself is not a
// codice fiscale into a refusal: the request is wrong, not the hub, and a
// kiosk that took it for the hub's failure would retry it for ever. Other
// errors pass unchanged.
func malformedCF(whose string, err error) error {
	var cfe *codicefiscale.Error
	if !errors.As(err, &cfe) {
		return err
	}
	return &certificate.Refusal{Reason: certificate.ReasonInvalidCF, Message: "the " + whose + " " + cfe.Error(), Err: err}
}

// CopyPDF renders a copy of the certificate rec (certificate.CopyOf) under
// the city's settings now: every page marked certpdf.CopyMark, its QR the
// bare verification URL, no seal token and no signature, so no verifier
// takes it for the original.
func (s *Service) CopyPDF(rec certificate.Record) ([]byte, error) {
	st, err := s.Settings()
	if err != nil {
		return nil, err
	}
	url := verifyURL(st.PublicURL, rec.ID)
	return certpdf.Render(certificate.CopyOf(rec, st.Issuer, url), certpdf.Seal{QR: url, Copy: certpdf.CopyMark})
}

// VerifyURL is the public verification page of certificate id.
func (s *Service) VerifyURL(id string) string {
	st, err := s.Settings()
	if err != nil {
		st.PublicURL = s.PublicURL
	}
	return verifyURL(st.PublicURL, id)
}

func verifyURL(base, id string) string { return strings.TrimRight(base, "/") + "/v/" + id }
