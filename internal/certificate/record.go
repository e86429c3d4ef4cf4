package certificate

import (
	"errors"
	"slices"
	"time"

	"github.com/sportello/sportello/internal/fees"
)

// Policy is the city's fee configuration.
type Policy struct {
	// ServiceCapCents caps the operator's service fee; 0 means
	// fees.DefaultServiceCapCents.
	ServiceCapCents int64
	// LawExemption issues the birth, marriage and civil union
	// certificates exempt from bollo and diritti (see ExemptByLaw). Off by
	// default: ANPR issues them in bollo.
	LawExemption bool
	// BolloAuthorisation is the city's authorisation to pay the bollo
	// virtually, printed on every certificate in bollo (fees.Request).
	BolloAuthorisation string
	// Diritti are the diritti di segreteria per channel; a channel not
	// listed is charged fees.DefaultRates.
	Diritti map[Channel]fees.Rates
}

// DirittiOn returns the diritti charged on channel ch.
func (p Policy) DirittiOn(ch Channel) fees.Rates {
	if r, ok := p.Diritti[ch]; ok {
		return r
	}
	return fees.DefaultRates
}

// FeeRequest is what a certificate's fees depend on.
type FeeRequest struct {
	Types     []Type
	Exemption fees.Exemption
	// ServiceCents is the operator's fee from its agreement (0 at the
	// office and for self-service).
	ServiceCents int64
	Channel      Channel
	// Contrassegno is the contrassegno telematico's 14-digit identifier
	// when the counter applied one; empty for virtual bollo.
	Contrassegno string
	// Use is the declared destination of use; empty for the ordinary one.
	Use string
}

// Fees computes the fee lines for a document. A refused fee request is a
// *Refusal with fees' reason code.
func Fees(fr FeeRequest, pol Policy) (fees.Breakdown, error) {
	rates := pol.DirittiOn(fr.Channel)
	b, err := fees.Compute(fees.Request{
		Exemption:          fr.Exemption,
		ExemptByLaw:        pol.LawExemption && ExemptByLaw(fr.Types),
		ServiceCents:       fr.ServiceCents,
		ServiceCapCents:    pol.ServiceCapCents,
		BolloAuthorisation: pol.BolloAuthorisation,
		Diritti:            &rates,
		Contrassegno:       fr.Contrassegno,
		Use:                fr.Use,
	})
	var fe *fees.Error
	if errors.As(err, &fe) {
		return b, &Refusal{Reason: fe.Reason, Message: fe.Message, Err: err}
	}
	return b, err
}

// Status of an issued certificate.
type Status string

const (
	Valid   Status = "valid"
	Revoked Status = "revoked"
)

// Record is an issued certificate as the hub keeps it: enough to answer the
// verification page, settle with operators, and replay an idempotent request.
type Record struct {
	ID          string        `json:"id"`
	Protocol    string        `json:"protocol"` // "2026/0000123"
	Types       []Type        `json:"types"`
	Title       string        `json:"title"`
	SubjectCF   string        `json:"subject_cf"`
	SubjectName string        `json:"subject_name"`
	RequesterCF string        `json:"requester_cf,omitempty"`
	Requester   RequesterKind `json:"requester_kind"`
	Channel     Channel       `json:"channel"`
	OperatorID  string        `json:"operator_id,omitempty"` // empty for the registry office and self-service
	// ClerkID and ClerkName are the named clerk logged in at the shop's
	// device; empty on self-service, at the office and before clerks.
	ClerkID    string         `json:"clerk_id,omitempty"`
	ClerkName  string         `json:"clerk_name,omitempty"`
	Exemption  fees.Exemption `json:"exemption"`
	Fees       []fees.Line    `json:"fees"`
	TotalCents int64          `json:"total_cents"`
	Facts      []Fact         `json:"facts"`
	Issued     time.Time      `json:"issued"`
	DocSHA256  string         `json:"doc_sha256"` // hex SHA-256 of the PDF as issued
	// PDFDeleted is when retention deleted the PDF at the end of the
	// city's re-download window; zero while it is kept. The record and
	// DocSHA256 stay, so the certificate can still be verified.
	PDFDeleted time.Time `json:"pdf_deleted,omitzero"`

	Status       Status    `json:"status"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	RevokeReason string    `json:"revoke_reason,omitempty"`
	// RevokedBy is the staff member who authorised the revocation
	// (CheckRevocation); empty on records revoked before it was kept.
	RevokedBy string `json:"revoked_by,omitempty"`

	// IdempotencyKey and RequestHash are the client's key and the hash of
	// the request body it came with.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	RequestHash    string `json:"request_hash,omitempty"`

	// Signatory is who certified, as the certificate names them ("L'Ufficiale
	// d'Anagrafe delegato Maria Grazia Colombo"), and Seal the electronic
	// seal that signed the PDF (its holder and issuing CA), so the public
	// verification page says who signed even after the seal is renewed.
	Signatory string `json:"signatory,omitempty"`
	Seal      string `json:"seal,omitempty"`
}

// NewRecord fills a Record from the Document and the request it answers.
// DocSHA256, Status and idempotency fields are set by the store.
func NewRecord(doc *Document, d *SubjectData, req Request, operatorID string, b fees.Breakdown) Record {
	return Record{
		ID:          doc.ID,
		Protocol:    doc.Protocol,
		Types:       append([]Type(nil), doc.Types...),
		Title:       doc.Title,
		SubjectCF:   doc.Subject.CF,
		SubjectName: doc.Subject.Name,
		RequesterCF: req.Requester.CF,
		Requester:   req.Requester.KindFor(d.Person),
		Channel:     req.Channel,
		OperatorID:  operatorID,
		Exemption:   b.Exemption,
		Fees:        append([]fees.Line(nil), b.Lines...),
		TotalCents:  b.TotalCents,
		Facts:       append([]Fact(nil), doc.Facts...),
		Issued:      doc.Issued,
		Status:      Valid,
		Signatory:   doc.Issuer.Signatory().Signs(),
	}
}

// ReasonExemptionNotAllowed: the declared bollo exemption is not one this
// requester may claim on this channel.
const ReasonExemptionNotAllowed = "exemption_not_allowed"

// exemptionLimits are the table 39 codes that only some requesters on some
// channels may claim, each with the source of its constraint. Codes not
// listed are declared by the requester on any channel.
var exemptionLimits = map[int]struct {
	channels   []Channel
	requesters []RequesterKind
	why        string
}{
	// Code 10: art. 16, tabella allegato B, DPR 642/1972 exempts the acts
	// exchanged between public administrations, so only an administration
	// may claim it, and administrations ask at the registry office; ANPR
	// issues it only with tipoRichiedente 3 (pubblica amministrazione).
	10: {[]Channel{Office}, []RequesterKind{RequesterPA},
		"exemption code 10 (exchanges between public administrations) is only for a public administration's request at the registry office."},
}

// CheckExemption refuses an exemption code the requester of kind may not
// claim on channel ch, before anything is charged or numbered.
func CheckExemption(ex fees.Exemption, ch Channel, kind RequesterKind) error {
	lim, ok := exemptionLimits[ex.Code]
	if !ok {
		return nil
	}
	if slices.Contains(lim.channels, ch) && slices.Contains(lim.requesters, kind) {
		return nil
	}
	return &Refusal{Reason: ReasonExemptionNotAllowed, Message: lim.why}
}
