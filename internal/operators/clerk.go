package operators

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/totp"
)

// A clerk is a named person who works the counter of one shop. The law that
// lets shops issue certificates at all (the Polis model: DL 50/2022 art. 38,
// Garante opinion 493 of 26 October 2023) wants staff enabled by name,
// trained, and logged in with a smart card; a shared shop PIN is not enough.
// City staff enable a clerk for one operator until a date; the clerk logs in
// at the kiosk with their own CIE and PIN, or, at a shop with no reader,
// with a personal password and a TOTP code.

// Errors a clerk's log-in meets; returned errors wrap them.
var (
	ErrClerkNotEnabled   = errors.New("clerk not enabled for this shop")
	ErrClerkSuspended    = errors.New("clerk suspended")
	ErrClerkExpired      = errors.New("clerk's enablement expired")
	ErrClerkNotTrained   = errors.New("clerk not trained")
	ErrClerkCredentials  = errors.New("clerk's password or code wrong")
	ErrClerkTOTPReused   = errors.New("TOTP code already used")
	ErrSessionUnknown    = errors.New("clerk session unknown")
	ErrSessionExpired    = errors.New("clerk session expired")
	ErrSessionOtherOwner = errors.New("clerk session belongs to another device")
)

// ClerkStatus is whether a clerk may log in.
type ClerkStatus string

// Clerk statuses: suspension is undone by reinstatement; a clerk who
// leaves is suspended for good with that reason, so the history stays.
const (
	ClerkActive    ClerkStatus = "active"
	ClerkSuspended ClerkStatus = "suspended"
)

// ClerkChange is one entry of a clerk's history.
type ClerkChange struct {
	At     time.Time   `json:"at"`
	By     string      `json:"by"`
	From   ClerkStatus `json:"from,omitempty"`
	To     ClerkStatus `json:"to"`
	Reason string      `json:"reason,omitempty"`
}

// Clerk is one person enabled to issue at one shop. A person who works at
// two shops has a record for each, enabled (and suspended) separately.
type Clerk struct {
	ID         string `json:"id"` // "cl-0001"
	CF         string `json:"cf"`
	Name       string `json:"name"` // as on the identity document: "Mario Rossi"
	OperatorID string `json:"operator_id"`
	// Trained is the day the clerk completed the city's training; nobody
	// untrained logs in.
	Trained registry.Date `json:"trained"`
	// EnabledUntil is the last day the clerk may log in.
	EnabledUntil registry.Date `json:"enabled_until"`
	// NIS is the clerk's CIE, for a clerk not in the city's registry (who
	// lives elsewhere); a resident's CIE is found in the registry.
	NIS string `json:"nis,omitempty"`
	// PasswordHash and TOTPSecret are the log-in of a shop without a card
	// reader: HashClerkPassword's output and a base32 RFC 6238 secret.
	PasswordHash string `json:"password_hash,omitempty"`
	TOTPSecret   string `json:"totp_secret,omitempty"`
	// LastTOTPStep is the time step of the last code accepted, so a code
	// seen over a shoulder cannot be used again.
	LastTOTPStep int64 `json:"last_totp_step,omitempty"`

	Status  ClerkStatus   `json:"status"`
	History []ClerkChange `json:"history"`
}

// LastChange is the clerk's latest history entry: why they are as they are.
func (c *Clerk) LastChange() ClerkChange {
	if len(c.History) == 0 {
		return ClerkChange{}
	}
	return c.History[len(c.History)-1]
}

// HasPassword reports whether the clerk may log in without a card.
func (c *Clerk) HasPassword() bool { return c.PasswordHash != "" && c.TOTPSecret != "" }

// Validate checks a clerk's data as city staff enter it, on day today.
func (c *Clerk) Validate(today registry.Date) error {
	c.CF = strings.ToUpper(strings.TrimSpace(c.CF))
	c.Name = strings.TrimSpace(c.Name)
	c.NIS = strings.TrimSpace(c.NIS)
	switch {
	case codicefiscale.Validate(c.CF) != nil:
		return fmt.Errorf("%w: %q is not a valid codice fiscale: %v", ErrInvalid, c.CF, codicefiscale.Validate(c.CF))
	case c.Name == "" || len(c.Name) > 120 || !utf8.ValidString(c.Name) || strings.ContainsFunc(c.Name, func(r rune) bool { return r < ' ' }):
		return fmt.Errorf("%w: the clerk needs a name of at most 120 printable characters", ErrInvalid)
	case strings.TrimSpace(c.OperatorID) == "":
		return fmt.Errorf("%w: say which operator the clerk is enabled for", ErrInvalid)
	case c.Trained.IsZero():
		return fmt.Errorf("%w: the clerk has no training date; only trained staff are enabled", ErrInvalid)
	case today.Before(c.Trained):
		return fmt.Errorf("%w: the training date %s is in the future", ErrInvalid, c.Trained)
	case c.EnabledUntil.IsZero():
		return fmt.Errorf("%w: say until when the clerk is enabled", ErrInvalid)
	case c.EnabledUntil.Before(today):
		return fmt.Errorf("%w: the enablement would end on %s, already past", ErrInvalid, c.EnabledUntil)
	case c.NIS != "" && (len(c.NIS) != 12 || strings.Trim(c.NIS, "0123456789") != ""):
		return fmt.Errorf("%w: NIS %q is not the 12 digits of a CIE", ErrInvalid, c.NIS)
	case (c.PasswordHash == "") != (c.TOTPSecret == ""):
		return fmt.Errorf("%w: a password log-in needs both a password and a TOTP secret", ErrInvalid)
	}
	return nil
}

// Enable records a new clerk: validated, active, first history entry.
func (c *Clerk) Enable(at time.Time, by string) error {
	if err := c.Validate(registry.DateOf(at.In(Rome))); err != nil {
		return err
	}
	if strings.TrimSpace(by) == "" {
		return fmt.Errorf("%w: say who enables the clerk", ErrInvalid)
	}
	c.Status = ClerkActive
	c.History = []ClerkChange{{At: at.UTC(), By: by, To: ClerkActive, Reason: "enabled until " + c.EnabledUntil.String()}}
	return nil
}

// Transition suspends or reinstates the clerk; a suspension needs a reason.
func (c *Clerk) Transition(to ClerkStatus, at time.Time, by, reason string) error {
	switch {
	case to != ClerkActive && to != ClerkSuspended:
		return fmt.Errorf("%w: %q is not a clerk status", ErrTransition, to)
	case strings.TrimSpace(by) == "":
		return fmt.Errorf("%w: say who changes clerk %s", ErrTransition, c.ID)
	case c.Status == to:
		return fmt.Errorf("%w: clerk %s is already %s", ErrTransition, c.ID, to)
	case to == ClerkSuspended && strings.TrimSpace(reason) == "":
		return fmt.Errorf("%w: give a reason to suspend clerk %s", ErrTransition, c.ID)
	}
	c.History = append(c.History, ClerkChange{At: at.UTC(), By: by, From: c.Status, To: to, Reason: reason})
	c.Status = to
	return nil
}

// MayWork reports whether the clerk may log in (or go on working) at the
// device of operator operatorID at instant at.
func (c *Clerk) MayWork(operatorID string, at time.Time) error {
	day := registry.DateOf(at.In(Rome))
	switch {
	case c.OperatorID != operatorID:
		return fmt.Errorf("%w: %s is not enabled for this shop", ErrClerkNotEnabled, c.Name)
	case c.Status == ClerkSuspended:
		reason := ""
		if n := len(c.History); n > 0 && c.History[n-1].Reason != "" {
			reason = " (" + c.History[n-1].Reason + ")"
		}
		return fmt.Errorf("%w: %s is suspended%s", ErrClerkSuspended, c.Name, reason)
	case c.Status != ClerkActive:
		return fmt.Errorf("%w: %s is %s", ErrClerkNotEnabled, c.Name, c.Status)
	case c.Trained.IsZero() || day.Before(c.Trained):
		return fmt.Errorf("%w: %s has no training on record", ErrClerkNotTrained, c.Name)
	case c.EnabledUntil.Before(day):
		return fmt.Errorf("%w: %s was enabled until %s", ErrClerkExpired, c.Name, c.EnabledUntil)
	}
	return nil
}

// clerkPasswordIterations makes a stolen hub file's hashes costly to guess.
const clerkPasswordIterations = 210000

// MinClerkPassword is the shortest password a clerk may choose: it is
// one factor of two, the TOTP code being the other.
const MinClerkPassword = 10

// HashClerkPassword returns "pbkdf2-sha256$ITER$SALT$HASH"; r gives the
// salt (crypto/rand when nil).
func HashClerkPassword(password string, r io.Reader) (string, error) {
	if utf8.RuneCountInString(password) < MinClerkPassword {
		return "", fmt.Errorf("%w: a clerk's password has at least %d characters", ErrInvalid, MinClerkPassword)
	}
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, clerkPasswordIterations, 32)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pbkdf2-sha256$%d$%x$%x", clerkPasswordIterations, salt, key), nil
}

func checkClerkPassword(hash, password string) bool {
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
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}

// NewTOTPSecret draws a 20-byte secret and returns it in base32, as
// authenticator apps take it and as the clerk's record keeps it.
func NewTOTPSecret(r io.Reader) (string, error) {
	b, err := totp.NewSecret(r)
	if err != nil {
		return "", err
	}
	return totp.Text(b), nil
}

// TOTPURI is the otpauth:// URI an authenticator app scans.
func TOTPURI(secret, account string) string {
	return "otpauth://totp/Sportello:" + strings.ReplaceAll(account, " ", "%20") + "?secret=" + secret + "&issuer=Sportello"
}

// TOTPCode is the code for the base32 secret at step (see totp.StepAt).
func TOTPCode(secret string, step int64) (string, error) {
	key, err := totp.Parse(secret)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return totp.Code(key, step), nil
}

// CheckPassword checks a password log-in at instant at: the password, and
// a TOTP code of the current step or the one before or after (a phone's
// clock may be off by some seconds) not older than the last one used. It
// returns the step to record as used.
func (c *Clerk) CheckPassword(password, code string, at time.Time) (int64, error) {
	if !c.HasPassword() {
		return 0, fmt.Errorf("%w: %s has no password log-in; use the CIE", ErrClerkCredentials, c.Name)
	}
	key, err := totp.Parse(c.TOTPSecret)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	pwOK := checkClerkPassword(c.PasswordHash, password)
	step, err := totp.Verify(key, code, at, c.LastTOTPStep)
	// A reused code is told apart only with the right password, so a
	// guesser learns nothing of the codes.
	if pwOK && errors.Is(err, totp.ErrReused) {
		return 0, fmt.Errorf("%w: wait for the next code", ErrClerkTOTPReused)
	}
	if !pwOK || err != nil {
		return 0, fmt.Errorf("%w: the password or the code is wrong", ErrClerkCredentials)
	}
	return step, nil
}

// Log-in methods, as a session records them.
const (
	LoginCIE      = "cie"
	LoginPassword = "password"
)

// ClerkSession is a clerk logged in at one device. The token the device
// holds is never stored: only its SHA-256.
type ClerkSession struct {
	Hash       string    `json:"hash"`
	ClerkID    string    `json:"clerk_id"`
	OperatorID string    `json:"operator_id"`
	KeyID      string    `json:"key_id"` // the device it was opened at
	Method     string    `json:"method"`
	Created    time.Time `json:"created"`
	Expires    time.Time `json:"expires"`
}

// MaxClerkSession is the longest a session lasts: a working day. It ends
// at midnight in Rome before that.
const MaxClerkSession = 12 * time.Hour

// ClerkSessionExpiry is when a session opened at instant at ends: 12 hours
// later or at the next midnight in Rome, whichever comes first, so that a
// clerk logs in each day and a suspension or expiry of the enablement is
// met by the next log-in at the latest (each request checks both anyway).
func ClerkSessionExpiry(at time.Time) time.Time {
	r := at.In(Rome)
	midnight := time.Date(r.Year(), r.Month(), r.Day()+1, 0, 0, 0, 0, Rome)
	end := at.Add(MaxClerkSession)
	if midnight.Before(end) {
		end = midnight
	}
	return end.UTC()
}

// HashSessionToken is what the store keys a session by.
func HashSessionToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewClerkSession opens a session for clerk c at device keyID at instant
// at; it returns the token (shown once, to the device) and the record to
// store.
func NewClerkSession(r io.Reader, c *Clerk, keyID, method string, at time.Time) (string, ClerkSession, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", ClerkSession{}, fmt.Errorf("cannot draw a session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	return token, ClerkSession{
		Hash: HashSessionToken(token), ClerkID: c.ID, OperatorID: c.OperatorID, KeyID: keyID, Method: method,
		Created: at.UTC(), Expires: ClerkSessionExpiry(at),
	}, nil
}

// Check reports whether the session may serve a request from device keyID
// at instant at. The clerk's own standing is checked apart (MayWork), on
// every request, so a suspension holds from the next one.
func (s *ClerkSession) Check(keyID string, at time.Time) error {
	switch {
	case s.KeyID != keyID:
		return fmt.Errorf("%w: log in again at this device", ErrSessionOtherOwner)
	case !at.Before(s.Expires):
		return fmt.Errorf("%w: it ended at %s; log in again", ErrSessionExpired, s.Expires.In(Rome).Format("15:04"))
	}
	return nil
}

// ClerkStore keeps clerks and their sessions. opbolt implements it on the
// hub's file; operators/clerktest is the suite every implementation passes.
type ClerkStore interface {
	// AddClerk enables c (Enable) and assigns its ID.
	AddClerk(c *Clerk, by string) error
	// Clerk returns one clerk; ErrNotFound when there is none.
	Clerk(id string) (*Clerk, error)
	// ClerksByCF returns the clerk records of one person, one per shop.
	ClerksByCF(cf string) ([]*Clerk, error)
	// ClerkByNIS returns the clerk of operatorID whose record names this
	// CIE; ErrNotFound when none does.
	ClerkByNIS(operatorID, nis string) (*Clerk, error)
	// Clerks returns the clerks of one operator, or of all when
	// operatorID is empty, in id order.
	Clerks(operatorID string) ([]*Clerk, error)
	// SetClerkStatus suspends or reinstates a clerk. A reinstatement
	// ends the clerk's sessions in the same write (a suspended clerk's
	// stay, refused as such by MayWork, until then).
	SetClerkStatus(id string, to ClerkStatus, by, reason string) (*Clerk, error)
	// UseTOTPStep records step as the clerk's last accepted code, failing
	// with ErrClerkTOTPReused when it is not later than the one recorded.
	UseTOTPStep(id string, step int64) error
	// StartClerkSession stores a session.
	StartClerkSession(s ClerkSession) error
	// ClerkSession returns the session whose token hashes to hash;
	// ErrSessionUnknown when there is none.
	ClerkSession(hash string) (*ClerkSession, error)
	// EndClerkSession deletes a session (log-out); ending an unknown one
	// is not an error.
	EndClerkSession(hash string) error
}
