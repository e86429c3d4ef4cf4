// Package adminbolt keeps the console's own records in the hub's bbolt
// file (staff.Tx): staff accounts, sessions, failed log-in tallies and
// daily counters of what the public API refused.
//
// Layout (values JSON unless said):
//
//	adm_staff     user → staff.Account
//	adm_sessions  hex SHA-256 of the cookie token → staff.Session
//	adm_events    YYYYMMDD ‖ 0x00 ‖ kind ‖ 0x00 ‖ reason → count (8 bytes big-endian)
//	adm_throttle  "p" ‖ 0x00 ‖ user ‖ 0x00 ‖ source, "s" ‖ 0x00 ‖ source, "a" ‖ 0x00 ‖ user → staff.Tally
//
// Throttle keys use staff.TallyUser of the name as typed.
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
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

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

// In is the console records' view of btx. In a read-only transaction its
// changes fail with bbolt's ErrTxNotWritable.
func In(btx *bbolt.Tx) staff.Tx { return txn{btx} }

type txn struct{ tx *bbolt.Tx }

// bucket returns the bucket name, made on a write's first use; nil when a
// read finds a file that never held the console's records.
func (t txn) bucket(name []byte) (*bbolt.Bucket, error) {
	if b := t.tx.Bucket(name); b != nil || !t.tx.Writable() {
		return b, nil
	}
	for _, n := range allBuckets {
		if _, err := t.tx.CreateBucketIfNotExists(n); err != nil {
			return nil, fmt.Errorf("cannot create the console's bucket %q: %w", n, err)
		}
	}
	return t.tx.Bucket(name), nil
}

// writable returns the bucket name for a change.
func (t txn) writable(name []byte) (*bbolt.Bucket, error) {
	if !t.tx.Writable() {
		return nil, bberrors.ErrTxNotWritable
	}
	return t.bucket(name)
}

func (t txn) AddAccount(a *staff.Account, replace bool) error {
	b, err := t.writable(bucketStaff)
	if err != nil {
		return err
	}
	if !replace && b.Get([]byte(a.User)) != nil {
		return fmt.Errorf("%w: %q; give --replace to set a new password and role", staff.ErrExists, a.User)
	}
	if err := t.ClearTallies(a.User); err != nil {
		return err
	}
	return t.PutAccount(a)
}

func (t txn) PutAccount(a *staff.Account) error {
	b, err := t.writable(bucketStaff)
	if err != nil {
		return err
	}
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.Put([]byte(a.User), v)
}

func (t txn) Account(user string) (*staff.Account, error) {
	b, err := t.bucket(bucketStaff)
	if err != nil {
		return nil, err
	}
	var v []byte
	if b != nil {
		v = b.Get([]byte(user))
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %q", staff.ErrNotFound, user)
	}
	a := new(staff.Account)
	if err := json.Unmarshal(v, a); err != nil {
		return nil, fmt.Errorf("the stored account %q is damaged: %w", user, err)
	}
	return a, nil
}

func (t txn) Accounts() ([]*staff.Account, error) {
	b, err := t.bucket(bucketStaff)
	if b == nil || err != nil {
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

func (t txn) PutSession(token string, sess *staff.Session) error {
	b, err := t.writable(bucketSessions)
	if err != nil {
		return err
	}
	v, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	return b.Put(tokenKey(token), v)
}

func (t txn) Session(token string) (*staff.Session, error) {
	b, err := t.bucket(bucketSessions)
	if err != nil {
		return nil, err
	}
	var v []byte
	if b != nil {
		v = b.Get(tokenKey(token))
	}
	if v == nil {
		return nil, staff.ErrNoSession
	}
	sess := new(staff.Session)
	if err := json.Unmarshal(v, sess); err != nil {
		return nil, fmt.Errorf("a stored session is damaged: %w", err)
	}
	return sess, nil
}

func (t txn) DeleteSession(token string) error {
	b, err := t.writable(bucketSessions)
	if err != nil {
		return err
	}
	return b.Delete(tokenKey(token))
}

func (t txn) EndSessions(user string) error {
	_, err := t.deleteSessions(func(sess staff.Session, damaged bool) bool { return !damaged && sess.User == user })
	return err
}

func (t txn) PurgeSessions(now time.Time) (int, error) {
	return t.deleteSessions(func(sess staff.Session, damaged bool) bool { return damaged || !sess.Live(now) })
}

// deleteSessions deletes the sessions gone picks and returns how many;
// damaged marks a stored session that no longer decodes.
func (t txn) deleteSessions(gone func(sess staff.Session, damaged bool) bool) (int, error) {
	b, err := t.writable(bucketSessions)
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

// throttle keys of one attempt: pair, source, account.
func tallyKeys(user, source string) [3][]byte {
	user = staff.TallyUser(user)
	return [3][]byte{
		[]byte("p\x00" + user + "\x00" + source),
		[]byte("s\x00" + source),
		[]byte("a\x00" + user),
	}
}

func (t txn) Tallies(user, source string, now time.Time) (staff.Tallies, error) {
	var ts staff.Tallies
	b, err := t.bucket(bucketThrottle)
	if b == nil || err != nil {
		return ts, err
	}
	for i, k := range tallyKeys(user, source) {
		v := b.Get(k)
		if v == nil {
			continue
		}
		dst := [3]*staff.Tally{&ts.Pair, &ts.Source, &ts.Account}[i]
		if err := json.Unmarshal(v, dst); err != nil {
			*dst = staff.Tally{Until: now.Add(time.Minute)}
		}
	}
	return ts, nil
}

func (t txn) PutTallies(user, source string, ts staff.Tallies) error {
	b, err := t.writable(bucketThrottle)
	if err != nil {
		return err
	}
	for i, k := range tallyKeys(user, source) {
		v, err := json.Marshal([3]staff.Tally{ts.Pair, ts.Source, ts.Account}[i])
		if err != nil {
			return err
		}
		if err := b.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (t txn) ClearTallies(user string) error {
	b, err := t.writable(bucketThrottle)
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

func (t txn) PurgeTallies(th staff.Throttle, now time.Time) error {
	b, err := t.writable(bucketThrottle)
	if err != nil {
		return err
	}
	_, err = deleteWhere(b, func(k, v []byte) bool {
		var ts staff.Tally
		r := th.Account
		switch {
		case bytes.HasPrefix(k, []byte("p\x00")):
			r = th.Pair
		case bytes.HasPrefix(k, []byte("s\x00")):
			r = th.Source
		}
		return json.Unmarshal(v, &ts) != nil || r.Idle(ts, now)
	})
	return err
}

func eventKey(d protocol.Day, kind, reason string) []byte {
	k := append(d.Key(), 0)
	k = append(k, kind...)
	k = append(k, 0)
	return append(k, reason...)
}

func (t txn) Count(day protocol.Day, kind, reason string) error {
	b, err := t.writable(bucketEvents)
	if err != nil {
		return err
	}
	k := eventKey(day, kind, reason)
	var n uint64
	if v := b.Get(k); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	return b.Put(k, binary.BigEndian.AppendUint64(nil, n+1))
}

func (t txn) Events(from, to protocol.Day) (out []staff.EventCount, err error) {
	b, err := t.bucket(bucketEvents)
	if b == nil || err != nil {
		return nil, err
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
		out = append(out, staff.EventCount{Day: d, Kind: string(parts[0]), Reason: string(parts[1]), Count: binary.BigEndian.Uint64(v)})
	}
	return out, nil
}

// ErrNotInitialised is kept for callers that tell a file without console
// records apart; In reads such a file as empty.
//
// Deprecated: In never returns it.
var ErrNotInitialised = errors.New("console store not initialised")

// Store is the console's operations on a bbolt file.
//
// Deprecated: use staff.NewService(store.Domain(s, store.Tx.Staff), now)
// on the hub's store.Store; kept until every caller has moved.
type Store = staff.Service

// Attempt is staff.Attempt.
type Attempt = staff.Attempt

// EventCount is staff.EventCount.
type EventCount = staff.EventCount

// Event kinds: staff's.
const (
	EventRefused       = staff.EventRefused
	EventVerifyUnknown = staff.EventVerifyUnknown
	EventVerifyRevoked = staff.EventVerifyRevoked
	EventVerifyValid   = staff.EventVerifyValid
	EventSignature     = staff.EventSignature
)

// New is the console's operations on db, each call its own transactions.
func New(db *bbolt.DB, now func() time.Time) (*Store, error) {
	return staff.NewService(runner{db}, now), nil
}

// Accounts returns every account as of tx.
func Accounts(tx *bbolt.Tx) ([]*staff.Account, error) { return In(tx).Accounts() }

type runner struct{ db *bbolt.DB }

func (r runner) Update(_ context.Context, fn func(staff.Tx) error) error {
	return r.db.Update(func(tx *bbolt.Tx) error { return fn(In(tx)) })
}

func (r runner) View(_ context.Context, fn func(staff.Tx) error) error {
	return r.db.View(func(tx *bbolt.Tx) error { return fn(In(tx)) })
}

func (r runner) Batch(_ context.Context, fn func(staff.Tx) error) error {
	return r.db.Batch(func(tx *bbolt.Tx) error { return fn(In(tx)) })
}
