package staff

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strings"
	"time"
)

// TOTP as in RFC 6238: HOTP (RFC 4226) over the number of 30-second steps
// since the Unix epoch. Authenticator apps use SHA-1 and 6 digits.
const (
	TOTPStep   = 30 * time.Second
	TOTPDigits = 6
	// totpSkew accepts the previous and next step too: a phone's clock a
	// few seconds off, or a code typed as it changes.
	totpSkew = 1
)

// HOTP is RFC 4226's one-time password for counter, with digits digits,
// over hash function h.
func HOTP(secret []byte, counter uint64, digits int, h func() hash.Hash) string {
	mac := hmac.New(h, secret)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	mac.Write(c[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// TOTPAt is the code for instant t.
func TOTPAt(secret []byte, t time.Time, digits int, h func() hash.Hash) string {
	return HOTP(secret, uint64(t.Unix()/int64(TOTPStep/time.Second)), digits, h)
}

// VerifyTOTP checks a 6-digit SHA-1 code at instant t, allowing one step of
// clock difference each way, and refuses a step at or before last, so a
// code seen over a shoulder cannot be used again. It returns the step
// matched.
func VerifyTOTP(secret []byte, code string, t time.Time, last int64) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != TOTPDigits {
		return 0, false
	}
	now := t.Unix() / int64(TOTPStep/time.Second)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := now + d
		if step <= last || step < 0 {
			continue
		}
		if hmac.Equal([]byte(HOTP(secret, uint64(step), TOTPDigits, sha1.New)), []byte(code)) {
			return step, true
		}
	}
	return 0, false
}

// NewTOTPSecret returns 160 random bits, the size RFC 4226 recommends.
func NewTOTPSecret(r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 20)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("cannot read random bytes for a TOTP secret: %w", err)
	}
	return b, nil
}

// SecretText is the secret as authenticator apps take it when typed.
func SecretText(secret []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
}

// TOTPURI is the otpauth:// URI of Google Authenticator's key URI format,
// for a QR code.
func TOTPURI(issuer, user string, secret []byte) string {
	v := url.Values{}
	v.Set("secret", SecretText(secret))
	v.Set("issuer", issuer)
	v.Set("digits", fmt.Sprint(TOTPDigits))
	v.Set("period", fmt.Sprint(int(TOTPStep/time.Second)))
	return "otpauth://totp/" + url.PathEscape(issuer+":"+user) + "?" + v.Encode()
}
