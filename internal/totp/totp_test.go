package totp

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"
)

// RFC 6238 Appendix B: 8-digit codes over the ASCII seeds given there.
func TestHOTPRFC6238(t *testing.T) {
	seed20 := []byte("12345678901234567890")
	seed32 := []byte("12345678901234567890123456789012")
	seed64 := []byte("1234567890123456789012345678901234567890123456789012345678901234")
	tests := []struct {
		unix               int64
		sha1, sha256, s512 string
	}{
		{59, "94287082", "46119246", "90693936"},
		{1111111109, "07081804", "68084774", "25091201"},
		{1111111111, "14050471", "67062674", "99943326"},
		{1234567890, "89005924", "91819424", "93441116"},
		{2000000000, "69279037", "90698825", "38618901"},
		{20000000000, "65353130", "77737706", "47863826"},
	}
	for _, tt := range tests {
		step := uint64(StepAt(time.Unix(tt.unix, 0)))
		for _, c := range []struct {
			seed []byte
			h    func() hash.Hash
			want string
		}{{seed20, sha1.New, tt.sha1}, {seed32, sha256.New, tt.sha256}, {seed64, sha512.New, tt.s512}} {
			if got := HOTP(c.seed, step, 8, c.h); got != c.want {
				t.Errorf("TOTP(%d) = %s, want %s", tt.unix, got, c.want)
			}
		}
		// The 6-digit code is the 8-digit one's last six.
		if got := Code(seed20, int64(step)); got != tt.sha1[2:] {
			t.Errorf("Code(%d) = %s, want %s", tt.unix, got, tt.sha1[2:])
		}
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	step := StepAt(now)
	tests := []struct {
		name string
		code string
		last int64
		want int64
		err  error
	}{
		{"current", At(secret, now), 0, step, nil},
		{"previous step", At(secret, now.Add(-Step)), 0, step - 1, nil},
		{"next step", At(secret, now.Add(Step)), 0, step + 1, nil},
		{"surrounding blanks", " " + At(secret, now) + "\n", 0, step, nil},
		{"two steps old", At(secret, now.Add(-2*Step)), 0, 0, ErrWrong},
		{"replayed", At(secret, now), step, 0, ErrReused},
		{"previous, after the current was used", At(secret, now.Add(-Step)), step, 0, ErrReused},
		{"next, after the current was used", At(secret, now.Add(Step)), step, step + 1, nil},
		{"short", At(secret, now)[:5], 0, 0, ErrWrong},
	}
	for _, tt := range tests {
		got, err := Verify(secret, tt.code, now, tt.last)
		if got != tt.want || !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("%s: %d, %v; want %d, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func TestSecretText(t *testing.T) {
	s, err := NewSecret(nil)
	if err != nil || len(s) != 20 {
		t.Fatalf("NewSecret: %x, %v", s, err)
	}
	txt := Text(s)
	for _, in := range []string{txt, txt + "====", strings.ToLower(txt)} {
		b, err := Parse(in)
		if err != nil || string(b) != string(s) {
			t.Errorf("Parse(%q) = %x, %v; want %x", in, b, err, s)
		}
	}
	for _, in := range []string{"", "not base32!"} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q): no error", in)
		}
	}
}
