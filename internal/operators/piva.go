package operators

import (
	"fmt"
	"strings"
)

// ValidatePartitaIVA checks an Italian VAT number: eleven digits whose last
// is the check digit of the Luhn-style scheme of DM 23.12.1976 (digits in
// odd positions added, digits in even positions doubled with 9 taken off
// when over 9). It returns the number without spaces and the "IT" prefix.
//
// The office code (digits 8–10) is not checked against the list of
// provincial offices: that list has changed over the years and a wrong
// office code already fails the check digit in most typing errors.
func ValidatePartitaIVA(s string) (string, error) {
	p := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	p = strings.TrimPrefix(p, "IT")
	if len(p) != 11 {
		return "", fmt.Errorf("partita IVA %q must have 11 digits, it has %d characters", s, len(p))
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return "", fmt.Errorf("partita IVA %q must be digits only, character %d is %q", s, i+1, p[i])
		}
	}
	if p[:7] == "0000000" {
		return "", fmt.Errorf("partita IVA %q has an all-zero company number", s)
	}
	if want := PartitaIVACheckDigit(p[:10]); p[10] != want {
		return "", fmt.Errorf("partita IVA %q has check digit %c, but the first ten digits give %c", s, p[10], want)
	}
	return p, nil
}

// PartitaIVACheckDigit is the check digit for the first ten digits of a
// partita IVA. It panics if first10 is not ten ASCII digits.
func PartitaIVACheckDigit(first10 string) byte {
	if len(first10) != 10 {
		panic("operators: PartitaIVACheckDigit needs ten digits")
	}
	sum := 0
	for i := 0; i < 10; i++ {
		d := int(first10[i] - '0')
		if d < 0 || d > 9 {
			panic("operators: PartitaIVACheckDigit needs ten digits")
		}
		if i%2 == 1 { // positions 2, 4, … counting from one
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}
