package admin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sportello/sportello/internal/codicefiscale"
)

// A mistyped codice fiscale, explained the way `hub cf check` does
// (codicefiscale.Validate names the first wrong character and the rule
// it breaks), and shown character by character with the part of the code
// each one comes from (DM 23.12.1976): the clerk sees which character to
// ask the citizen about.

type cfExplanation struct {
	Code    string
	Message string
	Chars   []cfChar
}

type cfChar struct {
	Pos   int
	Char  string
	Part  string // the message key of the part of the code
	Wrong bool
}

// cfPart is the message key of the part of the code position pos
// (1-based) belongs to (codicefiscale.PartOf).
func cfPart(pos int) string { return "cf.part." + codicefiscale.PartOf(pos) }

// explainCF returns nil when code is a valid codice fiscale, else its
// explanation in lang.
func explainCF(code, lang string) *cfExplanation {
	err := codicefiscale.Validate(code)
	if err == nil {
		return nil
	}
	var ce *codicefiscale.Error
	if !errors.As(err, &ce) {
		return &cfExplanation{Code: code, Message: err.Error()}
	}
	c := strings.ToUpper(strings.TrimSpace(code))
	ex := &cfExplanation{Code: c}
	wrong := map[int]bool{ce.Pos: true}
	if ce.Rule == codicefiscale.RuleDay || ce.Rule == codicefiscale.RuleDate || ce.Rule == codicefiscale.RuleLeap {
		wrong[11] = true // the day is two characters
	}
	for i, r := range []rune(c) {
		ex.Chars = append(ex.Chars, cfChar{Pos: i + 1, Char: string(r), Part: cfPart(i + 1), Wrong: wrong[i+1]})
	}
	at := func(p int) string {
		if p >= 1 && p <= len(c) {
			return c[p-1 : p]
		}
		return ""
	}
	switch ce.Rule {
	case codicefiscale.RuleLength:
		ex.Message = trf(lang, "cf.rule.length", len([]rune(c)))
	case codicefiscale.RuleAlphabet:
		ex.Message = trf(lang, "cf.rule.alphabet", ce.Pos, at(ce.Pos))
	case codicefiscale.RuleLetter:
		ex.Message = trf(lang, "cf.rule.letter", ce.Pos, at(ce.Pos), tr(lang, cfPart(ce.Pos)))
	case codicefiscale.RuleDigit:
		ex.Message = trf(lang, "cf.rule.digit", ce.Pos, at(ce.Pos), tr(lang, cfPart(ce.Pos)))
	case codicefiscale.RuleMonth:
		ex.Message = trf(lang, "cf.rule.month", at(9))
	case codicefiscale.RuleDay:
		ex.Message = trf(lang, "cf.rule.day", c[9:11])
	case codicefiscale.RuleDate:
		ex.Message = trf(lang, "cf.rule.date", c[9:11], at(9))
	case codicefiscale.RuleLeap:
		ex.Message = trf(lang, "cf.rule.leap", c[6:8])
	case codicefiscale.RuleCheck:
		ex.Message = trf(lang, "cf.rule.check", at(16), string(ce.Want))
	default:
		ex.Message = fmt.Sprint(err)
	}
	return ex
}
