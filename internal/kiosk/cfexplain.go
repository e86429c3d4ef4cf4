package kiosk

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sportello/sportello/internal/codicefiscale"
)

// cfProblem is the refusal of a mistyped codice fiscale, explained as `hub
// cf check` and the console explain it: codicefiscale.Validate names the
// first wrong character and the rule it breaks (DM 23.12.1976), and the
// screen says which character, what it should be and the part of the code
// it belongs to — "il 12° carattere «X» dovrebbe essere una lettera (luogo
// di nascita)" — so the clerk knows what to ask the citizen to read again.
func cfProblem(cf string, err error) *Problem {
	detail := fmt.Sprintf("%q is not a valid codice fiscale: %v", cf, err)
	return problem("cf_invalid", detail, err, cf, cfRule(cf, err))
}

// cfRule is the sentence of the rule err says code breaks.
func cfRule(code string, err error) Phrase {
	var ce *codicefiscale.Error
	if !errors.As(err, &ce) {
		return Phrase{Key: "cf_rule_other"}
	}
	c := strings.ToUpper(strings.TrimSpace(code))
	at := func(p int) string {
		if p >= 1 && p <= len(c) {
			return c[p-1 : p]
		}
		return ""
	}
	switch ce.Rule {
	case codicefiscale.RuleLength:
		return Phrase{Key: "cf_rule_length", Args: []any{len([]rune(c))}}
	case codicefiscale.RuleAlphabet:
		return Phrase{Key: "cf_rule_alphabet", Args: []any{ce.Pos, at(ce.Pos)}}
	case codicefiscale.RuleLetter:
		return Phrase{Key: "cf_rule_letter", Args: []any{ce.Pos, at(ce.Pos), Phrase{Key: cfPart(ce.Pos)}}}
	case codicefiscale.RuleDigit:
		return Phrase{Key: "cf_rule_digit", Args: []any{ce.Pos, at(ce.Pos), Phrase{Key: cfPart(ce.Pos)}}}
	case codicefiscale.RuleMonth:
		return Phrase{Key: "cf_rule_month", Args: []any{at(9)}}
	case codicefiscale.RuleDay:
		return Phrase{Key: "cf_rule_day", Args: []any{c[9:11]}}
	case codicefiscale.RuleDate:
		return Phrase{Key: "cf_rule_date", Args: []any{c[9:11], at(9)}}
	case codicefiscale.RuleLeap:
		return Phrase{Key: "cf_rule_leap", Args: []any{c[6:8]}}
	case codicefiscale.RuleCheck:
		return Phrase{Key: "cf_rule_check", Args: []any{at(16), string(ce.Want)}}
	}
	return Phrase{Key: "cf_rule_other"}
}

// cfPart is the catalogue key of the part of the code position pos
// (1-based) belongs to (codicefiscale.PartOf).
func cfPart(pos int) string { return "cf_part_" + codicefiscale.PartOf(pos) }
