package codicefiscale

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/sportello/sportello/internal/places"
)

// Subject is the data a codice fiscale is computed from.
type Subject struct {
	Surname, Name string
	Sex           byte // 'M' or 'F'
	Birth         time.Time
	Place         string // Belfiore code of the birthplace: comune, or Z### abroad
}

// monthLetters[m-1] is the letter of month m (DM 23.12.1976).
const monthLetters = "ABCDEHLMPRST"

// Encode computes the base code (without omocodia, which only the Agenzia
// delle Entrate can assign) of s.
func Encode(s Subject) (string, error) {
	surname, err := letters("surname", s.Surname)
	if err != nil {
		return "", err
	}
	name, err := letters("name", s.Name)
	if err != nil {
		return "", err
	}
	var sex byte
	switch s.Sex {
	case 'M', 'm':
		sex = 'M'
	case 'F', 'f':
		sex = 'F'
	default:
		return "", fmt.Errorf("sex %q is neither M nor F", s.Sex)
	}
	if s.Birth.IsZero() {
		return "", errors.New("the birth date is missing")
	}
	y, m, d := s.Birth.Date()
	if y < 0 {
		return "", fmt.Errorf("birth year %d is before the common era", y)
	}
	place := strings.ToUpper(strings.TrimSpace(s.Place))
	if !places.IsCode(place) {
		return "", fmt.Errorf("birthplace %q is not a Belfiore code (a letter and three digits, such as F205 or Z100)", s.Place)
	}
	if sex == 'F' {
		d += 40
	}
	b := make([]byte, 0, 16)
	b = append(b, surnamePart(surname)...)
	b = append(b, namePart(name)...)
	b = append(b, byte('0'+y%100/10), byte('0'+y%10), monthLetters[m-1], byte('0'+d/10), byte('0'+d%10))
	b = append(b, place...)
	b = append(b, CheckChar(string(b)))
	return string(b), nil
}

func isVowel(c byte) bool { return c == 'A' || c == 'E' || c == 'I' || c == 'O' || c == 'U' }

func split(s string) (consonants, vowels []byte) {
	for i := 0; i < len(s); i++ {
		if isVowel(s[i]) {
			vowels = append(vowels, s[i])
		} else {
			consonants = append(consonants, s[i])
		}
	}
	return consonants, vowels
}

// surnamePart: consonants, then vowels, then X, first three.
func surnamePart(s string) []byte {
	c, v := split(s)
	return append(append(c, v...), 'X', 'X', 'X')[:3]
}

// namePart differs from the surname only when the name has four or more
// consonants: then the second is skipped (Fabrizio → FRZ, not FBR).
func namePart(s string) []byte {
	c, _ := split(s)
	if len(c) >= 4 {
		return []byte{c[0], c[2], c[3]}
	}
	return surnamePart(s)
}

// Letters that Unicode does not decompose into a base letter and marks, with
// the transliteration Italian registry offices use.
var extraLetters = map[rune]string{
	'ß': "SS", 'ẞ': "SS", 'Æ': "AE", 'æ': "AE", 'Œ': "OE", 'œ': "OE", 'Ø': "O", 'ø': "O",
	'Ł': "L", 'ł': "L", 'Đ': "D", 'đ': "D", 'Ð': "D", 'ð': "D", 'Þ': "TH", 'þ': "TH", 'ı': "I",
}

// ignored are the separators found inside names: D'Amico, De Luca, Rossi-Bianchi.
const ignored = " '’‘`´-."

// letters reduces a surname or name to the letters A–Z, dropping accents
// (Nicolò → NICOLO, Müller → MULLER) and separators.
func letters(field, s string) (string, error) {
	decomposed := s
	if !isASCII(s) { // the transformer costs kilobytes of buffers: skip it when it has nothing to do
		var err error
		decomposed, _, err = transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn))), s)
		if err != nil {
			return "", fmt.Errorf("the %s %q is not valid text", field, s)
		}
	}
	var b strings.Builder
	for _, r := range decomposed {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteByte(byte(r - 'a' + 'A'))
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case extraLetters[r] != "":
			b.WriteString(extraLetters[r])
		case strings.ContainsRune(ignored, r) || unicode.IsSpace(r):
		default:
			return "", fmt.Errorf("the %s %q contains %q, which has no Latin transliteration: write the name as on the Italian identity document", field, s, r)
		}
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("the %s is empty: it needs at least one letter", field)
	}
	return b.String(), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
