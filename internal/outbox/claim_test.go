package outbox

import (
	"strings"
	"testing"
)

func TestClaimCodesCatchTypingMistakes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		code, err := newClaimCode()
		if err != nil {
			t.Fatal(err)
		}
		if seen[code] {
			t.Fatalf("claim code %s generated twice in 200 draws", code)
		}
		seen[code] = true
		if len(code) != 11 || code[3] != '-' || code[7] != '-' {
			t.Fatalf("claim code %q is not in the printed form XXX-XXX-XXX", code)
		}
		if got, err := ParseClaimCode(code); err != nil || got != code {
			t.Fatalf("ParseClaimCode(%q) = %q, %v", code, got, err)
		}
		bare := strings.ReplaceAll(code, "-", "")
		for i := range claimLen {
			// Every wrong symbol in any position is caught.
			for j := 0; j < len(claimAlphabet); j++ {
				if claimAlphabet[j] == bare[i] {
					continue
				}
				typo := bare[:i] + string(claimAlphabet[j]) + bare[i+1:]
				if _, err := ParseClaimCode(typo); err == nil {
					t.Fatalf("the typo %s for %s was accepted", typo, code)
				}
			}
			// So is every swap of two different symbols.
			for j := i + 1; j < claimLen; j++ {
				if bare[i] == bare[j] {
					continue
				}
				b := []byte(bare)
				b[i], b[j] = b[j], b[i]
				if _, err := ParseClaimCode(string(b)); err == nil {
					t.Fatalf("the swap %s for %s was accepted", b, code)
				}
			}
		}
	}
}

func TestParseClaimCode(t *testing.T) {
	code, err := newClaimCode()
	if err != nil {
		t.Fatal(err)
	}
	bare := strings.ReplaceAll(code, "-", "")
	tests := []struct {
		in      string
		wantErr string // "" for valid
	}{
		{code, ""},
		{strings.ToLower(code), ""},
		{" " + bare[:4] + " " + bare[4:] + " ", ""},
		{bare[:8], "has 8 symbols"},
		{bare + "2", "has 10 symbols"},
		{"", "has 0 symbols"},
		{"0" + bare[1:], "never contain 0, 1, I, L or O"},
		{"O" + bare[1:], "never contain"},
		{"I" + bare[1:], "never contain"},
		{"é" + bare[1:], "never contain"},
	}
	for _, tt := range tests {
		got, err := ParseClaimCode(tt.in)
		if tt.wantErr == "" {
			if err != nil || got != code {
				t.Errorf("ParseClaimCode(%q) = %q, %v; want %q", tt.in, got, err, code)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseClaimCode(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
		}
	}
}

// Claim codes are typed by people at a counter or a kiosk screen.
func FuzzParseClaimCode(f *testing.F) {
	f.Add("ABC-DEF-GHJ")
	f.Add("abc def ghj")
	f.Add("0OIL1")
	f.Add("ZZZ-ZZZ-ZZZ-\x00")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseClaimCode(s)
		if err != nil {
			return
		}
		again, err := ParseClaimCode(got)
		if err != nil || again != got {
			t.Fatalf("ParseClaimCode(%q) = %q, which parses as %q, %v", s, got, again, err)
		}
		if len(got) != 11 {
			t.Fatalf("ParseClaimCode(%q) = %q, not in printed form", s, got)
		}
	})
}
