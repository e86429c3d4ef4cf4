package codicefiscale

// Omocodia (DM 23.12.1976; DM 12.3.1974 art. 2): when two persons would get the
// same code, the Agenzia delle Entrate replaces digits with letters, starting
// from the rightmost digit position, until the code is unique.
// Any combination of substitutions denotes the same birth data.

// digitPositions are the 0-based indexes of the characters that hold digits in
// the base form, right to left: the order in which omocodia substitutes them.
var digitPositions = [7]int{14, 13, 12, 10, 9, 7, 6}

// omocodeLetters[d] replaces digit d.
const omocodeLetters = "LMNPQRSTUV"

// omocodeDigit returns the digit a substitution letter stands for.
func omocodeDigit(c byte) (byte, bool) {
	for i := 0; i < len(omocodeLetters); i++ {
		if omocodeLetters[i] == c {
			return '0' + byte(i), true
		}
	}
	return 0, false
}

// oddValues are the values of characters in odd (1st, 3rd, ...) positions
// for the check character, indexed by digit or letter.
var oddValues = [26]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// CheckChar computes the 16th character from the first 15. It panics if
// first15 is shorter than 15 bytes; callers validate the shape first.
func CheckChar(first15 string) byte {
	sum := 0
	for i := 0; i < 15; i++ {
		c := first15[i]
		var v int // index 0..25 into the tables
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c - 'A')
		}
		if i%2 == 0 { // 1st, 3rd, ... character: odd position
			sum += oddValues[v]
		} else {
			sum += v
		}
	}
	return byte('A' + sum%26)
}

// baseForm turns every omocodia letter back into its digit and recomputes the
// check character. code must already be well-formed and upper case.
func baseForm(code string) string {
	b := []byte(code)
	for _, i := range digitPositions {
		if d, ok := omocodeDigit(b[i]); ok {
			b[i] = d
		}
	}
	b[15] = CheckChar(string(b[:15]))
	return string(b)
}

// variant applies the substitutions selected by mask (bit k: digitPositions[k])
// to a base-form code and recomputes the check character.
func variant(base string, mask uint8) string {
	b := []byte(base)
	for k, i := range digitPositions {
		if mask&(1<<k) != 0 {
			b[i] = omocodeLetters[b[i]-'0']
		}
	}
	b[15] = CheckChar(string(b[:15]))
	return string(b)
}

// Base returns the code with every omocodia substitution undone: the form
// shared by all 128 variants of one set of birth data. It only normalises
// case and shape; use Validate to check a code a person typed.
func Base(code string) (string, error) {
	c, err := normalize(code)
	if err != nil {
		return "", err
	}
	return baseForm(c), nil
}
