// Package adminbolt keeps the console's own records in the hub's bbolt
// file: staff accounts, sessions, and daily counters of what the public
// API refused.
//
// Layout (values JSON unless said):
//
//	adm_staff     user → staff.Account
//	adm_sessions  hex SHA-256 of the cookie token → staff.Session
//	adm_events    YYYYMMDD ‖ 0x00 ‖ kind ‖ 0x00 ‖ reason → count (8 bytes big-endian)
package adminbolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/protocol"
)

var (
	bucketStaff    = []byte("adm_staff")
	bucketSessions = []byte("adm_sessions")
	bucketEvents   = []byte("adm_events")
	allBuckets     = [][]byte{bucketStaff, bucketSessions, bucketEvents}
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
	db      *bbolt.DB
	now     func() time.Time
	Rand    io.Reader // tokens and salts; crypto/rand when nil
	Lockout staff.Lockout
}

// New creates the buckets in db and returns the store.
func New(db *bbolt.DB, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	if err := db.Update(Init); err != nil {
		return nil, err
	}
	return &Store{db: db, now: now, Lockout: staff.DefaultLockout}, nil
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
// in before. Disabling the last enabled admin is refused: nobody could
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
// damaged marks a stored session that no longer decodes. Keys are gathered
// first because bbolt forbids deleting during ForEach.
func deleteSessions(tx *bbolt.Tx, gone func(sess staff.Session, damaged bool) bool) (int, error) {
	b, err := bucket(tx, bucketSessions)
	if err != nil {
		return 0, err
	}
	var dead [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		var sess staff.Session
		damaged := json.Unmarshal(v, &sess) != nil
		if gone(sess, damaged) {
			dead = append(dead, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}

// Login checks an attempt and, on success, opens a session: it returns the
// cookie token. The password is hashed outside any transaction, so a
// log-in never holds the file's write lock for the length of argon2; the
// outcome is then written against the account as it is by then.
func (s *Store) Login(user, password, code string) (token string, sess *staff.Session, a *staff.Account, err error) {
	at := s.now()
	a, err = s.Account(user)
	if errors.Is(err, staff.ErrNotFound) {
		staff.Waste(password)
		return "", nil, nil, staff.ErrBadLogin
	}
	if err != nil {
		return "", nil, nil, err
	}
	loginErr := a.Login(staff.Attempt{Password: password, Code: code, At: at}, s.Lockout)
	err = s.db.Update(func(tx *bbolt.Tx) error {
		cur, err := Account(tx, user)
		if err != nil {
			return err
		}
		// Keep failures recorded meanwhile by concurrent attempts.
		if loginErr != nil {
			cur.Failures = mergeTimes(cur.Failures, a.Failures)
		} else {
			cur.Failures, cur.LastLogin, cur.LastTOTPStep = nil, a.LastLogin, max(cur.LastTOTPStep, a.LastTOTPStep)
		}
		if err := PutAccount(tx, cur); err != nil || loginErr != nil {
			return err
		}
		token, sess, err = staff.NewSession(s.Rand, user, at)
		if err != nil {
			return err
		}
		return putSession(tx, token, sess)
	})
	if err == nil {
		err = loginErr
	}
	if err != nil {
		return "", nil, a, err
	}
	return token, sess, a, nil
}

func mergeTimes(a, b []time.Time) []time.Time {
	seen := map[int64]bool{}
	var out []time.Time
	for _, t := range append(append([]time.Time(nil), a...), b...) {
		if !seen[t.UnixNano()] {
			seen[t.UnixNano()] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
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

// PurgeSessions deletes sessions no longer live; it returns how many.
func (s *Store) PurgeSessions() (n int, err error) {
	now := s.now()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		n, err = deleteSessions(tx, func(sess staff.Session, damaged bool) bool {
			return damaged || !sess.Live(now)
		})
		return err
	})
	return n, err
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
