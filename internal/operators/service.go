package operators

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/httpsig"
)

// Transactor runs functions in transactions whose values are of type T:
// a store.Store (T is store.Tx), or a store.Domain runner.
type Transactor[T any] interface {
	Update(ctx context.Context, fn func(T) error) error
	View(ctx context.Context, fn func(T) error) error
}

// Service is the operators' store as the API, the console and the
// commands use it: each method runs in a transaction of its own on any
// backend. It implements ClerkStore and httpsig.KeyResolver.
type Service struct {
	run func(ctx context.Context, write bool, fn func(Tx, func() (Policy, error)) error) error
	now func() time.Time
	// Policy is the city's policy when the service reads none from the
	// transaction, and what CurrentPolicy answers when it cannot read it.
	Policy Policy
	Rand   io.Reader // enrolment codes; crypto/rand when nil
}

// NewService returns the service on s, whose transactions hand out the
// operators' view through view. policyIn, when not nil, reads the city's
// policy as the same transaction sees it: the settings (package city)
// change while the hub runs, and an agreement is checked against the cap
// the transaction that stores it sees. now is the clock (time.Now when
// nil).
func NewService[T any](s Transactor[T], view func(T) Tx, policyIn func(T) (Policy, error), now func() time.Time, p Policy) *Service {
	if now == nil {
		now = time.Now
	}
	svc := &Service{now: now, Policy: p}
	svc.run = func(ctx context.Context, write bool, fn func(Tx, func() (Policy, error)) error) error {
		in := func(tx T) error {
			policy := func() (Policy, error) { return svc.Policy, nil }
			if policyIn != nil {
				policy = func() (Policy, error) { return policyIn(tx) }
			}
			return fn(view(tx), policy)
		}
		if write {
			return s.Update(ctx, in)
		}
		return s.View(ctx, in)
	}
	return svc
}

func (s *Service) update(fn func(Tx) error) error {
	return s.run(context.Background(), true, func(tx Tx, _ func() (Policy, error)) error { return fn(tx) })
}

func (s *Service) view(fn func(Tx) error) error {
	return s.run(context.Background(), false, func(tx Tx, _ func() (Policy, error)) error { return fn(tx) })
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// CurrentPolicy is the city's policy now. Should the settings be
// unreadable it falls back to Policy, so the directory still answers; a
// write checks the policy in its transaction and fails instead.
func (s *Service) CurrentPolicy() Policy {
	p := s.Policy
	_ = s.run(context.Background(), false, func(_ Tx, policy func() (Policy, error)) error {
		if got, err := policy(); err == nil {
			p = got
		}
		return nil
	})
	return p
}

// Add records a new application; it returns the operator with its id.
func (s *Service) Add(o *Operator, by string) error {
	return s.run(context.Background(), true, func(tx Tx, policy func() (Policy, error)) error {
		p, err := policy()
		if err != nil {
			return err
		}
		return AddOperator(tx, o, p, s.now(), by)
	})
}

// Update changes operator id with fn and stores it once it passes the
// city's policy as the same transaction sees it: a cap lowered meanwhile
// cannot let an agreement above it through.
func (s *Service) Update(id string, fn func(*Operator) error) (o *Operator, err error) {
	err = s.run(context.Background(), true, func(tx Tx, policy func() (Policy, error)) error {
		if o, err = tx.Operator(id); err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
		p, err := policy()
		if err != nil {
			return err
		}
		if err := o.Validate(p); err != nil {
			return err
		}
		return tx.PutOperator(o)
	})
	return o, err
}

// Get returns one operator.
func (s *Service) Get(id string) (o *Operator, err error) {
	err = s.view(func(tx Tx) error { o, err = tx.Operator(id); return err })
	return o, err
}

// List returns every operator in id order.
func (s *Service) List() (ops []*Operator, err error) {
	err = s.view(func(tx Tx) error { ops, err = tx.Operators(); return err })
	return ops, err
}

// SetStatus applies a lifecycle change.
func (s *Service) SetStatus(id string, to Status, by, reason string) (o *Operator, err error) {
	err = s.update(func(tx Tx) error { o, err = SetStatus(tx, id, to, s.now(), by, reason); return err })
	return o, err
}

// SetWidening sets (basis non-empty) or clears the legal basis on which
// operator id's agreement lets its counter issue about persons outside the
// requester's household (Agreement.Widening).
func (s *Service) SetWidening(id, basis string) (*Operator, error) {
	return s.Update(id, func(o *Operator) error {
		if o.Agreement == nil {
			return fmt.Errorf("%w: operator %s has no agreement to widen", ErrInvalid, id)
		}
		o.Agreement.Widening = strings.TrimSpace(basis)
		return nil
	})
}

// IssueCode makes an enrolment code for operator id valid for ttl
// (DefaultCodeTTL when 0).
func (s *Service) IssueCode(id, by string, ttl time.Duration) (code string, rec EnrolmentCode, err error) {
	err = s.update(func(tx Tx) error { code, rec, err = IssueCode(tx, s.Rand, id, by, s.now(), ttl); return err })
	return code, rec, err
}

// Codes returns the records of the enrolment codes issued for operator id,
// newest first.
func (s *Service) Codes(id string) (cs []EnrolmentCode, err error) {
	err = s.view(func(tx Tx) error { cs, err = tx.Codes(id); return err })
	return cs, err
}

// Enrol redeems an enrolment code for a device key.
func (s *Service) Enrol(code string, pub []byte, name string) (d *Device, err error) {
	err = s.update(func(tx Tx) error { d, err = Enrol(tx, code, pub, name, s.now()); return err })
	return d, err
}

// Device returns a device by key id.
func (s *Service) Device(keyID string) (d *Device, err error) {
	err = s.view(func(tx Tx) error { d, err = tx.Device(keyID); return err })
	return d, err
}

// Devices returns an operator's devices.
func (s *Service) Devices(id string) (ds []*Device, err error) {
	err = s.view(func(tx Tx) error { ds, err = tx.Devices(id); return err })
	return ds, err
}

func (s *Service) changeDevice(keyID string, change func(*Device, time.Time) error) (d *Device, err error) {
	at := s.now()
	err = s.update(func(tx Tx) error {
		d, err = ChangeDevice(tx, keyID, func(d *Device) error { return change(d, at) })
		return err
	})
	return d, err
}

// RevokeDevice switches a device off for good.
func (s *Service) RevokeDevice(keyID, by, reason string) (*Device, error) {
	return s.changeDevice(keyID, func(d *Device, at time.Time) error { return d.Revoke(at, by, reason) })
}

// SuspendDevice stops a device until staff reinstate it.
func (s *Service) SuspendDevice(keyID, by, reason string) (*Device, error) {
	return s.changeDevice(keyID, func(d *Device, at time.Time) error { return d.Suspend(at, by, reason) })
}

// ReinstateDevice lets a suspended device sign requests again.
func (s *Service) ReinstateDevice(keyID, by, note string) (*Device, error) {
	return s.changeDevice(keyID, func(d *Device, at time.Time) error { return d.Reinstate(at, by, note) })
}

// Touch records contact from a device, at most once per ContactInterval;
// the read comes first so the common case takes no write lock.
func (s *Service) Touch(keyID string) error {
	at := s.now()
	var stale bool
	if err := s.view(func(tx Tx) error {
		d, err := tx.Device(keyID)
		if err == nil {
			stale = at.Sub(d.LastContact) >= ContactInterval
		}
		return err
	}); err != nil || !stale {
		return err
	}
	return s.update(func(tx Tx) error { _, err := Touch(tx, keyID, at); return err })
}

// SetBacklog records a device's report of its offline queue, now.
func (s *Service) SetBacklog(keyID string, b Backlog) (out *Backlog, err error) {
	err = s.update(func(tx Tx) error { out, err = PutBacklog(tx, keyID, b, s.now()); return err })
	return out, err
}

// Backlog returns a device's last report of its offline queue, or nil.
func (s *Service) Backlog(keyID string) (b *Backlog, err error) {
	err = s.view(func(tx Tx) error { b, err = tx.Backlog(keyID); return err })
	return b, err
}

// Authorise returns the device enrolled under keyID and its operator if
// both may still sign requests, else an error wrapping httpsig's
// ErrUnknownKey, ErrKeyRevoked or ErrKeySuspended. An approved operator
// not yet active is let through: its kiosk may fetch the directory while
// the shop prepares, and issuing checks the operator's status itself.
func Authorise(tx Tx, keyID string) (*Device, *Operator, error) {
	d, err := tx.Device(keyID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: %v", httpsig.ErrUnknownKey, err)
	}
	if err != nil {
		return nil, nil, err
	}
	switch d.Status {
	case DeviceActive:
	case DeviceSuspended:
		return d, nil, fmt.Errorf("device %s is suspended until city staff review it: %w", keyID, httpsig.ErrKeySuspended)
	default:
		return d, nil, fmt.Errorf("device %s: %w", keyID, httpsig.ErrKeyRevoked)
	}
	o, err := tx.Operator(d.OperatorID)
	if errors.Is(err, ErrNotFound) {
		return d, nil, fmt.Errorf("%w: the operator of device %s is gone", httpsig.ErrUnknownKey, keyID)
	}
	if err != nil {
		return d, nil, err
	}
	switch o.Status {
	case Active, Approved:
		return d, o, nil
	case Revoked:
		return d, o, fmt.Errorf("operator %s: %w", o.ID, httpsig.ErrKeyRevoked)
	default:
		return d, o, fmt.Errorf("operator %s is %s: %w", o.ID, o.Status, httpsig.ErrKeySuspended)
	}
}

// Authorise returns the device and operator behind keyID, if they may sign.
func (s *Service) Authorise(keyID string) (d *Device, o *Operator, err error) {
	err = s.view(func(tx Tx) error { d, o, err = Authorise(tx, keyID); return err })
	return d, o, err
}

// ResolveKey implements httpsig.KeyResolver. It reads the device and its
// operator on every call, so a suspension or revocation holds from the very
// next request.
func (s *Service) ResolveKey(ctx context.Context, keyID string) (ed25519.PublicKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var d *Device
	var o *Operator
	err := s.run(ctx, false, func(tx Tx, _ func() (Policy, error)) (err error) {
		d, o, err = Authorise(tx, keyID)
		return err
	})
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
func suspensionNotice(d *Device, o *Operator) string {
	if d.Status == DeviceSuspended && len(d.History) > 0 {
		return d.History[len(d.History)-1].Reason
	}
	if o != nil && len(o.History) > 0 {
		return o.History[len(o.History)-1].Reason
	}
	return ""
}

// AddClerk implements ClerkStore.
func (s *Service) AddClerk(c *Clerk, by string) error {
	return s.update(func(tx Tx) error { return AddClerk(tx, c, s.now(), by) })
}

// Clerk implements ClerkStore.
func (s *Service) Clerk(id string) (c *Clerk, err error) {
	err = s.view(func(tx Tx) error { c, err = tx.Clerk(id); return err })
	return c, err
}

// ClerksByCF implements ClerkStore.
func (s *Service) ClerksByCF(cf string) (cs []*Clerk, err error) {
	err = s.view(func(tx Tx) error { cs, err = tx.ClerksByCF(cf); return err })
	return cs, err
}

// ClerkByNIS implements ClerkStore.
func (s *Service) ClerkByNIS(operatorID, nis string) (c *Clerk, err error) {
	err = s.view(func(tx Tx) error { c, err = tx.ClerkByNIS(operatorID, nis); return err })
	return c, err
}

// Clerks implements ClerkStore.
func (s *Service) Clerks(operatorID string) (cs []*Clerk, err error) {
	err = s.view(func(tx Tx) error { cs, err = tx.Clerks(operatorID); return err })
	return cs, err
}

// SetClerkStatus implements ClerkStore.
func (s *Service) SetClerkStatus(id string, to ClerkStatus, by, reason string) (c *Clerk, err error) {
	err = s.update(func(tx Tx) error { c, err = SetClerkStatus(tx, id, to, s.now(), by, reason); return err })
	return c, err
}

// UseTOTPStep implements ClerkStore.
func (s *Service) UseTOTPStep(id string, step int64) error {
	return s.update(func(tx Tx) error { return UseTOTPStep(tx, id, step) })
}

// StartClerkSession implements ClerkStore.
func (s *Service) StartClerkSession(cs ClerkSession) error {
	return s.update(func(tx Tx) error { return StartClerkSession(tx, cs) })
}

// ClerkSession implements ClerkStore.
func (s *Service) ClerkSession(hash string) (cs *ClerkSession, err error) {
	err = s.view(func(tx Tx) error { cs, err = tx.ClerkSession(hash); return err })
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: log in again", ErrSessionUnknown)
	}
	return cs, err
}

// EndClerkSession implements ClerkStore.
func (s *Service) EndClerkSession(hash string) error {
	return s.update(func(tx Tx) error { return tx.DeleteClerkSession(hash) })
}

var (
	_ ClerkStore          = (*Service)(nil)
	_ httpsig.KeyResolver = (*Service)(nil)
)
