package certificate

import (
	"errors"
	"slices"
	"strings"
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

// Reason codes of the contrassegno checks (fees has the format's).
const (
	// ReasonContrassegnoNotAtCounter: a contrassegno on a channel other
	// than a shop's counter.
	ReasonContrassegnoNotAtCounter = "contrassegno_not_at_counter"
	// ReasonContrassegnoUsed: the contrassegno is already on another
	// certificate (the store refuses it in the issuing transaction).
	ReasonContrassegnoUsed = "contrassegno_used"
)

// ContrassegnoUsed is the refusal of a contrassegno already on certificate
// certID.
func ContrassegnoUsed(id, certID string) *Refusal {
	return &Refusal{Reason: ReasonContrassegnoUsed,
		Message: "the contrassegno telematico n. " + id + " has already been used for another certificate: a marca da bollo pays for one document only."}
}

// Fees computes the fee lines for a document. A refused fee request is a
// *Refusal with fees' reason code, or the use's. It checks the use and
// the contrassegno's channel too, so a preview and the issuance agree.
func Fees(fr FeeRequest, pol Policy) (fees.Breakdown, error) {
	use, err := ParseUse(fr.Use)
	if err != nil {
		return fees.Breakdown{}, err
	}
	if strings.TrimSpace(fr.Contrassegno) != "" && fr.Channel != Counter {
		// A tobacconist sells the marca and applies it at its counter; a
		// self-service kiosk has nobody to apply one and the registry
		// office pays the bollo virtually under the city's authorisation
		// (art. 15 DPR 642/1972).
		return fees.Breakdown{}, refuse(ReasonContrassegnoNotAtCounter, "a contrassegno telematico (marca da bollo) is applied only at a shop's counter; here the bollo is paid virtually.")
	}
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
	if err != nil {
		return b, err
	}
	if err := CheckUse(use, b); err != nil {
		return fees.Breakdown{}, err
	}
	return b, nil
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
	ClerkID   string         `json:"clerk_id,omitempty"`
	ClerkName string         `json:"clerk_name,omitempty"`
	Exemption fees.Exemption `json:"exemption"`
	// Contrassegno is the identifier of the contrassegno telematico that
	// paid the bollo at the counter; empty when paid virtually or exempt.
	Contrassegno string `json:"contrassegno,omitempty"`
	// Use is the destination of use declared; empty for the ordinary one.
	Use        Use         `json:"use,omitempty"`
	Fees       []fees.Line `json:"fees"`
	TotalCents int64       `json:"total_cents"`
	Facts      []Fact      `json:"facts"`
	Issued     time.Time   `json:"issued"`
	DocSHA256  string      `json:"doc_sha256"` // hex SHA-256 of the PDF as issued
	// PDFDeleted is when retention deleted the PDF at the end of the
	// city's re-download window; zero while it is kept. The record and
	// DocSHA256 stay, so the certificate can still be verified.
	PDFDeleted time.Time `json:"pdf_deleted,omitzero"`

	// Forced marks a certificate the registry officer forced at the
	// office (ANPR's forzaCertificazione, Request.Force).
	Forced bool `json:"forced,omitempty"`

	// PaymentID and PaidWith are the payment a self-service certificate
	// was issued against and its method ("till": the shop collected the
	// money; "pagopa": the city did), for the settlement (issue 15).
	PaymentID string `json:"payment_id,omitempty"`
	PaidWith  string `json:"paid_with,omitempty"`

	// DelegationID is the delegation under which the requester (the
	// delegate, RequesterCF) obtained this certificate about the subject
	// (the delegator), issue 17; empty otherwise.
	DelegationID string `json:"delegation_id,omitempty"`

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
// DocSHA256, Status and idempotency fields are set by the store; Use by
// the caller, who declared it.
func NewRecord(doc *Document, d *SubjectData, req Request, operatorID string, b fees.Breakdown) Record {
	return Record{
		ID:           doc.ID,
		Protocol:     doc.Protocol,
		Types:        append([]Type(nil), doc.Types...),
		Title:        doc.Title,
		SubjectCF:    doc.Subject.CF,
		SubjectName:  doc.Subject.Name,
		RequesterCF:  req.Requester.CF,
		Requester:    req.Requester.KindFor(d.Person),
		Channel:      req.Channel,
		OperatorID:   operatorID,
		Exemption:    b.Exemption,
		Contrassegno: b.Contrassegno,
		Fees:         append([]fees.Line(nil), b.Lines...),
		TotalCents:   b.TotalCents,
		Facts:        append([]Fact(nil), doc.Facts...),
		Issued:       doc.Issued,
		Forced:       req.Force,
		Status:       Valid,
		Signatory:    doc.Issuer.Signatory().Signs(),
	}
}

// ReasonExemptionNotAllowed: the declared bollo exemption is not one this
// requester may claim on this channel.
const ReasonExemptionNotAllowed = "exemption_not_allowed"

// exemptionLimits are the table 39 codes that only some requesters on some
// channels may claim, each with the source of its constraint. A code not
// listed (6, 7, 9, 99) is declared by the requester on any channel: its
// law exempts the certificate for what it is used for, and the person it
// is about, or their family, declares that use. ANPR's controls of the
// 6001 request check only code 99's text and the diritti flag
// (src/controllo-certificati, "Esenzione bolli"); the constraints below
// come from who the law exempts.
var exemptionLimits = map[int]struct {
	channels   []Channel
	requesters []RequesterKind
	why        string
}{
	// Code 1: art. 27-bis, tabella allegato B, DPR 642/1972 (and art. 82
	// c. 5 D.Lgs. 117/2017 for the enti del terzo settore) exempts the
	// papers "richiesti da" an ONLUS: the entity asks, and only the
	// registry office sees its request and its representative's powers.
	1: {[]Channel{Office}, []RequesterKind{RequesterOther, RequesterSubject, RequesterPA},
		"exemption code 1 (ONLUS) is for a request made by the organisation itself, which the registry office takes."},
	// Code 2: art. 8-bis, tabella allegato B, DPR 642/1972 exempts the
	// papers "richiesti da" sports federations and amateur clubs
	// recognised by CONI: as code 1, the club asks at the office.
	2: {[]Channel{Office}, []RequesterKind{RequesterOther, RequesterSubject, RequesterPA},
		"exemption code 2 (sports clubs) is for a request made by the club itself, which the registry office takes."},
	// Code 3: art. 18 DPR 115/2002 exempts what a party produces in a
	// civil proceeding; the party (the person or family) declares it,
	// on any channel. Its use is a court case (see CheckUse).
	// Code 4: the court's consultant (C.T.U.) or the bankruptcy trustee
	// asks in that role, appointed by the court (art. 16, tabella
	// allegato B, DPR 642/1972): a person outside the subject's
	// household, whom only the registry office may serve and whose
	// appointment it checks (art. 33 DPR 223/1989; at counters and
	// self-service DM Interno 3.11.2021 art. 2 keeps to the household).
	4: {[]Channel{Office}, []RequesterKind{RequesterOther, RequesterPA},
		"exemption code 4 (court's consultant or bankruptcy trustee) is for the court's appointee asking at the registry office with the appointment."},
	// Code 5: art. 13, tabella allegato B, DPR 642/1972 and circolare
	// Min. Giustizia 5.2.2007: interdizione, inabilitazione and
	// amministrazione di sostegno proceedings, whose party declares it on
	// any channel, like code 3.
	// Codes 6 (adoption, custody, guardianship of minors: art. 82 L.
	// 184/1983), 7 (separation and divorce: art. 19 L. 74/1987) and 9
	// (foreign pension: art. 9 tabella B) are declared by the person
	// concerned on any channel.
	// Code 8: art. 16 c. 8 L. 537/1993 exempts the papers needed because
	// the comune itself renamed a street or renumbered a door: a
	// resident's own request about their address, on any channel.
	// Code 10: art. 16, tabella allegato B, DPR 642/1972 exempts the acts
	// exchanged between public administrations, so only an administration
	// may claim it, and administrations ask at the registry office; ANPR
	// issues it only with tipoRichiedente 3 (pubblica amministrazione),
	// whose request's reference (estremiDocRiconoscimento) it requires.
	10: {[]Channel{Office}, []RequesterKind{RequesterPA},
		"exemption code 10 (exchanges between public administrations) is only for a public administration's request at the registry office."},
	// Code 99 (altro motivo): any channel, with the law in words
	// (fees.Compute) and, if that law says so, the diritti waived too
	// (fees.Exemption.DirittiExempt, ANPR's esenzioneDiritti).
}

// ExemptionsOn lists the table 39 rows a person (not an administration)
// may claim on channel ch: what a kiosk offers.
func ExemptionsOn(ch Channel) []fees.Reason {
	var out []fees.Reason
	for _, r := range fees.Reasons() {
		if CheckExemption(fees.Exemption{Code: r.Code}, ch, RequesterSubject) == nil || CheckExemption(fees.Exemption{Code: r.Code}, ch, RequesterOther) == nil {
			out = append(out, r)
		}
	}
	return out
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
