package kiosk

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
)

// Serving a new customer while the hub cannot be reached (issue 15 item 5).
//
// A customer the hub has never answered about cannot be looked up, but the
// kiosk can still check the evidence itself, the way a payment terminal
// takes a card offline: a CIE tap whose chip answered the challenge and
// whose data the issuer signed (CardReader.ReadCard returns evidence only
// then), or a codice fiscale whose check character holds with the number
// of a document in one of the formats the Poligrafico prints. Such a
// customer is a provisional Person: no name, no family, certificates for
// themselves only, of the few types every living resident can have
// (OfflineTypes). The request waits in the outbox with its evidence, under
// the offline limits, and the hub checks that evidence again in the
// transaction that issues, as for every queued request; a refusal is set
// aside for the operator and the money given back (Summary.RefusedCents).

// offlineTypes are the certificates a kiosk takes for a person it
// identified itself: those the registry grants to every living resident
// (certificate.checkType has no condition on them beyond residence in
// Italy), so a request queued without the hub is refused only when the
// identity is not confirmed. Left out: AIRE types (abroad only), marriage,
// union, cohabitation and stato libero (a civil status the kiosk cannot
// know), the family certificates with relationships (not for a family of
// one), cittadinanza (not for a foreign resident) and the historical ones
// (a date the registry must check).
var offlineTypes = []certificate.Type{
	certificate.Residenza, certificate.StatoDiFamiglia, certificate.StatoCivile,
	certificate.EsistenzaInVita, certificate.Nascita,
}

// OfflineTypes are those of offered (the agreement's) a provisional
// person may ask for, in offered's order.
func OfflineTypes(offered []certificate.Type) []certificate.Type {
	var out []certificate.Type
	for _, t := range offered {
		if slices.Contains(offlineTypes, t) {
			out = append(out, t)
		}
	}
	return out
}

// Identity document numbers as printed, letters upper case, no spaces:
// the CIE's ("CA12345AB": two letters, five digits, two letters), the
// paper identity card's and the passport's ("AA1234567": two letters,
// seven digits) and the driving licence's (ten letters and digits ending
// in a letter, as the older "MI1234567A" and the newer "U1…" ones). Online
// the hub checks the number against the registry; offline only its shape
// can be checked, so a typo is caught before the citizen leaves.
var documentFormats = []*regexp.Regexp{
	regexp.MustCompile(`^[A-Z]{2}[0-9]{5}[A-Z]{2}$`),
	regexp.MustCompile(`^[A-Z]{2}[0-9]{7}$`),
	regexp.MustCompile(`^[A-Z0-9]{9}[A-Z]$`),
}

// CheckDocumentNumber tells whether s (upper case, trimmed) has the shape
// of an Italian identity document's number.
func CheckDocumentNumber(s string) error {
	for _, re := range documentFormats {
		if re.MatchString(s) {
			return nil
		}
	}
	return fmt.Errorf("%q is not the number of a CIE (CA12345AB), identity card or passport (AA1234567) or driving licence", s)
}

// provisional is the person a checked piece of evidence stands for while
// the hub cannot be reached, or a problem saying why this visit cannot
// be served offline.
func (f *Flow) provisional(ev *api.RequesterEvidence) (*Person, *Problem) {
	switch ev.Method {
	case api.EvidenceDocument:
		if err := CheckDocumentNumber(ev.Document); err != nil {
			return nil, problem("offline_document_format", err.Error(), err, ev.Document)
		}
	case api.EvidenceCIE:
		// ReadCard returned it, so the chip and the issuer's signature
		// were verified here; the hub verifies them again.
		if ev.NIS == "" {
			return nil, problem("card_unreadable", "the card gave no NIS", nil)
		}
	default:
		return nil, problem("hub_offline", "the hub cannot be reached; try again in a moment", nil)
	}
	if len(OfflineTypes(f.cfg.Types)) == 0 {
		return nil, problem("offline_no_types", "the hub cannot be reached and this kiosk offers no certificate that can be requested without it", nil)
	}
	return &Person{CF: ev.CF, NIS: ev.NIS, Provisional: ev.Method}, nil
}

// ProvisionalLabel is how screens and the review name a provisional
// person: the codice fiscale typed, or the card's NIS with its first
// digits hidden (the NIS is not printed on the card; its tail is enough
// for the operator to tell two taps apart).
func (p Person) ProvisionalLabel() string {
	if p.CF != "" {
		return p.CF
	}
	n := p.NIS
	if len(n) > 4 {
		n = "…" + n[len(n)-4:]
	}
	return "CIE " + n
}
