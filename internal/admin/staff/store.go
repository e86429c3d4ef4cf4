package staff

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/protocol"
)

// Tx is the console's records seen from one hub transaction
// (store.Tx.Staff): staff accounts, console sessions, failed log-in
// tallies and the daily counters of what the public API refused. Every
// backend passes the suite in package stafftest. Service runs the
// console's operations (log-in, changes, sessions) on it.
type Tx interface {
	// AddAccount stores a new account and forgets the user name's failed
	// log-ins; an existing user name fails with ErrExists unless replace
	// is set (a password reset from the command line).
	AddAccount(a *Account, replace bool) error
	// PutAccount stores a as it is.
	PutAccount(a *Account) error
	// Account returns the account of user, or ErrNotFound.
	Account(user string) (*Account, error)
	// Accounts returns every account in user name order (bytewise). In a
	// write transaction they stay locked until it ends, so a check across
	// accounts (the last enabled admin) holds at commit.
	Accounts() ([]*Account, error)

	// PutSession stores the session of the cookie token, by the token's
	// hash: the token itself is never stored.
	PutSession(token string, s *Session) error
	// Session returns the stored session of token, live or not, or
	// ErrNoSession.
	Session(token string) (*Session, error)
	// DeleteSession ends the session of token; an unknown one is no error.
	DeleteSession(token string) error
	// EndSessions deletes every session of user.
	EndSessions(user string) error
	// PurgeSessions deletes the sessions not live at now, and those that
	// no longer decode, and returns how many.
	PurgeSessions(now time.Time) (int, error)

	// Tallies returns the failed log-in tallies of user from source (see
	// TallyUser for how the name is keyed). In a write transaction they
	// stay locked until it ends, so concurrent attempts, on any hub, see
	// each other. A tally that no longer decodes reads as locked for a
	// minute from now: a damaged counter must not open the door.
	Tallies(user, source string, now time.Time) (Tallies, error)
	// PutTallies stores them.
	PutTallies(user, source string, t Tallies) error
	// ClearTallies forgets user's failed log-ins from every source (the
	// per-source tallies stay: they are other names' too).
	ClearTallies(user string) error
	// PurgeTallies deletes the tallies th's rules find idle at now (and
	// those that no longer decode), so names tried once do not pile up.
	PurgeTallies(th Throttle, now time.Time) error

	// Count adds one to day's counter of kind and reason.
	Count(day protocol.Day, kind, reason string) error
	// Events returns the counters of days from to to inclusive, by day,
	// then kind and reason (bytewise).
	Events(from, to protocol.Day) ([]EventCount, error)
}

// Runner runs functions on the console records' view of a transaction:
// store.Domain(s, store.Tx.Staff) is one.
type Runner interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// TallyUser is the name a user's tallies are kept under: the name as
// typed, known or not, so unknown names are counted like real ones;
// one longer than 64 bytes or holding a 0 byte by its SHA-256.
func TallyUser(user string) string {
	if len(user) > 64 || strings.IndexByte(user, 0) >= 0 {
		sum := sha256.Sum256([]byte(user))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return user
}

// Event kinds counted per day.
const (
	EventRefused       = "refused"        // a certificate request refused, by reason
	EventVerifyUnknown = "verify_unknown" // /v/{id} for an id the hub never issued
	EventVerifyRevoked = "verify_revoked" // /v/{id} of a revoked certificate
	EventVerifyValid   = "verify_valid"
	EventSignature     = "signature" // a signed request refused, by reason
)

// EventCount is one counter.
type EventCount struct {
	Day    protocol.Day
	Kind   string
	Reason string
	Count  uint64
}
