package operators

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// ErrKeyInUse is a device key enrolled already: every device has a key of
// its own, so a second enrolment must make a new one.
var ErrKeyInUse = errors.New("public key already enrolled")

// Tx is the operators' view of one hub transaction (store.Tx.Operators):
// operators, their devices and enrolment codes, the devices' backlog
// reports, clerks and clerk sessions. It stores and finds; the rules
// (lifecycle, policy, code redemption) are this package's functions on a
// Tx below, so every backend keeps the same ones. Records come back as
// fresh copies: changing one changes nothing until it is put back.
//
// Absent records are ErrNotFound. In a read-only transaction every change
// fails (store.ErrReadOnly).
type Tx interface {
	// AddOperator assigns o its id, "op-" and at least four digits from a
	// sequence that is never reused, and stores it. It refuses with
	// ErrInvalid a second operator, not revoked, of the same category with
	// the same partita IVA at the same address.
	AddOperator(o *Operator) error
	// PutOperator stores a change to a stored operator.
	PutOperator(o *Operator) error
	// Operator returns the operator with this id.
	Operator(id string) (*Operator, error)
	// Operators returns every operator in id order.
	Operators() ([]*Operator, error)

	// PutCode stores an enrolment code's record under its hash, new or
	// redeemed.
	PutCode(c EnrolmentCode) error
	// Code returns the record of the code whose hash is hash.
	Code(hash string) (*EnrolmentCode, error)
	// Codes returns the records of the codes issued for operator id,
	// newest first.
	Codes(operatorID string) ([]EnrolmentCode, error)

	// AddDevice stores a newly enrolled device; ErrKeyInUse when its key
	// id is enrolled already.
	AddDevice(d *Device) error
	// PutDevice stores a change to an enrolled device.
	PutDevice(d *Device) error
	// Device returns the device enrolled under keyID.
	Device(keyID string) (*Device, error)
	// Devices returns operator id's devices in key id order.
	Devices(operatorID string) ([]*Device, error)

	// PutBacklog replaces the device's last report of its offline queue.
	PutBacklog(b Backlog) error
	// Backlog returns device keyID's last report, or nil and no error
	// when it never reported.
	Backlog(keyID string) (*Backlog, error)

	// AddClerk assigns c its id, "cl-" and at least four digits from a
	// sequence that is never reused, and stores it; ErrInvalid when the
	// same person (codice fiscale) is a clerk of that operator already.
	AddClerk(c *Clerk) error
	// PutClerk stores a change to a clerk.
	PutClerk(c *Clerk) error
	// Clerk returns one clerk.
	Clerk(id string) (*Clerk, error)
	// Clerks returns the clerks of operator id, or every clerk when id is
	// empty, in id order.
	Clerks(operatorID string) ([]*Clerk, error)
	// ClerksByCF returns one person's clerk records, one per shop, in id
	// order.
	ClerksByCF(cf string) ([]*Clerk, error)
	// ClerkByNIS returns the clerk of operatorID whose record names this
	// CIE.
	ClerkByNIS(operatorID, nis string) (*Clerk, error)
	// PutClerkSession stores a session under its token hash.
	PutClerkSession(s ClerkSession) error
	// ClerkSession returns the session whose token hashes to hash.
	ClerkSession(hash string) (*ClerkSession, error)
	// DeleteClerkSession deletes one session; deleting an unknown one is
	// not an error.
	DeleteClerkSession(hash string) error
	// DeleteClerkSessions deletes every session of clerk id.
	DeleteClerkSessions(clerkID string) error

	Restorer
}

// AddOperator records a new application from o (its ID is assigned by the
// store) under policy p, by staff member by, at instant at.
func AddOperator(tx Tx, o *Operator, p Policy, at time.Time, by string) error {
	if err := o.Apply(p, at, by); err != nil {
		return err
	}
	return tx.AddOperator(o)
}

// SetStatus applies a lifecycle change to operator id.
func SetStatus(tx Tx, id string, to Status, at time.Time, by, reason string) (*Operator, error) {
	o, err := tx.Operator(id)
	if err != nil {
		return nil, err
	}
	if err := o.Transition(to, at, by, reason); err != nil {
		return nil, err
	}
	return o, tx.PutOperator(o)
}

// IssueCode makes a one-time enrolment code for operator id and stores its
// hash. It returns the code itself, which is shown once and never stored.
func IssueCode(tx Tx, r io.Reader, id, by string, at time.Time, ttl time.Duration) (string, EnrolmentCode, error) {
	o, err := tx.Operator(id)
	if err != nil {
		return "", EnrolmentCode{}, err
	}
	code, rec, err := NewEnrolmentCode(r, o, by, at, ttl)
	if err != nil {
		return "", rec, err
	}
	return code, rec, tx.PutCode(rec)
}

// Enrol redeems code for public key pub: it checks the code, marks it used
// and stores the new device, all in tx.
func Enrol(tx Tx, code string, pub []byte, name string, at time.Time) (*Device, error) {
	rec, err := tx.Code(HashCode(code))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: check it was typed as given by city staff", ErrCodeUnknown)
	}
	if err != nil {
		return nil, err
	}
	o, err := tx.Operator(rec.OperatorID)
	if err != nil {
		return nil, err
	}
	d, err := NewDevice(o, pub, name, at)
	if err != nil {
		return nil, err
	}
	if err := rec.Redeem(at, d.KeyID); err != nil {
		return nil, err
	}
	if err := tx.AddDevice(d); err != nil {
		if errors.Is(err, ErrKeyInUse) {
			return nil, fmt.Errorf("%w: this device key is enrolled already as %s; make a new key", ErrKeyInUse, d.KeyID)
		}
		return nil, err
	}
	return d, tx.PutCode(*rec)
}

// ChangeDevice applies change to device keyID and stores it.
func ChangeDevice(tx Tx, keyID string, change func(*Device) error) (*Device, error) {
	d, err := tx.Device(keyID)
	if err != nil {
		return nil, err
	}
	if err := change(d); err != nil {
		return nil, err
	}
	return d, tx.PutDevice(d)
}

// ContactInterval is how stale a device's last contact may get before a
// request rewrites it: a write per request would cost a disk sync each.
const ContactInterval = 5 * time.Minute

// Touch records that device keyID was heard from at instant at, when the
// stored time is older than ContactInterval. It reports whether it wrote.
func Touch(tx Tx, keyID string, at time.Time) (bool, error) {
	d, err := tx.Device(keyID)
	if err != nil {
		return false, err
	}
	if at.Sub(d.LastContact) < ContactInterval {
		return false, nil
	}
	d.LastContact = at.UTC()
	return true, tx.PutDevice(d)
}

// PutBacklog records device keyID's report at instant at, replacing the
// previous one.
func PutBacklog(tx Tx, keyID string, b Backlog, at time.Time) (*Backlog, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if _, err := tx.Device(keyID); err != nil {
		return nil, err
	}
	b.KeyID, b.Reported = keyID, at.UTC()
	return &b, tx.PutBacklog(b)
}

// AddClerk enables clerk c for its operator, which must exist and not be
// revoked; the store assigns its id. The same person may be enabled once
// per operator.
func AddClerk(tx Tx, c *Clerk, at time.Time, by string) error {
	if err := c.Enable(at, by); err != nil {
		return err
	}
	o, err := tx.Operator(c.OperatorID)
	if err != nil {
		return err
	}
	if o.Status == Revoked {
		return fmt.Errorf("%w: operator %s was revoked", ErrInvalid, o.ID)
	}
	return tx.AddClerk(c)
}

// SetClerkStatus suspends or reinstates clerk id. A suspended clerk's
// sessions stay, so that a request under one is answered "suspended"
// rather than "log in"; a reinstatement deletes them, so none comes back.
func SetClerkStatus(tx Tx, id string, to ClerkStatus, at time.Time, by, reason string) (*Clerk, error) {
	c, err := tx.Clerk(id)
	if err != nil {
		return nil, err
	}
	if err := c.Transition(to, at, by, reason); err != nil {
		return nil, err
	}
	if to == ClerkActive {
		if err := tx.DeleteClerkSessions(c.ID); err != nil {
			return nil, err
		}
	}
	return c, tx.PutClerk(c)
}

// UseTOTPStep records step as clerk id's last accepted code, failing with
// ErrClerkTOTPReused when it is not later than the one recorded.
func UseTOTPStep(tx Tx, id string, step int64) error {
	c, err := tx.Clerk(id)
	if err != nil {
		return err
	}
	if step <= c.LastTOTPStep {
		return fmt.Errorf("%w: wait for the next code", ErrClerkTOTPReused)
	}
	c.LastTOTPStep = step
	return tx.PutClerk(c)
}

// StartClerkSession stores session s of a known clerk.
func StartClerkSession(tx Tx, s ClerkSession) error {
	if s.Hash == "" || s.ClerkID == "" {
		return fmt.Errorf("%w: a session needs its token hash and clerk", ErrInvalid)
	}
	if _, err := tx.Clerk(s.ClerkID); err != nil {
		return err
	}
	return tx.PutClerkSession(s)
}

// SameShop reports whether stored operator other, not revoked, is the
// shop that application o describes again: same category, partita IVA and
// address. Every store refuses such a second application.
func SameShop(other, o *Operator) bool {
	return other.Status != Revoked && other.PartitaIVA == o.PartitaIVA && other.Category == o.Category &&
		other.Address.String() == o.Address.String()
}

// SortCodes orders enrolment codes newest first, as Tx.Codes returns them.
func SortCodes(cs []EnrolmentCode) {
	slices.SortStableFunc(cs, func(a, b EnrolmentCode) int {
		if c := b.IssuedAt.Compare(a.IssuedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Hash, b.Hash)
	})
}
