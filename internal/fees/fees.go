// Package fees computes what a certificate costs, in integer euro cents: the
// imposta di bollo, the diritti di segreteria, and the operator's service fee,
// with the exemptions of ANPR table 39 (tab_esenzione_bollo).
//
// The package knows nothing about certificate types: the caller says whether
// the document is exempt from bollo by law (see certificate.ExemptByLaw).
package fees

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Amounts in cents.
const (
	// BolloCents is the imposta di bollo on a certificate: art. 4 of the
	// tariffa, parte I, allegato A, DPR 642/1972, as set by DL 43/2013.
	BolloCents int64 = 1600
	// DirittiCents and DirittiExemptCents are the diritti di segreteria
	// (L. 604/1962, tabella D): 0.52 EUR on a certificate in bollo, half
	// when it is issued exempt from bollo.
	DirittiCents       int64 = 52
	DirittiExemptCents int64 = 26
	// DefaultServiceCapCents is the most an operator may charge for its
	// service when the city sets no cap of its own (Milan's 2.00 EUR).
	DefaultServiceCapCents int64 = 200
)

// Rates are the diritti di segreteria a city charges on one channel, in
// cents: on a certificate in bollo and on one exempt from it. A city sets
// them per channel (a self-service kiosk may charge none); the zero Rates
// charge nothing.
type Rates struct {
	InBolloCents int64 `json:"in_bollo_cents"`
	ExemptCents  int64 `json:"exempt_cents"`
}

// DefaultRates are the national amounts, 0,52 EUR and 0,26 EUR.
var DefaultRates = Rates{InBolloCents: DirittiCents, ExemptCents: DirittiExemptCents}

// MaxExemptionText is the longest free-text exemption reason ANPR accepts
// (DescrizioneEsenzioneBollo, 256 characters).
const MaxExemptionText = 256

// Kind names a fee component.
type Kind string

const (
	Bollo   Kind = "bollo"
	Diritti Kind = "diritti"
	Service Kind = "servizio"
)

// Line is one fee component. Cents is 0 for a component that is waived;
// Note then says why.
type Line struct {
	Kind  Kind   `json:"kind"`
	Label string `json:"label"`
	Cents int64  `json:"cents"`
	Note  string `json:"note,omitempty"`
	// Contrassegno is set on a bollo line paid with a contrassegno
	// telematico (marca da bollo) the counter sold and applied: its
	// 14-digit identifier. Such a bollo reached the State when the marca
	// was printed, so Shares does not count it as owed to the State.
	Contrassegno string `json:"contrassegno,omitempty"`
}

// Exemption is what the requester declares: an ANPR table 39 code (0 for
// none) and, for code 99, the reason in words.
type Exemption struct {
	Code int    `json:"code"`
	Text string `json:"text,omitempty"`
	// DirittiExempt waives the diritti di segreteria too, under the law
	// Text names: ANPR's esenzioneDiritti flag (6001 richiesta
	// certificati, tipoEsenzioneDiritti 0 = non esente, 1 = esente), which
	// its certificate controls accept with code 99 (altro motivo) and
	// then require the diritti to be 0. The other codes' diritti follow
	// the table (Reason.WaivesDiritti), so the flag is refused with them.
	DirittiExempt bool `json:"diritti_exempt,omitempty"`
}

// Reason is one row of ANPR table 39.
type Reason struct {
	Code  int
	Label string // the use the certificate is for, as printed
	Legal string // the legal reference, as printed
	// WaivesDiritti marks the "+diritti" codes: the law that exempts the
	// use from bollo also exempts it from diritti di segreteria.
	WaivesDiritti bool
}

// OtherReason is code 99, "altro motivo di esenzione": the requester must
// name the law in words.
const OtherReason = 99

// reasons is ANPR table 39, written out here so the legal text printed on a
// certificate does not depend on a file a city may not have imported.
var reasons = []Reason{
	{1, "ONLUS", "art. 27-bis, tabella allegato B, DPR 642/1972", false},
	{2, "società sportive", "art. 8-bis, tabella allegato B, DPR 642/1972", false},
	{3, "uso processuale (certificati da produrre nel procedimento)", "art. 18 DPR 115/2002 e circolare Agenzia delle entrate 70/E del 14.8.2002", false},
	{4, "C.T.U. nominato dal Tribunale o dal Pubblico ministero; curatore fallimentare", "art. 16, tabella allegato B, DPR 642/1972", true},
	{5, "interdizione, inabilitazione, amministrazione di sostegno (certificati da produrre nel procedimento)", "art. 13, tabella allegato B, DPR 642/1972 e circolare Min. Giustizia del 5.2.2007", false},
	{6, "adozione, affidamento, tutela minori", "art. 13, tabella allegato B, DPR 642/1972 e art. 82 L. 184/1983", true},
	{7, "separazione/divorzio", "art. 19 L. 74/1987", true},
	{8, "variazione toponomastica stradale e numerazione civica", "art. 16, comma 8, L. 537/1993", false},
	{9, "pensione estera", "art. 9, tabella allegato B, DPR 642/1972", false},
	{10, "scambio di atti e documenti fra pubbliche amministrazioni", "art. 16, tabella allegato B, DPR 642/1972", true},
	{OtherReason, "altro motivo di esenzione", "", false},
}

// LawExemptionNote is printed when the certificate type itself is exempt.
// Art. 7, comma 5, L. 405/1990 exempts from bollo the certificates and
// extracts concerning stato civile (births, marriages, civil unions), and
// comuni apply it to the corresponding certificates.
const LawExemptionNote = "esente ai sensi dell'art. 7, comma 5, L. 405/1990 (certificazione in materia di stato civile)"

// Reasons returns ANPR table 39 in code order.
func Reasons() []Reason { return append([]Reason(nil), reasons...) }

// LookupReason returns the table 39 row for code.
func LookupReason(code int) (Reason, bool) {
	for _, r := range reasons {
		if r.Code == code {
			return r, true
		}
	}
	return Reason{}, false
}

// Request is everything the fee depends on.
type Request struct {
	Exemption Exemption
	// ExemptByLaw is true when the certificate type is exempt from bollo
	// whatever its use (see LawExemptionNote) and the city applies that
	// exemption; the diritti are then waived too.
	ExemptByLaw bool
	// ServiceCents is the operator's fee from its agreement; 0 at the
	// registry office and for self-service.
	ServiceCents int64
	// ServiceCapCents is the city's cap; 0 means DefaultServiceCapCents.
	ServiceCapCents int64
	// BolloAuthorisation is the Agenzia delle Entrate's authorisation
	// to pay the bollo virtually, "n. 123/2019 del 15/01/2019"; art. 15
	// DPR 642/1972 wants it on every certificate so paid. Empty when the
	// city has none on record.
	BolloAuthorisation string
	// Diritti are the diritti di segreteria of the channel the
	// certificate is issued on; nil charges DefaultRates.
	Diritti *Rates
	// Contrassegno is the 14-digit identifier of the contrassegno
	// telematico (marca da bollo) the counter applied; empty when the
	// bollo is paid virtually. Set by issue 14's bollo work.
	Contrassegno string
	// Use is the destination of use declared (see certificate.Use);
	// empty for the ordinary use.
	Use string
}

// Breakdown is the computed fee: one line per component and the total.
type Breakdown struct {
	Lines      []Line
	TotalCents int64
	Exemption  Exemption // as validated; Code 0 when none was declared
	// Purpose is the sentence printed on the certificate about its use and
	// the bollo: paid, or the exemption with its legal reference.
	Purpose string
	// Contrassegno is the validated identifier of the contrassegno
	// telematico that pays the bollo; empty when it is paid virtually or
	// the certificate is exempt.
	Contrassegno string
}

// Error is a refusal of the fee request: a machine reason and one sentence.
type Error struct {
	Reason  string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Reason codes of Error.
const (
	ReasonUnknownExemption   = "unknown_exemption"
	ReasonExemptionTextEmpty = "exemption_reason_missing"
	ReasonExemptionTextLong  = "exemption_reason_too_long"
	// ReasonExemptionTextInvalid: the reason is printed on the certificate
	// as one line, so control and formatting characters (a NUL, a line
	// break, a right-to-left override) are refused.
	ReasonExemptionTextInvalid = "exemption_reason_invalid"
	ReasonExemptionTextStray   = "exemption_text_without_code"
	ReasonServiceFeeAboveCap   = "service_fee_above_cap"
	ReasonNegativeFee          = "negative_fee"
	// ReasonDirittiExemptNot99: the diritti exemption flag came with a
	// code other than 99 (see Exemption.DirittiExempt).
	ReasonDirittiExemptNot99 = "diritti_exemption_not_99"
	// ReasonContrassegnoInvalid: the contrassegno's identifier is not the
	// 14 digits printed on the marca.
	ReasonContrassegnoInvalid = "contrassegno_invalid"
	// ReasonContrassegnoExempt: a contrassegno was given for a
	// certificate exempt from bollo, which takes none.
	ReasonContrassegnoExempt = "contrassegno_on_exempt"
)

// ContrassegnoDigits is the length of a contrassegno telematico's
// identifier, the number printed on the marca under its barcode (the
// "identificativo" of 14 digits, Provvedimento Agenzia delle Entrate
// 26.4.2005 on the contrassegno sostitutivo delle marche da bollo).
const ContrassegnoDigits = 14

// ValidContrassegno checks a contrassegno identifier as typed or scanned:
// exactly ContrassegnoDigits ASCII digits once surrounding space is
// trimmed. It returns the identifier as printed.
func ValidContrassegno(id string) (string, error) {
	id = strings.TrimSpace(id)
	ok := len(id) == ContrassegnoDigits
	for i := 0; ok && i < len(id); i++ {
		ok = id[i] >= '0' && id[i] <= '9'
	}
	if !ok {
		return "", &Error{ReasonContrassegnoInvalid, fmt.Sprintf("the contrassegno telematico's identifier must be the %d digits printed on the marca da bollo.", ContrassegnoDigits)}
	}
	return id, nil
}

// Compute applies the rules. It never charges a refused request: any
// inconsistency is an *Error and no Breakdown.
func Compute(r Request) (Breakdown, error) {
	capCents := r.ServiceCapCents
	if capCents == 0 {
		capCents = DefaultServiceCapCents
	}
	switch {
	case r.ServiceCents < 0 || capCents < 0:
		return Breakdown{}, &Error{ReasonNegativeFee, fmt.Sprintf("the service fee (%s) and the city's cap (%s) cannot be negative.", Euro(r.ServiceCents), Euro(capCents))}
	case r.ServiceCents > capCents:
		return Breakdown{}, &Error{ReasonServiceFeeAboveCap, fmt.Sprintf("the operator's service fee of %s is above the city's cap of %s, so the agreement must be corrected before certificates are issued.", Euro(r.ServiceCents), Euro(capCents))}
	}

	ex := Exemption{Code: r.Exemption.Code, Text: strings.TrimSpace(r.Exemption.Text)}
	var reason Reason
	if ex.Code != 0 {
		var ok bool
		if reason, ok = LookupReason(ex.Code); !ok {
			return Breakdown{}, &Error{ReasonUnknownExemption, fmt.Sprintf("exemption code %d is not in ANPR's table of bollo exemptions (1 to 10, or 99 with a reason).", ex.Code)}
		}
	}
	switch {
	case ex.Code == OtherReason && ex.Text == "":
		return Breakdown{}, &Error{ReasonExemptionTextEmpty, "exemption code 99 (altro motivo) needs the reason for the exemption in words."}
	case ex.Code == OtherReason && utf8.RuneCountInString(ex.Text) > MaxExemptionText:
		return Breakdown{}, &Error{ReasonExemptionTextLong, fmt.Sprintf("the exemption reason has %d characters; ANPR accepts at most %d.", utf8.RuneCountInString(ex.Text), MaxExemptionText)}
	case strings.IndexFunc(ex.Text, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError }) >= 0:
		return Breakdown{}, &Error{ReasonExemptionTextInvalid, "the exemption reason must be one line of printable text: it is printed on the certificate as given."}
	case ex.Code != OtherReason && ex.Text != "":
		// Silently dropping the text would print a certificate that does
		// not say what the requester declared.
		return Breakdown{}, &Error{ReasonExemptionTextStray, fmt.Sprintf("an exemption reason in words is only accepted with code 99, not with code %d.", ex.Code)}
	case r.Exemption.DirittiExempt && ex.Code != OtherReason:
		return Breakdown{}, &Error{ReasonDirittiExemptNot99, fmt.Sprintf("a separate exemption from diritti di segreteria is only accepted with code 99 and the law that grants it, not with code %d.", ex.Code)}
	}
	ex.DirittiExempt = r.Exemption.DirittiExempt
	contrassegno := ""
	if strings.TrimSpace(r.Contrassegno) != "" {
		var err error
		if contrassegno, err = ValidContrassegno(r.Contrassegno); err != nil {
			return Breakdown{}, err
		}
		if ex.Code != 0 || r.ExemptByLaw {
			return Breakdown{}, &Error{ReasonContrassegnoExempt, "this certificate is exempt from bollo, so no contrassegno telematico is applied to it."}
		}
	}

	var b Breakdown
	b.Exemption = ex
	b.Contrassegno = contrassegno
	declared := ex.Code != 0
	exempt := declared || r.ExemptByLaw

	bollo := Line{Kind: Bollo, Label: "Imposta di bollo", Cents: BolloCents,
		Note: "art. 4, tariffa allegato A, parte I, DPR 642/1972"}
	switch {
	case r.ExemptByLaw:
		bollo.Cents, bollo.Note = 0, LawExemptionNote
	case declared:
		bollo.Cents, bollo.Note = 0, exemptionNote(reason, ex)
	case contrassegno != "":
		bollo.Note, bollo.Contrassegno = "assolta mediante contrassegno telematico n. "+contrassegno, contrassegno
	}
	b.Lines = append(b.Lines, bollo)

	rates := DefaultRates
	if r.Diritti != nil {
		rates = *r.Diritti
	}
	diritti := Line{Kind: Diritti, Label: "Diritti di segreteria", Cents: rates.InBolloCents, Note: "L. 604/1962, tabella D"}
	switch {
	case r.ExemptByLaw:
		// The city that applies the stato civile exemption waives the
		// diritti with the bollo: the acts of stato civile carry none.
		diritti.Cents, diritti.Note = 0, LawExemptionNote
	case declared && reason.WaivesDiritti:
		diritti.Cents, diritti.Note = 0, exemptionNote(reason, ex)
	case ex.DirittiExempt:
		diritti.Cents, diritti.Note = 0, exemptionNote(reason, ex)
	case exempt:
		diritti.Cents, diritti.Note = rates.ExemptCents, "L. 604/1962, tabella D (certificato esente da bollo)"
	}
	b.Lines = append(b.Lines, diritti)

	if r.ServiceCents > 0 {
		b.Lines = append(b.Lines, Line{Kind: Service, Label: "Servizio dell'esercente", Cents: r.ServiceCents,
			Note: "corrispettivo previsto dalla convenzione con il Comune"})
	}
	for _, l := range b.Lines {
		b.TotalCents += l.Cents
	}

	switch {
	case r.ExemptByLaw:
		b.Purpose = "Esente dall'imposta di bollo ai sensi dell'art. 7, comma 5, L. 405/1990."
	case ex.Code == OtherReason && ex.DirittiExempt:
		b.Purpose = "Rilasciato in esenzione dall'imposta di bollo e dai diritti di segreteria per altro motivo di esenzione: " + ex.Text + "."
	case ex.Code == OtherReason:
		b.Purpose = "Rilasciato in esenzione dall'imposta di bollo per altro motivo di esenzione: " + ex.Text + "."
	case declared:
		// Some of table 39's labels already start with "uso" ("uso
		// processuale"): printing "per uso uso processuale" reads as a typo.
		use := reason.Label
		if !strings.HasPrefix(use, "uso ") {
			use = "uso " + use
		}
		b.Purpose = fmt.Sprintf("Rilasciato in esenzione dall'imposta di bollo per %s, ai sensi %s.", use, legalOf(reason.Legal))
	default:
		// The certificate states how its bollo was paid (art. 15 DPR
		// 642/1972; ANPR's bolloVirtuale: 1 virtually, 2 by contrassegno).
		b.Purpose = "Rilasciato in bollo per gli usi consentiti dalla legge."
		if contrassegno != "" {
			b.Purpose += " " + ContrassegnoSentence(contrassegno)
		} else if a := strings.TrimSpace(r.BolloAuthorisation); a != "" {
			b.Purpose += " " + VirtualBolloSentence(a)
		}
	}
	return b, nil
}

// ContrassegnoSentence is the payment mode printed on a certificate whose
// bollo is paid by the contrassegno telematico id (ANPR's bolloVirtuale 2,
// "bollo assolto tramite contrassegno").
func ContrassegnoSentence(id string) string {
	return "Imposta di bollo assolta mediante contrassegno telematico n. " + id + "."
}

// VirtualBolloSentence is the wording art. 15 DPR 642/1972 asks of a
// certificate whose bollo is paid virtually, naming the authorisation.
func VirtualBolloSentence(authorisation string) string {
	return "Imposta di bollo assolta in modo virtuale – autorizzazione Agenzia delle Entrate " + authorisation + "."
}

func exemptionNote(r Reason, ex Exemption) string {
	if r.Code == OtherReason {
		return "esente: " + ex.Text
	}
	return "esente ai sensi " + legalOf(r.Legal)
}

// legalOf joins "ai sensi" to a legal reference with the articulated
// preposition Italian requires: "dell'art. 16", "della L. 74/1987", "del
// DPR 642/1972".
func legalOf(ref string) string {
	switch {
	case strings.HasPrefix(ref, "art."):
		return "dell'" + ref
	case strings.HasPrefix(ref, "L.") || strings.HasPrefix(ref, "legge"):
		return "della " + ref
	case strings.HasPrefix(ref, "DPR") || strings.HasPrefix(ref, "D.") || strings.HasPrefix(ref, "DL"):
		return "del " + ref
	}
	return "di " + ref
}

// Euro formats cents as "16,00 EUR", the Italian way, with the currency's
// code rather than its sign, which terminals and logs always show.
func Euro(cents int64) string { return Amount(cents, ',', 0) + " EUR" }

// Amount writes cents as units and two decimals after the mark decimal,
// grouping the units by three with thousands unless it is 0: with ',' and
// '.', 123456 is "1.234,56". The screen, certificate and CSV formats are
// all cases of it, so they cannot disagree on signs or digits.
func Amount(cents int64, decimal, thousands byte) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	units := strconv.FormatInt(cents/100, 10)
	b := make([]byte, 0, len(units)+len(units)/3+4)
	if neg {
		b = append(b, '-')
	}
	for i := range len(units) {
		if thousands != 0 && i > 0 && (len(units)-i)%3 == 0 {
			b = append(b, thousands)
		}
		b = append(b, units[i])
	}
	frac := cents % 100
	return string(append(b, decimal, byte('0'+frac/10), byte('0'+frac%10)))
}

// Shares is how collected fees divide between whom they are owed to: the
// imposta di bollo to the State, the diritti di segreteria to the city,
// the service fee to the operator who kept it.
//
// Contrassegno is the bollo paid with a contrassegno telematico the shop
// sold and applied: the State was paid when the marca was printed (the
// shop's own account with the marca's dealer, not the city's virtual
// bollo authorisation), so it is owed to nobody in the city's
// settlement; what the citizen paid for the marca settles the shop's
// purchase of it.
type Shares struct {
	State, City, Operator, Contrassegno int64
}

// Add counts one fee line. A negative amount or an unknown kind is an error
// and leaves the shares unchanged: money nobody can account for.
func (s *Shares) Add(l Line) error {
	if l.Cents < 0 {
		return fmt.Errorf("a negative %s fee of %d cents", l.Kind, l.Cents)
	}
	switch l.Kind {
	case Bollo:
		if l.Contrassegno != "" {
			s.Contrassegno += l.Cents
			break
		}
		s.State += l.Cents
	case Diritti:
		s.City += l.Cents
	case Service:
		s.Operator += l.Cents
	default:
		return fmt.Errorf("a fee line of unknown kind %q", l.Kind)
	}
	return nil
}
