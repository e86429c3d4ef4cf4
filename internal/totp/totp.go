// Package totp is the one-time codes of RFC 6238 as authenticator apps
// make them (HMAC-SHA1, 30-second steps, 6 digits): the second factor of
// the city staff's console log-in and of a clerk's log-in at a shop with
// no card reader. It draws and encodes secrets, makes codes and checks
// them; where a secret is kept and how an account records the last step
// used is its caller's.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"
)

// Errors of Verify.
var (
	ErrWrong  = errors.New("one-time code wrong")
	ErrReused = errors.New("one-time code already used")
)

// Step and Digits are RFC 6238's defaults, which every authenticator app
// reads from an otpauth:// URI.
const (
	Step   = 30 * time.Second
	Digits = 6
	// skew accepts the previous and next step too: a phone's clock a
	// few seconds off, or a code typed as it changes.
	skew = 1
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

// StepAt is the RFC 6238 time step of instant t.
func StepAt(t time.Time) int64 { return t.Unix() / int64(Step/time.Second) }

// Code is the code of secret at step.
func Code(secret []byte, step int64) string { return HOTP(secret, uint64(step), Digits, sha1.New) }

// At is the code of secret at instant t.
func At(secret []byte, t time.Time) string { return Code(secret, StepAt(t)) }

// Verify checks code at instant t: the code of the current step, or of the
// one before or after. A step at or before last was used already, so a
// code seen over a shoulder cannot be used again: when only such a step
// matches the answer is ErrReused, when none ErrWrong. It returns the step
// matched, for the caller to record as last. The current step is tried
// first, then the one before, then the one after.
func Verify(secret []byte, code string, t time.Time, last int64) (int64, error) {
	code = strings.TrimSpace(code)
	if len(code) != Digits {
		return 0, ErrWrong
	}
	now := StepAt(t)
	reused := false
	for _, step := range []int64{now, now - skew, now + skew} {
		if step < 0 || !hmac.Equal([]byte(Code(secret, step)), []byte(code)) {
			continue
		}
		if step <= last {
			reused = true
			continue
		}
		return step, nil
	}
	if reused {
		return 0, ErrReused
	}
	return 0, ErrWrong
}

// NewSecret returns 160 random bits, the size RFC 4226 recommends; r gives
// them (crypto/rand when nil).
func NewSecret(r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 20)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("cannot read random bytes for a TOTP secret: %w", err)
	}
	return b, nil
}

// text is base32 without padding, as authenticator apps take a secret
// typed or in an otpauth:// URI.
var text = base32.StdEncoding.WithPadding(base32.NoPadding)

// Text is the secret as authenticator apps take it.
func Text(secret []byte) string { return text.EncodeToString(secret) }

// Parse reads a secret written by Text, in either case, padded or not.
func Parse(s string) ([]byte, error) {
	b, err := text.DecodeString(strings.ToUpper(strings.TrimRight(s, "=")))
	if err != nil || len(b) == 0 {
		return nil, errors.New("the TOTP secret is not base32")
	}
	return b, nil
}
