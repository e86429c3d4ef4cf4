package certificate

import (
	"strings"
	"unicode"
)

// Reason codes of a revocation refused before anything is written.
const (
	ReasonRevocationNoReason     = "revocation_no_reason"
	ReasonRevocationNoAuthoriser = "revocation_no_authoriser"
	ReasonRevocationBadText      = "revocation_bad_text"
)

// CheckRevocation refuses a revocation that does not say why or who
// authorised it. Revoking an issued certificate annuls an administrative
// act, which only the competent office may do (annullamento d'ufficio, art.
// 21-nonies L. 241/1990), and the register keeps, with an annulment, the
// operator and the details of the act that authorised it (art. 54 c. 2 DPR
// 445/2000): so the staff member who authorised the revocation is recorded
// with it, and the reason is shown on the verification page. Both must be
// one line without control or formatting characters, which could make a
// record pass for another in a listing.
func CheckRevocation(reason, authorisedBy string) error {
	reason, authorisedBy = strings.TrimSpace(reason), strings.TrimSpace(authorisedBy)
	switch {
	case reason == "":
		return refuse(ReasonRevocationNoReason, "a revocation needs a reason, which the verification page shows.")
	case authorisedBy == "":
		return refuse(ReasonRevocationNoAuthoriser, "a revocation needs the staff member who authorised it, which the record keeps (art. 54 DPR 445/2000).")
	case strings.ContainsFunc(reason+authorisedBy, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }):
		return refuse(ReasonRevocationBadText, "the reason and the authoriser of a revocation must each be one line, without control or formatting characters.")
	}
	return nil
}
