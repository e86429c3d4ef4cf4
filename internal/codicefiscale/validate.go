package codicefiscale

import (
	"fmt"
	"strings"
	"time"
)

// fields are the parts of a well-formed code, omocodia undone.
type fields struct {
	code, base string
	yy         int // two-digit year
	month      time.Month
	day        int // day of the month, 1–31
	female     bool
	place      string // Belfiore code
}

// letterReasons say what each letter-only position holds, so the error tells
// a person which part of the code they mistyped.
var letterReasons = [16]string{
	0:  "must be a letter: characters 1–3 come from the surname",
	1:  "must be a letter: characters 1–3 come from the surname",
	2:  "must be a letter: characters 1–3 come from the surname",
	3:  "must be a letter: characters 4–6 come from the name",
	4:  "must be a letter: characters 4–6 come from the name",
	5:  "must be a letter: characters 4–6 come from the name",
	8:  "must be a letter: character 9 is the month of birth",
	11: "must be a letter: characters 12–15 are the Belfiore code of the birthplace",
	15: "must be a letter: character 16 is the check character",
}

var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// parse checks a code left to right and splits it. Errors are *Error.
func parse(code string) (fields, error) {
	c, err := normalize(code)
	if err != nil {
		return fields{}, err
	}
	for i := 0; i < 16; i++ {
		ch := c[i]
		if reason := letterReasons[i]; reason != "" {
			if ch < 'A' || ch > 'Z' {
				return fields{}, &Error{Code: c, Pos: i + 1, Reason: reason, Rule: RuleLetter}
			}
			continue
		}
		// Every other position holds a digit, or the letter omocodia puts in its place.
		if ch >= '0' && ch <= '9' {
			continue
		}
		if _, ok := omocodeDigit(ch); !ok {
			return fields{}, &Error{Code: c, Pos: i + 1, Reason: "must be a digit or one of the omocodia letters L M N P Q R S T U V", Rule: RuleDigit}
		}
	}
	base := baseForm(c)
	f := fields{code: c, base: base, place: base[11:15]}
	f.yy = int(base[6]-'0')*10 + int(base[7]-'0')
	m := strings.IndexByte(monthLetters, base[8])
	if m < 0 {
		return fields{}, &Error{Code: c, Pos: 9, Reason: "is not a month letter (A B C D E H L M P R S T for January to December)", Rule: RuleMonth}
	}
	f.month = time.Month(m + 1)
	d := int(base[9]-'0')*10 + int(base[10]-'0')
	switch {
	case d >= 1 && d <= 31:
		f.day = d
	case d >= 41 && d <= 71:
		f.day, f.female = d-40, true
	default:
		return fields{}, &Error{Code: c, Pos: 10, Reason: fmt.Sprintf("begins the day of birth %02d, which is neither 01–31 (men) nor 41–71 (women)", d), Rule: RuleDay}
	}
	if f.day > daysIn[f.month] {
		return fields{}, &Error{Code: c, Pos: 10, Reason: fmt.Sprintf("begins the day of birth %02d, and %d %s is an impossible date", d, f.day, f.month), Rule: RuleDate}
	}
	// 29 February exists in 20YY whenever YY is a multiple of 4 (2000 is a
	// leap year), so the code is possible; Decode picks a fitting century.
	if f.month == time.February && f.day == 29 && f.yy%4 != 0 {
		return fields{}, &Error{Code: c, Pos: 10, Reason: fmt.Sprintf("begins the day of birth %02d, and 29 February is an impossible date in a year ending in %02d, which is never a leap year", d, f.yy), Rule: RuleLeap}
	}
	if want := CheckChar(c[:15]); c[15] != want {
		return fields{}, &Error{Code: c, Pos: 16, Reason: fmt.Sprintf("is not the check character: for the first 15 characters it should be '%c', so one of them is probably mistyped", want), Rule: RuleCheck, Want: want}
	}
	return f, nil
}

// Validate checks a code a person typed: shape, alphabet, month, day, that
// the date exists, and the check character. Lower case and surrounding
// spaces are accepted. Any combination of omocodia substitutions is valid.
// The error is an *Error naming the first wrong character.
func Validate(code string) error {
	_, err := parse(code)
	return err
}

// Omocode returns the variant of code whose n rightmost digit positions are
// replaced by letters, the order in which the Agenzia delle Entrate assigns
// them to the 2nd, 3rd… person with the same base code. n = 0 gives the base
// code. code may itself be any variant.
func Omocode(code string, n int) (string, error) {
	if n < 0 || n > len(digitPositions) {
		return "", fmt.Errorf("omocodia level %d is out of range: a code has %d digit positions to substitute", n, len(digitPositions))
	}
	f, err := parse(code)
	if err != nil {
		return "", err
	}
	return variant(f.base, uint8(1<<n-1)), nil
}

// Omocodes returns all 128 variants of code's base form, the base first, in
// order of the substitution mask (bit k set: the k-th digit position from the
// right is a letter).
func Omocodes(code string) ([]string, error) {
	f, err := parse(code)
	if err != nil {
		return nil, err
	}
	out := make([]string, 1<<len(digitPositions))
	for mask := range out {
		out[mask] = variant(f.base, uint8(mask))
	}
	return out, nil
}
