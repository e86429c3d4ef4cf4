package outbox

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// claimAlphabet leaves out 0, 1, I, L and O, which people misread on a
// thermal receipt or mistype on a touch keyboard. Its 31 symbols are a prime
// count, so a position-weighted sum modulo 31 catches every single wrong
// symbol and every swap of two symbols (see claimCheck).
const claimAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

const (
	claimData = 8             // random symbols: 31^8 ≈ 8.5e11 codes, unguessable at a counter
	claimLen  = claimData + 1 // plus the check symbol
)

var claimValue = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(claimAlphabet); i++ {
		v[claimAlphabet[i]] = int8(i)
	}
	return v
}()

// claimCheck returns the symbol value c that makes Σ (i+1)·v_i ≡ 0 (mod 31)
// over the data symbols followed by c. Weights 1…9 are all nonzero and
// distinct modulo 31, which is what makes substitutions and swaps visible.
func claimCheck(data string) int {
	sum := 0
	for i := 0; i < len(data); i++ {
		sum += (i + 1) * int(claimValue[data[i]])
	}
	// c·claimLen ≡ −sum (mod 31); 7 is the inverse of 9 modulo 31.
	const inv = 7
	c := ((31 - sum%31) % 31) * inv % 31
	return c
}

// newClaimCode returns a random claim code in its printed form, "ABC-DEF-GHJ".
func newClaimCode() (string, error) {
	var data [claimData]byte
	var buf [32]byte
	n := 0
	for n < claimData {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("reading random bytes for a claim code: %w", err)
		}
		for _, b := range buf {
			// Rejecting 248…255 keeps every symbol equally likely.
			if b >= 31*8 || n == claimData {
				continue
			}
			data[n] = claimAlphabet[b%31]
			n++
		}
	}
	code := string(data[:]) + string(claimAlphabet[claimCheck(string(data[:]))])
	return formatClaim(code), nil
}

func formatClaim(c string) string {
	return c[0:3] + "-" + c[3:6] + "-" + c[6:9]
}

// ParseClaimCode accepts a claim code as a person types it (any case, with
// or without spaces and dashes) and returns its printed form, or an error
// that says what is wrong with it.
func ParseClaimCode(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r >= 0x80 || claimValue[byte(r)] < 0 {
			return "", fmt.Errorf("claim code %q contains %q, which is not used in claim codes (they never contain 0, 1, I, L or O)", s, r)
		}
		b.WriteRune(r)
	}
	c := b.String()
	if len(c) != claimLen {
		return "", fmt.Errorf("claim code %q has %d symbols, but claim codes have %d", s, len(c), claimLen)
	}
	if claimAlphabet[claimCheck(c[:claimData])] != c[claimData] {
		return "", fmt.Errorf("claim code %q has a typing mistake: its last symbol does not match the others", s)
	}
	return formatClaim(c), nil
}
