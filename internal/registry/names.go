package registry

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NameKey is the form persons are searched by name in: surname, a space,
// given names; upper case, accents dropped (NICOLÒ and NICOLO alike, as a
// clerk types them on a keyboard without them), apostrophes and other
// marks dropped (D'ANGELO and DANGELO alike), runs of spaces and hyphens
// made one space. A query in the same form matches by prefix: "rossi m"
// finds ROSSI MARIO and ROSSI MARTA.
func NameKey(surname, givenNames string) string {
	return nameForm(surname + " " + givenNames)
}

// NameQuery is a typed query in NameKey's form; empty when it holds no
// letter or digit.
func NameQuery(q string) string { return nameForm(q) }

func nameForm(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// the accent of a decomposed letter
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsSpace(r) || r == '-':
			space = true
		}
	}
	return b.String()
}
