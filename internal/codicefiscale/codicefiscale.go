// Package codicefiscale encodes, validates and decodes the Italian codice
// fiscale of natural persons (DM 23.12.1976), including omocodia.
package codicefiscale

import (
	"fmt"
	"strings"
)

// Error says which character of a code is wrong and why.
type Error struct {
	Code   string // the code as given
	Pos    int    // 1-based position of the wrong character; 0 when the whole code is wrong
	Reason string
	// Rule names the rule broken, one of the Rule constants, so a page can
	// say it in the reader's language.
	Rule string
	// Want is the check character the first 15 characters call for, when
	// Rule is RuleCheck.
	Want byte
}

// Rules a code can break.
const (
	RuleLength   = "length"   // not 16 characters
	RuleAlphabet = "alphabet" // a character that is neither letter nor digit
	RuleLetter   = "letter"   // a digit where the code holds letters
	RuleDigit    = "digit"    // a letter that is not an omocodia letter where the code holds digits
	RuleMonth    = "month"    // not a month letter
	RuleDay      = "day"      // a day neither 01–31 nor 41–71
	RuleDate     = "date"     // a day the month does not have
	RuleLeap     = "leap"     // 29 February in a year that is never a leap year
	RuleCheck    = "check"    // the check character does not match
)

func (e *Error) Error() string {
	if e.Pos == 0 {
		return fmt.Sprintf("codice fiscale %q is not valid: %s", e.Code, e.Reason)
	}
	return fmt.Sprintf("codice fiscale %q is not valid: character %d %q %s", e.Code, e.Pos, e.Code[e.Pos-1], e.Reason)
}

// normalize upper-cases and trims a code and checks its length and alphabet.
func normalize(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if len(c) != 16 {
		return "", &Error{Code: code, Reason: fmt.Sprintf("it has %d characters, a codice fiscale has 16", len(c)), Rule: RuleLength}
	}
	for i := 0; i < 16; i++ {
		ch := c[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
			return "", &Error{Code: c, Pos: i + 1, Reason: "is not a letter or a digit", Rule: RuleAlphabet}
		}
	}
	return c, nil
}
