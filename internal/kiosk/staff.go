package kiosk

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Staff is one member of the shop's staff who may run the counter.
type Staff struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PINHash is HashPIN's output: the PIN itself is never stored.
	PINHash string `json:"pin_hash"`
}

// pinIterations makes guessing a 4–8 digit PIN from a stolen profile cost
// real time, while a log-in stays well under a tenth of a second.
const pinIterations = 60000

// Staff PIN rules: long enough not to be guessed at the counter, short
// enough to type between customers.
const (
	MinStaffPIN = 4
	MaxStaffPIN = 12
	// MaxStaffTries wrong PINs in a row lock a staff member out for StaffLockout.
	MaxStaffTries = 5
	StaffLockout  = 5 * time.Minute
)

// HashPIN returns "pbkdf2-sha256$ITER$SALT$HASH" for a staff PIN; r
// supplies the salt (crypto/rand when nil).
func HashPIN(pin string, r io.Reader) (string, error) {
	if err := checkStaffPIN(pin); err != nil {
		return "", err
	}
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, pin, salt, pinIterations, 32)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pbkdf2-sha256$%d$%x$%x", pinIterations, salt, key), nil
}

func checkStaffPIN(pin string) error {
	if len(pin) < MinStaffPIN || len(pin) > MaxStaffPIN || strings.Trim(pin, "0123456789") != "" {
		return problem("staff_pin_format", fmt.Sprintf("a staff PIN is %d to %d digits", MinStaffPIN, MaxStaffPIN), nil, MinStaffPIN, MaxStaffPIN)
	}
	return nil
}

// checkPIN reports whether pin matches hash, in constant time.
func checkPIN(hash, pin string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return false
	}
	salt, err1 := hex.DecodeString(parts[2])
	want, err2 := hex.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pin, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
