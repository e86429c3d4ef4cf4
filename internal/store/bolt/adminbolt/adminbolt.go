// Package adminbolt keeps the console's own records in the hub's bbolt
// file: staff accounts, sessions, and daily counters of what the public
// API refused.
//
// Layout (values JSON unless said):
//
//	adm_staff     user → staff.Account
//	adm_sessions  hex SHA-256 of the cookie token → staff.Session
//	adm_events    YYYYMMDD ‖ 0x00 ‖ kind ‖ 0x00 ‖ reason → count (8 bytes big-endian)
//	adm_throttle  "p" ‖ 0x00 ‖ user ‖ 0x00 ‖ source, "s" ‖ 0x00 ‖ source, "a" ‖ 0x00 ‖ user → staff.Tally
//
// Throttle keys use the user name as typed, known or not (a name longer
// than 64 bytes or holding a 0 byte by its SHA-256), so that unknown names
// are counted like real ones.
package adminbolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/protocol"
)

var (
	bucketStaff    = []byte("adm_staff")
	bucketSessions = []byte("adm_sessions")
	bucketEvents   = []byte("adm_events")
	bucketThrottle = []byte("adm_throttle")
	allBuckets     = [][]byte{bucketStaff, bucketSessions, bucketEvents, bucketThrottle}
)

// ErrNotInitialised means Init was not run on the file.
var ErrNotInitialised = errors.New("console store not initialised")

// Init creates the buckets.
func Init(tx *bbolt.Tx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return fmt.Errorf("cannot create the console's bucket %q: %w", b, err)
		}
	}
	return nil
}

func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	if b := tx.Bucket(name); b != nil {
		return b, nil
	}
	return nil, fmt.Errorf("%w: call adminbolt.Init when opening the hub's file", ErrNotInitialised)
}

// AddAccount stores a new account; an existing user name is refused unless
// replace is set (a password reset from the command line).
func AddAccount(tx *bbolt.Tx, a *staff.Account, replace bool) error {
	b, err := bucket(tx, bucketStaff)
	if err != nil {
		return err
	}
	if !replace && b.Get([]byte(a.User)) != nil {
		return fmt.Errorf("%w: %q; give --replace to set a new password and role", staff.ErrExists, a.User)
	}
	if err := clearTallies(tx, a.User); err != nil {
		return err
	}
	return PutAccount(tx, a)
}

// PutAccount stores a as it is.
func PutAccount(tx *bbolt.Tx, a *staff.Account) error {
	b, err := bucket(tx, bucketStaff)
	if err != nil {
		return err
	}
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.Put([]byte(a.User), v)
}

// Account returns the account of user.
func Account(tx *bbolt.Tx, user string) (*staff.Account, error) {
	b, err := bucket(tx, bucketStaff)
	if err != nil {
		return nil, err
	}
	v := b.Get([]byte(user))
	if v == nil {
		return nil, fmt.Errorf("%w: %q", staff.ErrNotFound, user)
	}
	a := new(staff.Account)
	if err := json.Unmarshal(v, a); err != nil {
		return nil, fmt.Errorf("the stored account %q is damaged: %w", user, err)
	}
	return a, nil
}

// Accounts returns every account in user name order.
func Accounts(tx *bbolt.Tx) ([]*staff.Account, error) {
	b, err := bucket(tx, bucketStaff)
	if err != nil {
		return nil, err
	}
	var out []*staff.Account
	err = b.ForEach(func(k, v []byte) error {
		a := new(staff.Account)
		if err := json.Unmarshal(v, a); err != nil {
			return fmt.Errorf("the stored account %q is damaged: %w", k, err)
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

func tokenKey(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return []byte(hex.EncodeToString(sum[:]))
}

// Store runs the functions above in their own transactions.
type Store struct {
	db       *bbolt.DB
	now      func() time.Time
	Rand     io.Reader // tokens and salts; crypto/rand when nil
	Throttle staff.Throttle
	// Gate bounds the password checks running at once (staff.DefaultGate).
	Gate *staff.Gate
}

// New creates the buckets in db and returns the store.
func New(db *bbolt.DB, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	if err := db.Update(Init); err != nil {
		return nil, err
	}
	return &Store{db: db, now: now, Throttle: staff.DefaultThrottle, Gate: staff.DefaultGate()}, nil
}

// Add stores a new account.
func (s *Store) Add(a *staff.Account, replace bool) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return AddAccount(tx, a, replace) })
}

// Account returns one account.
func (s *Store) Account(user string) (a *staff.Account, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { a, err = Account(tx, user); return err })
	return a, err
}

// Accounts lists the accounts.
func (s *Store) Accounts() (as []*staff.Account, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { as, err = Accounts(tx); return err })
	return as, err
}

// Update changes an account in one transaction.
func (s *Store) Update(user string, fn func(*staff.Account) error) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		a, err := Account(tx, user)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		return PutAccount(tx, a)
	})
}

// Change applies an administrator's change to user's account (see
// staff.Account's Disable, Enable and ResetPassword) and ends its sessions,
// so a disabled account or a replaced password locks out a browser signed
// in before. It clears the account's failed log-ins: an administrator
// who enables an account or sets its password lifts its lock-outs. Disabling the last enabled admin is refused: nobody could
// manage staff any more.
func (s *Store) Change(user string, fn func(*staff.Account) error) (*staff.Account, error) {
	var a *staff.Account
	err := s.db.Update(func(tx *bbolt.Tx) error {
		var err error
		if a, err = Account(tx, user); err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		if a.Disabled && a.Role == staff.Admin {
			all, err := Accounts(tx)
			if err != nil {
				return err
			}
			left := 0
			for _, o := range all {
				if o.Role == staff.Admin && !o.Disabled && o.User != a.User {
					left++
				}
			}
			if left == 0 {
				return fmt.Errorf("%w: %q is the last enabled admin; enable or add another admin first", staff.ErrInvalid, a.User)
			}
		}
		if err := PutAccount(tx, a); err != nil {
			return err
		}
		if err := clearTallies(tx, user); err != nil {
			return err
		}
		return endSessions(tx, user)
	})
	return a, err
}

// endSessions deletes every session of user.
func endSessions(tx *bbolt.Tx, user string) error {
	_, err := deleteSessions(tx, func(sess staff.Session, damaged bool) bool {
		return !damaged && sess.User == user
	})
	return err
}

// deleteSessions deletes the sessions gone picks and returns how many;
// damaged marks a stored session that no longer decodes.
func deleteSessions(tx *bbolt.Tx, gone func(sess staff.Session, damaged bool) bool) (int, error) {
	b, err := bucket(tx, bucketSessions)
	if err != nil {
		return 0, err
	}
	return deleteWhere(b, func(_, v []byte) bool {
		var sess staff.Session
		damaged := json.Unmarshal(v, &sess) != nil
		return gone(sess, damaged)
	})
}

// deleteWhere deletes the entries of b that gone picks and returns how
// many. Keys are gathered first because bbolt forbids deleting during
// ForEach.
func deleteWhere(b *bbolt.Bucket, gone func(k, v []byte) bool) (int, error) {
	var dead [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		if gone(k, v) {
			dead = append(dead, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if err := deleteKeys(b, dead); err != nil {
		return 0, err
	}
	return len(dead), nil
}

func deleteKeys(b *bbolt.Bucket, keys [][]byte) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Attempt is one log-in, or one confirmation of the password (and code)
// of a signed-in staff member: what was typed, and from where.
type Attempt struct {
	User, Password, Code string
	From                 netip.Addr // the client's address; see staff.SourceOf
}

// Login checks an attempt and, on success, opens a session: it returns the
// cookie token. See attempt for how guessing is bounded.
func (s *Store) Login(ctx context.Context, at Attempt) (token string, sess *staff.Session, a *staff.Account, err error) {
	a, err = s.attempt(ctx, at, func(tx *bbolt.Tx, a *staff.Account, now time.Time) error {
		token, sess, err = staff.NewSession(s.Rand, a.User, now)
		if err != nil {
			return err
		}
		return putSession(tx, token, sess)
	})
	if err != nil {
		return "", nil, a, err
	}
	return token, sess, a, nil
}

// Reauth checks a signed-in staff member's password (and current code,
// when they have codes) before a change to how they sign in, and applies
// change in the same transaction as the success. Wrong passwords count
// against the same limits as log-ins: a stolen session is no oracle for
// guessing the password.
func (s *Store) Reauth(ctx context.Context, at Attempt, change func(*staff.Account) error) error {
	_, err := s.attempt(ctx, at, func(tx *bbolt.Tx, a *staff.Account, _ time.Time) error { return change(a) })
	return err
}

// attempt runs one password check against the throttle (staff.Throttle):
//
//  1. In one write transaction it checks the limits and counts the attempt
//     as failed before anything else: concurrent attempts therefore see
//     each other, and a burst gets at most Max checks, not one each. (The
//     count was once read before and written after the hash, outside any
//     transaction: 39 guesses fired at once were all checked against a
//     limit of 5, and the right one among them signed in.)
//  2. It hashes the password outside any transaction, through the Gate, so
//     a log-in never holds the file's write lock for the length of
//     argon2id and never more than a few run at once. An unknown user name
//     is checked against staff.DummyHash: the same work, the same writes
//     and the same answer as a wrong password.
//  3. In a second write transaction it decides against the account as it
//     is by then (a password reset or a used code meanwhile counts), turns
//     the reservation into a failure or gives it back, and on success
//     calls done with the account before storing it.
func (s *Store) attempt(ctx context.Context, at Attempt, done func(tx *bbolt.Tx, a *staff.Account, now time.Time) error) (*staff.Account, error) {
	now := s.now()
	source := staff.SourceOf(at.From)
	var snap *staff.Account
	err := s.db.Update(func(tx *bbolt.Tx) error {
		a, err := Account(tx, at.User)
		switch {
		case err == nil:
			snap = a
		case !errors.Is(err, staff.ErrNotFound):
			return err
		}
		t, err := getTallies(tx, at.User, source, now)
		if err != nil {
			return err
		}
		if err := s.Throttle.Check(t, knownOf(snap), source, now); err != nil {
			return err
		}
		s.Throttle.Reserve(&t, now)
		return putTallies(tx, at.User, source, t)
	})
	if err != nil {
		return nil, err
	}
	hash := staff.DummyHash
	if snap != nil {
		hash = snap.PasswordHash
	}
	ok, err := s.Gate.Check(ctx, hash, at.Password)
	if errors.Is(err, staff.ErrBusy) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// Never checked: the attempt is not held against anyone.
		if rerr := s.updateTallies(at.User, source, now, func(t *staff.Tallies) { s.Throttle.Release(t, now) }); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	if err != nil {
		return nil, err // a damaged stored hash: the reservation stays, as a failure would
	}
	var verdict error
	var cur *staff.Account
	err = s.db.Update(func(tx *bbolt.Tx) error {
		verdict = staff.ErrBadLogin
		var err error
		cur, err = Account(tx, at.User)
		if err != nil && !errors.Is(err, staff.ErrNotFound) {
			return err
		}
		if snap != nil && cur != nil && cur.PasswordHash == snap.PasswordHash {
			verdict = cur.Admit(ok, at.Code, now, source)
		}
		t, err := getTallies(tx, at.User, source, now)
		if err != nil {
			return err
		}
		if verdict != nil {
			s.Throttle.Fail(&t, now)
			if lerr := s.Throttle.Check(t, knownOf(cur), source, now); lerr != nil {
				verdict = lerr // this failure reached a limit: say so now
			}
			return putTallies(tx, at.User, source, t)
		}
		s.Throttle.Succeed(&t, now)
		if err := putTallies(tx, at.User, source, t); err != nil {
			return err
		}
		if err := done(tx, cur, now); err != nil {
			return err
		}
		return PutAccount(tx, cur)
	})
	if err != nil {
		return nil, err
	}
	if verdict != nil {
		return nil, verdict
	}
	return cur, nil
}

// knownOf is the sources the account-wide limit spares: a's recent ones,
// none for an unknown user name (nil a).
func knownOf(a *staff.Account) []string {
	if a == nil {
		return nil
	}
	return a.Sources
}

// throttle keys of one attempt: pair, source, account.
func tallyKeys(user, source string) [3][]byte {
	if len(user) > 64 || strings.IndexByte(user, 0) >= 0 {
		sum := sha256.Sum256([]byte(user))
		user = "sha256:" + hex.EncodeToString(sum[:])
	}
	return [3][]byte{
		[]byte("p\x00" + user + "\x00" + source),
		[]byte("s\x00" + source),
		[]byte("a\x00" + user),
	}
}

func getTallies(tx *bbolt.Tx, user, source string, now time.Time) (staff.Tallies, error) {
	var t staff.Tallies
	b, err := bucket(tx, bucketThrottle)
	if err != nil {
		return t, err
	}
	for i, k := range tallyKeys(user, source) {
		v := b.Get(k)
		if v == nil {
			continue
		}
		dst := [3]*staff.Tally{&t.Pair, &t.Source, &t.Account}[i]
		if err := json.Unmarshal(v, dst); err != nil {
			// A damaged counter must not open the door: count it as full.
			*dst = staff.Tally{Until: now.Add(time.Minute)}
		}
	}
	return t, nil
}

func putTallies(tx *bbolt.Tx, user, source string, t staff.Tallies) error {
	b, err := bucket(tx, bucketThrottle)
	if err != nil {
		return err
	}
	for i, k := range tallyKeys(user, source) {
		v, err := json.Marshal([3]staff.Tally{t.Pair, t.Source, t.Account}[i])
		if err != nil {
			return err
		}
		if err := b.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) updateTallies(user, source string, now time.Time, fn func(*staff.Tallies)) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		t, err := getTallies(tx, user, source, now)
		if err != nil {
			return err
		}
		fn(&t)
		return putTallies(tx, user, source, t)
	})
}

// clearTallies forgets user's failed log-ins from every source.
func clearTallies(tx *bbolt.Tx, user string) error {
	b, err := bucket(tx, bucketThrottle)
	if err != nil {
		return err
	}
	keys := tallyKeys(user, "")
	pairs := keys[0] // "p" 0 user 0
	var dead [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(pairs); k != nil && bytes.HasPrefix(k, pairs); k, _ = c.Next() {
		dead = append(dead, bytes.Clone(k))
	}
	return deleteKeys(b, append(dead, keys[2]))
}

func putSession(tx *bbolt.Tx, token string, sess *staff.Session) error {
	b, err := bucket(tx, bucketSessions)
	if err != nil {
		return err
	}
	v, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	return b.Put(tokenKey(token), v)
}

// Session returns the live session of token and its account, and marks it
// seen (at most once a minute, to spare the disk a write per page).
func (s *Store) Session(token string) (*staff.Session, *staff.Account, error) {
	now := s.now()
	var sess staff.Session
	var a *staff.Account
	var stale bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSessions)
		if err != nil {
			return err
		}
		v := b.Get(tokenKey(token))
		if v == nil {
			return staff.ErrNoSession
		}
		if err := json.Unmarshal(v, &sess); err != nil {
			return err
		}
		if !sess.Live(now) {
			return staff.ErrNoSession
		}
		stale = now.Sub(sess.LastSeen) > time.Minute
		a, err = Account(tx, sess.User)
		if err != nil {
			return staff.ErrNoSession
		}
		if a.Disabled {
			return staff.ErrNoSession
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if stale {
		sess.LastSeen = now.UTC()
		if err := s.db.Update(func(tx *bbolt.Tx) error { return putSession(tx, token, &sess) }); err != nil {
			return nil, nil, err
		}
	}
	return &sess, a, nil
}

// Logout ends the session of token.
func (s *Store) Logout(token string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketSessions)
		if err != nil {
			return err
		}
		return b.Delete(tokenKey(token))
	})
}

// PurgeSessions deletes sessions no longer live and returns how many; it
// also drops failed-log-in counters that hold nothing any more, so user
// names tried once do not pile up.
func (s *Store) PurgeSessions() (n int, err error) {
	now := s.now()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		n, err = deleteSessions(tx, func(sess staff.Session, damaged bool) bool {
			return damaged || !sess.Live(now)
		})
		if err != nil {
			return err
		}
		return s.purgeTallies(tx, now)
	})
	return n, err
}

func (s *Store) purgeTallies(tx *bbolt.Tx, now time.Time) error {
	b, err := bucket(tx, bucketThrottle)
	if err != nil {
		return err
	}
	_, err = deleteWhere(b, func(k, v []byte) bool {
		var t staff.Tally
		r := s.Throttle.Account
		switch {
		case bytes.HasPrefix(k, []byte("p\x00")):
			r = s.Throttle.Pair
		case bytes.HasPrefix(k, []byte("s\x00")):
			r = s.Throttle.Source
		}
		return json.Unmarshal(v, &t) != nil || r.Idle(t, now)
	})
	return err
}

// Event kinds counted per day.
const (
	EventRefused       = "refused"        // a certificate request refused, by reason
	EventVerifyUnknown = "verify_unknown" // /v/{id} for an id the hub never issued
	EventVerifyRevoked = "verify_revoked" // /v/{id} of a revoked certificate
	EventVerifyValid   = "verify_valid"
	EventSignature     = "signature" // a signed request refused, by reason
)

func eventKey(d protocol.Day, kind, reason string) []byte {
	k := append(d.Key(), 0)
	k = append(k, kind...)
	k = append(k, 0)
	return append(k, reason...)
}

// Count adds one to the day's counter of kind and reason, through bbolt's
// Batch so a burst of refusals shares commits.
func (s *Store) Count(at time.Time, kind, reason string) error {
	if len(reason) > 64 {
		reason = reason[:64]
	}
	k := eventKey(protocol.DayOf(at), kind, reason)
	return s.db.Batch(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketEvents)
		if err != nil {
			return err
		}
		var n uint64
		if v := b.Get(k); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		return b.Put(k, binary.BigEndian.AppendUint64(nil, n+1))
	})
}

// EventCount is one counter.
type EventCount struct {
	Day    protocol.Day
	Kind   string
	Reason string
	Count  uint64
}

// Events returns the counters of days from to to inclusive.
func (s *Store) Events(from, to protocol.Day) (out []EventCount, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketEvents)
		if err != nil {
			return err
		}
		c := b.Cursor()
		end := to.Key()
		for k, v := c.Seek(from.Key()); k != nil && bytes.Compare(k[:8], end) <= 0; k, v = c.Next() {
			parts := bytes.SplitN(k[9:], []byte{0}, 2)
			if len(parts) != 2 || len(v) != 8 {
				continue
			}
			d, err := protocol.ParseDay(fmt.Sprintf("%s-%s-%s", k[0:4], k[4:6], k[6:8]))
			if err != nil {
				continue
			}
			out = append(out, EventCount{Day: d, Kind: string(parts[0]), Reason: string(parts[1]), Count: binary.BigEndian.Uint64(v)})
		}
		return nil
	})
	return out, err
}

// DB is the underlying file.
func (s *Store) DB() *bbolt.DB { return s.db }
