package seal

import "testing"

// The reader's lexer loops for ever on a string missing its end (see
// pdfscan.go): each case here is one it would lex.
func TestStringsTerminated(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"BT (Comune di Milano)Tj ET", true},
		{"BT (a (nested) string)Tj ET", true},
		{`BT (an escaped \) paren)Tj ET`, true},
		{"BT <48656c6c6f>Tj ET", true},
		{"<< /Type /X >> BT (x)Tj ET", true},
		{"% a comment with ( in it\nBT (x)Tj ET", true},
		{"BT (Comune di Milano-Tj ET", false},
		{"BT (a (nested) string-Tj ET", false},
		{`BT (ends in an escape\`, false},
		{`BT (escaped end\)Tj ET`, false},
		{"BT <48656c6c6f Tj ET 0 1 2", false},
		{"BT <", false},
	} {
		if got := stringsTerminated([]byte(c.in)); got != c.ok {
			t.Errorf("stringsTerminated(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}
