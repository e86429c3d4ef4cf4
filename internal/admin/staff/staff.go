// Package staff is the city staff's side of the console: accounts, roles
// and what each role may see, password hashes, lock-out after repeated
// failures, one-time codes (TOTP) and sessions.
//
// It is pure domain: no HTTP, no storage; time is always a parameter.
package staff

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors; returned errors wrap them.
var (
	ErrInvalid     = errors.New("invalid staff data")
	ErrBadLogin    = errors.New("wrong user name, password or code")
	ErrLocked      = errors.New("account locked")
	ErrDisabled    = errors.New("account disabled")
	ErrNotFound    = errors.New("no such staff member")
	ErrExists      = errors.New("staff member already exists")
	ErrNoSession   = errors.New("no valid session")
	ErrTOTPMissing = errors.New("one-time code required")
)

// Role is a staff member's job in the programme.
type Role string

// Roles. A clerk runs the operators' network and reads registry records;
// finance settles fees; an auditor reads the access log and the figures but
// changes nothing; an admin does everything, including staff accounts.
const (
	Admin   Role = "admin"
	Clerk   Role = "clerk"
	Finance Role = "finance"
	Auditor Role = "auditor"
)

// Roles lists every role in a stable order.
var Roles = []Role{Admin, Clerk, Finance, Auditor}

// ParseRole reads a role; "registry_clerk" is accepted for clerk.
func ParseRole(s string) (Role, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "registry_clerk" || s == "registry-clerk" {
		s = string(Clerk)
	}
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: %q is not a role; use admin, clerk, finance or auditor", ErrInvalid, s)
}

// Permission is one kind of page or action of the console.
type Permission string

// Permissions, one per group of pages.
const (
	ViewOperators   Permission = "view_operators"
	ManageOperators Permission = "manage_operators" // approve, suspend, revoke, codes, hours, devices
	ViewFees        Permission = "view_fees"
	ViewSettlements Permission = "view_settlements"
	ViewActivity    Permission = "view_activity"
	SearchAudit     Permission = "search_audit"
	ReadPersons     Permission = "read_persons" // registry records: every read is audited
	ManageStaff     Permission = "manage_staff"
	ManageCity      Permission = "manage_city" // the city's settings: the fee cap
	// ReadCertificates opens issued certificates, their PDFs and the
	// certificates' protocol register: personal data, every read audited.
	ReadCertificates Permission = "read_certificates"
	// RevokeCertificates revokes an issued certificate with a reason.
	RevokeCertificates Permission = "revoke_certificates"
	// ReviewRequests opens the demographic requests (issue 17), their
	// documents, and decides them: personal data, every read audited.
	ReviewRequests Permission = "review_requests"
)

// grants is the permission table. Separation of duties: the auditor, who
// checks who read personal data, reads none itself; finance settles but
// does not change the network.
var grants = map[Role][]Permission{
	Admin:   {ViewOperators, ManageOperators, ViewFees, ViewSettlements, ViewActivity, SearchAudit, ReadPersons, ManageStaff, ManageCity, ReadCertificates, RevokeCertificates, ReviewRequests},
	Clerk:   {ViewOperators, ManageOperators, ViewFees, ViewActivity, ReadPersons, ReadCertificates, RevokeCertificates, ReviewRequests},
	Finance: {ViewOperators, ViewFees, ViewSettlements, ViewActivity},
	Auditor: {ViewOperators, ViewFees, ViewSettlements, ViewActivity, SearchAudit},
}

// Can reports whether role r has permission p.
func (r Role) Can(p Permission) bool {
	for _, g := range grants[r] {
		if g == p {
			return true
		}
	}
	return false
}

// Account is a staff member.
type Account struct {
	User         string    `json:"user"`
	Name         string    `json:"name,omitempty"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash"` // PHC string, argon2id
	TOTPSecret   []byte    `json:"totp_secret,omitempty"`
	LastTOTPStep int64     `json:"last_totp_step,omitempty"` // a code is accepted once
	Disabled     bool      `json:"disabled,omitempty"`
	Created      time.Time `json:"created"`
	CreatedBy    string    `json:"created_by"`
	LastLogin    time.Time `json:"last_login,omitzero"`
	// Sources are where the account last signed in from (see SourceOf),
	// newest first: the account-wide lock-out spares them (see Throttle).
	Sources []string `json:"sources,omitempty"`
	// History records who disabled, enabled or reset the account, and when.
	History []Change `json:"history,omitempty"`
}

// Change is one administrative change to an account.
type Change struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	What string    `json:"what"` // "disabled", "enabled", "password reset"
}

// Disable stops the account from signing in; its sessions end with it.
func (a *Account) Disable(at time.Time, by string) error {
	if a.Disabled {
		return fmt.Errorf("%w: the account %q is already disabled", ErrInvalid, a.User)
	}
	return a.record(at, by, "disabled", func() { a.Disabled = true })
}

// Enable lets a disabled account sign in again (the store clears its
// failed log-ins too).
func (a *Account) Enable(at time.Time, by string) error {
	if !a.Disabled {
		return fmt.Errorf("%w: the account %q is not disabled", ErrInvalid, a.User)
	}
	return a.record(at, by, "enabled", func() { a.Disabled = false })
}

// ResetPassword sets a new password chosen by an administrator (the store
// lifts a lock-out too); the staff member's one-time codes stay as they
// were.
func (a *Account) ResetPassword(r io.Reader, password string, at time.Time, by string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	h, err := HashPassword(r, password, DefaultParams)
	if err != nil {
		return err
	}
	return a.record(at, by, "password reset", func() { a.PasswordHash = h })
}

// LastChange is the latest administrative change, nil when none.
func (a *Account) LastChange() *Change {
	if len(a.History) == 0 {
		return nil
	}
	return &a.History[len(a.History)-1]
}

func (a *Account) record(at time.Time, by, what string, apply func()) error {
	if strings.TrimSpace(by) == "" {
		return fmt.Errorf("%w: say who changes the account %q", ErrInvalid, a.User)
	}
	apply()
	a.History = append(a.History, Change{At: at.UTC(), By: by, What: what})
	return nil
}

// ValidateUser checks a user name: 2 to 32 lower-case letters, digits,
// dots, dashes or underscores, so it reads the same in logs and URLs.
func ValidateUser(u string) error {
	if len(u) < 2 || len(u) > 32 {
		return fmt.Errorf("%w: a user name has 2 to 32 characters, %q has %d", ErrInvalid, u, len(u))
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("%w: user name %q may use only lower-case letters, digits, '.', '-' and '_'", ErrInvalid, u)
		}
	}
	return nil
}

// MinPassword and MaxPassword bound a password's length in characters.
// Length is the one rule worth enforcing (NIST SP 800-63B §5.1.1.2); the
// upper bound keeps hashing cheap for an attacker's huge inputs.
const (
	MinPassword = 12
	MaxPassword = 256
)

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPassword || n > MaxPassword {
		return fmt.Errorf("%w: a password has %d to %d characters, this one has %d", ErrInvalid, MinPassword, MaxPassword, n)
	}
	return nil
}

// NewAccount makes an account with a hashed password.
func NewAccount(r io.Reader, user, name string, role Role, password string, at time.Time, by string) (*Account, error) {
	if err := ValidateUser(user); err != nil {
		return nil, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return nil, err
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	if strings.TrimSpace(by) == "" {
		return nil, fmt.Errorf("%w: say who creates the account", ErrInvalid)
	}
	h, err := HashPassword(r, password, DefaultParams)
	if err != nil {
		return nil, err
	}
	return &Account{User: user, Name: strings.TrimSpace(name), Role: role, PasswordHash: h, Created: at.UTC(), CreatedBy: by}, nil
}

// Admit decides a log-in attempt once its password has been checked
// (passwordOK), so that the slow hash runs outside any lock. A disabled
// account is refused only now, after the hash, so it answers as slowly as
// any other. On success it records the code's step (a code is accepted
// once), the time and the source.
func (a *Account) Admit(passwordOK bool, code string, at time.Time, source string) error {
	if !passwordOK {
		return ErrBadLogin
	}
	if a.Disabled {
		return fmt.Errorf("%w: ask an administrator", ErrDisabled)
	}
	if err := a.CheckCode(code, at); err != nil {
		return err
	}
	a.LastLogin = at.UTC()
	a.rememberSource(source)
	return nil
}

// CheckCode checks the account's current one-time code, when it has
// them, and records its step so it is not accepted again.
func (a *Account) CheckCode(code string, at time.Time) error {
	if len(a.TOTPSecret) == 0 {
		return nil
	}
	if strings.TrimSpace(code) == "" {
		return ErrTOTPMissing
	}
	step, ok := VerifyTOTP(a.TOTPSecret, code, at, a.LastTOTPStep)
	if !ok {
		return ErrBadLogin
	}
	a.LastTOTPStep = step
	return nil
}

// Session is a signed-in browser. The cookie holds a random token; the
// store keeps only its hash, so a copy of the database signs nobody in.
type Session struct {
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	CSRF     string    `json:"csrf"` // the token every form must carry
}

// Session lifetimes: idle sessions end after half an hour, any session
// after a working day.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
)

// MaxClockSkew is how far the clocks of the hubs sharing a database may
// disagree (NTP keeps them within a second; this bounds a broken one). A
// session is stamped by the clock of the hub that opened it and checked by
// every hub's: one opened on a hub whose clock is ahead is not yet
// "created" by the clock of a hub behind it.
const MaxClockSkew = 5 * time.Minute

// Live reports whether the session is still valid at now. A session made
// in now's future by more than the hubs' clocks may disagree is not: its
// times were not written by a hub of this city's clocks.
func (s *Session) Live(now time.Time) bool {
	return now.Sub(s.LastSeen) < IdleTimeout && now.Sub(s.Created) < AbsoluteTimeout && !now.Before(s.Created.Add(-MaxClockSkew))
}

// NewSession makes a session for user and returns the token for the
// cookie.
func NewSession(r io.Reader, user string, at time.Time) (token string, s *Session, err error) {
	tok, err := RandomToken(r)
	if err != nil {
		return "", nil, err
	}
	csrf, err := RandomToken(r)
	if err != nil {
		return "", nil, err
	}
	return tok, &Session{User: user, Created: at.UTC(), LastSeen: at.UTC(), CSRF: csrf}, nil
}

// RandomToken returns 256 random bits, base64url.
func RandomToken(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("cannot read random bytes for a token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
