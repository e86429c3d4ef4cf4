// Package opbolt keeps operators, their devices and enrolment codes in the
// hub's bbolt file, beside the registry, and answers the signed API's key
// look-ups from it.
//
// Layout (keys are byte strings; values JSON):
//
//	op_operators  operator id → operators.Operator
//	op_devices    key id → operators.Device
//	op_opdevices  operator id ‖ 0x00 ‖ key id → ∅
//	op_codes      code hash → operators.EnrolmentCode
//	op_backlog    key id → Backlog, the device's last report of its offline queue
//	op_clerks, op_clerksessions  clerks.go
//
// Operator ids are "op-" and the bucket's sequence, so they roll back with
// a failed transaction and are never reused.
package opbolt

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/operators"
)

var (
	bucketOperators = []byte("op_operators")
	bucketDevices   = []byte("op_devices")
	bucketOpDevices = []byte("op_opdevices")
	bucketCodes     = []byte("op_codes")
	bucketBacklog   = []byte("op_backlog") // backlog.go
	allBuckets      = [][]byte{bucketOperators, bucketDevices, bucketOpDevices, bucketCodes, bucketBacklog, bucketClerks, bucketClerkSessions}
)

// Errors; returned errors wrap them (and operators' own errors).
var (
	ErrNotInitialised = errors.New("operator store not initialised")
	ErrKeyInUse       = errors.New("public key already enrolled")
)

// Init creates the buckets. Call it once in a write transaction when the
// hub opens its file.
func Init(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("cannot create the operators' bucket %q: %w", name, err)
		}
	}
	return nil
}

func bucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("%w: call opbolt.Init when opening the hub's file", ErrNotInitialised)
	}
	return b, nil
}

// nextID draws the next id of bucket name: prefix, a dash and at least
// four digits ("op-0001").
func nextID(tx *bbolt.Tx, name []byte, prefix string) (string, error) {
	b, err := bucket(tx, name)
	if err != nil {
		return "", err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%04d", prefix, seq), nil
}

func get[T any](tx *bbolt.Tx, name []byte, key string, what string) (*T, error) {
	b, err := bucket(tx, name)
	if err != nil {
		return nil, err
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, fmt.Errorf("%w: no %s %q", operators.ErrNotFound, what, key)
	}
	out := new(T)
	if err := json.Unmarshal(v, out); err != nil {
		return nil, fmt.Errorf("the stored %s %q is damaged: %w", what, key, err)
	}
	return out, nil
}

func put(tx *bbolt.Tx, name []byte, key string, v any) error {
	b, err := bucket(tx, name)
	if err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

// AddOperator records a new application from o (its ID is assigned here)
// under policy p, by staff member by, at instant at.
func AddOperator(tx *bbolt.Tx, o *operators.Operator, p operators.Policy, at time.Time, by string) error {
	b, err := bucket(tx, bucketOperators)
	if err != nil {
		return err
	}
	if err := o.Apply(p, at, by); err != nil {
		return err
	}
	if err := b.ForEach(func(_, v []byte) error {
		var other operators.Operator
		if err := json.Unmarshal(v, &other); err != nil {
			return err
		}
		if other.PartitaIVA == o.PartitaIVA && other.Status != operators.Revoked && other.Category == o.Category &&
			other.Address.String() == o.Address.String() {
			return fmt.Errorf("%w: operator %s already has partita IVA %s at %s", operators.ErrInvalid, other.ID, o.PartitaIVA, o.Address)
		}
		return nil
	}); err != nil {
		return err
	}
	if o.ID, err = nextID(tx, bucketOperators, "op"); err != nil {
		return err
	}
	return put(tx, bucketOperators, o.ID, o)
}

// PutOperator stores o as it is (demo seeding, imports).
func PutOperator(tx *bbolt.Tx, o *operators.Operator) error {
	if o.ID == "" {
		return fmt.Errorf("%w: the operator has no id", operators.ErrInvalid)
	}
	return put(tx, bucketOperators, o.ID, o)
}

// Operator returns the operator with this id.
func Operator(tx *bbolt.Tx, id string) (*operators.Operator, error) {
	return get[operators.Operator](tx, bucketOperators, id, "operator")
}

// Operators returns every operator in id order.
func Operators(tx *bbolt.Tx) ([]*operators.Operator, error) {
	b, err := bucket(tx, bucketOperators)
	if err != nil {
		return nil, err
	}
	var out []*operators.Operator
	err = b.ForEach(func(k, v []byte) error {
		o := new(operators.Operator)
		if err := json.Unmarshal(v, o); err != nil {
			return fmt.Errorf("the stored operator %q is damaged: %w", k, err)
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

// SetStatus applies a lifecycle change to operator id.
func SetStatus(tx *bbolt.Tx, id string, to operators.Status, at time.Time, by, reason string) (*operators.Operator, error) {
	o, err := Operator(tx, id)
	if err != nil {
		return nil, err
	}
	if err := o.Transition(to, at, by, reason); err != nil {
		return nil, err
	}
	return o, put(tx, bucketOperators, o.ID, o)
}

// IssueCode makes a one-time enrolment code for operator id and stores its
// hash. It returns the code itself, which is shown once and never stored.
func IssueCode(tx *bbolt.Tx, r io.Reader, id, by string, at time.Time, ttl time.Duration) (string, operators.EnrolmentCode, error) {
	o, err := Operator(tx, id)
	if err != nil {
		return "", operators.EnrolmentCode{}, err
	}
	code, rec, err := operators.NewEnrolmentCode(r, o, by, at, ttl)
	if err != nil {
		return "", rec, err
	}
	return code, rec, put(tx, bucketCodes, rec.Hash, rec)
}

// Enrol redeems code for public key pub: it checks the code, marks it used
// and stores the new device, all in tx.
func Enrol(tx *bbolt.Tx, code string, pub []byte, name string, at time.Time) (*operators.Device, error) {
	rec, err := get[operators.EnrolmentCode](tx, bucketCodes, operators.HashCode(code), "code")
	if errors.Is(err, operators.ErrNotFound) {
		return nil, fmt.Errorf("%w: check it was typed as given by city staff", operators.ErrCodeUnknown)
	}
	if err != nil {
		return nil, err
	}
	o, err := Operator(tx, rec.OperatorID)
	if err != nil {
		return nil, err
	}
	d, err := operators.NewDevice(o, pub, name, at)
	if err != nil {
		return nil, err
	}
	if err := rec.Redeem(at, d.KeyID); err != nil {
		return nil, err
	}
	devs, err := bucket(tx, bucketDevices)
	if err != nil {
		return nil, err
	}
	if devs.Get([]byte(d.KeyID)) != nil {
		return nil, fmt.Errorf("%w: this device key is enrolled already as %s; make a new key", ErrKeyInUse, d.KeyID)
	}
	if err := put(tx, bucketCodes, rec.Hash, rec); err != nil {
		return nil, err
	}
	if err := put(tx, bucketDevices, d.KeyID, d); err != nil {
		return nil, err
	}
	return d, tx.Bucket(bucketOpDevices).Put(opDeviceKey(d.OperatorID, d.KeyID), nil)
}

func opDeviceKey(opID, keyID string) []byte {
	return append(append([]byte(opID), 0), keyID...)
}

// Device returns the device enrolled under keyID.
func Device(tx *bbolt.Tx, keyID string) (*operators.Device, error) {
	return get[operators.Device](tx, bucketDevices, keyID, "device")
}

// Devices returns operator id's devices in key id order.
func Devices(tx *bbolt.Tx, id string) ([]*operators.Device, error) {
	b, err := bucket(tx, bucketOpDevices)
	if err != nil {
		return nil, err
	}
	prefix := append([]byte(id), 0)
	var out []*operators.Device
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		d, err := Device(tx, string(k[len(prefix):]))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// RevokeDevice switches a device off for good.
func RevokeDevice(tx *bbolt.Tx, keyID string, at time.Time, by, reason string) (*operators.Device, error) {
	d, err := Device(tx, keyID)
	if err != nil {
		return nil, err
	}
	if err := d.Revoke(at, by, reason); err != nil {
		return nil, err
	}
	return d, put(tx, bucketDevices, d.KeyID, d)
}

// SuspendDevice stops a device until staff reinstate it.
func SuspendDevice(tx *bbolt.Tx, keyID string, at time.Time, by, reason string) (*operators.Device, error) {
	return changeDevice(tx, keyID, func(d *operators.Device) error { return d.Suspend(at, by, reason) })
}

// ReinstateDevice lets a suspended device sign requests again.
func ReinstateDevice(tx *bbolt.Tx, keyID string, at time.Time, by, note string) (*operators.Device, error) {
	return changeDevice(tx, keyID, func(d *operators.Device) error { return d.Reinstate(at, by, note) })
}

func changeDevice(tx *bbolt.Tx, keyID string, change func(*operators.Device) error) (*operators.Device, error) {
	d, err := Device(tx, keyID)
	if err != nil {
		return nil, err
	}
	if err := change(d); err != nil {
		return nil, err
	}
	return d, put(tx, bucketDevices, d.KeyID, d)
}

// ContactInterval is how stale a device's last contact may get before a
// request rewrites it: a write per request would cost a disk sync each.
const ContactInterval = 5 * time.Minute

// Touch records that device keyID was heard from at instant at, when the
// stored time is older than ContactInterval. It reports whether it wrote.
func Touch(tx *bbolt.Tx, keyID string, at time.Time) (bool, error) {
	d, err := Device(tx, keyID)
	if err != nil {
		return false, err
	}
	if at.Sub(d.LastContact) < ContactInterval {
		return false, nil
	}
	d.LastContact = at.UTC()
	return true, put(tx, bucketDevices, d.KeyID, d)
}

// Authorise returns the device enrolled under keyID and its operator if
// both may still sign requests, else an error wrapping httpsig's
// ErrUnknownKey, ErrKeyRevoked or ErrKeySuspended. An approved operator
// not yet active is let through: its kiosk may fetch the directory while
// the shop prepares, and issuing checks the operator's status itself.
func Authorise(tx *bbolt.Tx, keyID string) (*operators.Device, *operators.Operator, error) {
	d, err := Device(tx, keyID)
	if errors.Is(err, operators.ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: %v", httpsig.ErrUnknownKey, err)
	}
	if err != nil {
		return nil, nil, err
	}
	switch d.Status {
	case operators.DeviceActive:
	case operators.DeviceSuspended:
		return d, nil, fmt.Errorf("device %s is suspended until city staff review it: %w", keyID, httpsig.ErrKeySuspended)
	default:
		return d, nil, fmt.Errorf("device %s: %w", keyID, httpsig.ErrKeyRevoked)
	}
	o, err := Operator(tx, d.OperatorID)
	if errors.Is(err, operators.ErrNotFound) {
		return d, nil, fmt.Errorf("%w: the operator of device %s is gone", httpsig.ErrUnknownKey, keyID)
	}
	if err != nil {
		return d, nil, err
	}
	switch o.Status {
	case operators.Active, operators.Approved:
		return d, o, nil
	case operators.Revoked:
		return d, o, fmt.Errorf("operator %s: %w", o.ID, httpsig.ErrKeyRevoked)
	default:
		return d, o, fmt.Errorf("operator %s is %s: %w", o.ID, o.Status, httpsig.ErrKeySuspended)
	}
}

// Store runs the functions above in their own transactions on the hub's
// file, and resolves request keys for httpsig.
type Store struct {
	db  *bbolt.DB
	now func() time.Time
	// Policy is the city's policy when PolicyIn is nil.
	Policy operators.Policy
	// PolicyIn, when set, reads the city's policy inside a transaction:
	// settings kept in the same file (package city) change while the hub
	// runs, and an agreement is checked against the cap the transaction
	// that stores it sees.
	PolicyIn func(*bbolt.Tx) (operators.Policy, error)
	Rand     io.Reader // enrolment codes; crypto/rand when nil
}

// New opens the operator store on db, creating its buckets if needed
// (db must be writable then; a read-only db must already have them).
func New(db *bbolt.DB, now func() time.Time, p operators.Policy) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	s := &Store{db: db, now: now, Policy: p}
	if db.IsReadOnly() {
		return s, nil
	}
	if err := db.Update(Init); err != nil {
		return nil, err
	}
	return s, nil
}

// DB is the underlying file.
func (s *Store) DB() *bbolt.DB { return s.db }

// View runs fn in a read transaction.
func (s *Store) View(fn func(*bbolt.Tx) error) error { return s.db.View(fn) }

// Update runs fn in a write transaction.
func (s *Store) Update(fn func(*bbolt.Tx) error) error { return s.db.Update(fn) }

// PolicyAt is the city's policy as of tx.
func (s *Store) PolicyAt(tx *bbolt.Tx) (operators.Policy, error) {
	if s.PolicyIn == nil {
		return s.Policy, nil
	}
	return s.PolicyIn(tx)
}

// CurrentPolicy is the city's policy now. Should the settings be
// unreadable it falls back to Policy, so the directory still answers; a
// write checks the policy with PolicyAt and fails instead.
func (s *Store) CurrentPolicy() operators.Policy {
	p := s.Policy
	if s.PolicyIn != nil {
		_ = s.db.View(func(tx *bbolt.Tx) error {
			got, err := s.PolicyIn(tx)
			if err == nil {
				p = got
			}
			return nil
		})
	}
	return p
}

// Add records a new application; it returns the operator with its id.
func (s *Store) Add(o *operators.Operator, by string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		p, err := s.PolicyAt(tx)
		if err != nil {
			return err
		}
		return AddOperator(tx, o, p, s.now(), by)
	})
}

// Get returns one operator.
func (s *Store) Get(id string) (o *operators.Operator, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { o, err = Operator(tx, id); return err })
	return o, err
}

// List returns every operator in id order.
func (s *Store) List() (ops []*operators.Operator, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { ops, err = Operators(tx); return err })
	return ops, err
}

// SetStatus applies a lifecycle change.
func (s *Store) SetStatus(id string, to operators.Status, by, reason string) (o *operators.Operator, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { o, err = SetStatus(tx, id, to, s.now(), by, reason); return err })
	return o, err
}

// SetWidening sets (basis non-empty) or clears the legal basis on which
// operator id's agreement lets its counter issue about persons outside the
// requester's household (operators.Agreement.Widening).
func (s *Store) SetWidening(id, basis string) (o *operators.Operator, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if o, err = Operator(tx, id); err != nil {
			return err
		}
		if o.Agreement == nil {
			return fmt.Errorf("%w: operator %s has no agreement to widen", operators.ErrInvalid, id)
		}
		o.Agreement.Widening = strings.TrimSpace(basis)
		p, err := s.PolicyAt(tx)
		if err != nil {
			return err
		}
		if err := o.Validate(p); err != nil {
			return err
		}
		return PutOperator(tx, o)
	})
	return o, err
}

// IssueCode makes an enrolment code for operator id valid for ttl
// (operators.DefaultCodeTTL when 0).
func (s *Store) IssueCode(id, by string, ttl time.Duration) (code string, rec operators.EnrolmentCode, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { code, rec, err = IssueCode(tx, s.Rand, id, by, s.now(), ttl); return err })
	return code, rec, err
}

// Enrol redeems an enrolment code for a device key.
func (s *Store) Enrol(code string, pub []byte, name string) (d *operators.Device, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { d, err = Enrol(tx, code, pub, name, s.now()); return err })
	return d, err
}

// Device returns a device by key id.
func (s *Store) Device(keyID string) (d *operators.Device, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { d, err = Device(tx, keyID); return err })
	return d, err
}

// Devices returns an operator's devices.
func (s *Store) Devices(id string) (ds []*operators.Device, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { ds, err = Devices(tx, id); return err })
	return ds, err
}

// RevokeDevice switches a device off.
func (s *Store) RevokeDevice(keyID, by, reason string) (d *operators.Device, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { d, err = RevokeDevice(tx, keyID, s.now(), by, reason); return err })
	return d, err
}

// SuspendDevice stops a device until staff reinstate it.
func (s *Store) SuspendDevice(keyID, by, reason string) (d *operators.Device, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { d, err = SuspendDevice(tx, keyID, s.now(), by, reason); return err })
	return d, err
}

// ReinstateDevice lets a suspended device sign requests again.
func (s *Store) ReinstateDevice(keyID, by, note string) (d *operators.Device, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { d, err = ReinstateDevice(tx, keyID, s.now(), by, note); return err })
	return d, err
}

// Touch records contact from a device, at most once per ContactInterval;
// the read comes first so the common case takes no write lock.
func (s *Store) Touch(keyID string) error {
	at := s.now()
	var stale bool
	if err := s.db.View(func(tx *bbolt.Tx) error {
		d, err := Device(tx, keyID)
		if err == nil {
			stale = at.Sub(d.LastContact) >= ContactInterval
		}
		return err
	}); err != nil || !stale {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error { _, err := Touch(tx, keyID, at); return err })
}

// Authorise returns the device and operator behind keyID, if they may sign.
func (s *Store) Authorise(keyID string) (d *operators.Device, o *operators.Operator, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { d, o, err = Authorise(tx, keyID); return err })
	return d, o, err
}

// ResolveKey implements httpsig.KeyResolver. It reads the device and its
// operator on every call, so a suspension or revocation holds from the very
// next request.
func (s *Store) ResolveKey(ctx context.Context, keyID string) (ed25519.PublicKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, o, err := s.Authorise(keyID)
	if errors.Is(err, httpsig.ErrKeySuspended) && d != nil {
		// The city's reason goes with the refusal, to the device only
		// (httpsig.Suspension): the shop sees why, not just "suspended".
		return nil, &httpsig.Suspension{Key: d.PublicKey, Notice: suspensionNotice(d, o), Err: err}
	}
	if err != nil {
		return nil, err
	}
	return d.PublicKey, nil
}

// suspensionNotice is the reason city staff gave when they last suspended
// the device, or else its operator.
func suspensionNotice(d *operators.Device, o *operators.Operator) string {
	if d.Status == operators.DeviceSuspended && len(d.History) > 0 {
		return d.History[len(d.History)-1].Reason
	}
	if o != nil && len(o.History) > 0 {
		return o.History[len(o.History)-1].Reason
	}
	return ""
}

var _ httpsig.KeyResolver = (*Store)(nil)
