package opbolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/operators"
)

// Clerks and their sessions:
//
//	op_clerks         clerk id → operators.Clerk
//	op_clerksessions  token hash → operators.ClerkSession
//
// Clerk ids are "cl-" and the bucket's sequence. A file made before clerks
// existed gets the buckets when the hub next opens it for writing; a
// read-only look at such a file sees no clerks.
var (
	bucketClerks        = []byte("op_clerks")
	bucketClerkSessions = []byte("op_clerksessions")
)

// AddClerk enables clerk c for its operator, which must exist and not be
// revoked, and assigns its id. The same person may be enabled once per
// operator.
func AddClerk(tx *bbolt.Tx, c *operators.Clerk, at time.Time, by string) error {
	if err := c.Enable(at, by); err != nil {
		return err
	}
	o, err := Operator(tx, c.OperatorID)
	if err != nil {
		return err
	}
	if o.Status == operators.Revoked {
		return fmt.Errorf("%w: operator %s was revoked", operators.ErrInvalid, o.ID)
	}
	others, err := clerksWhere(tx, func(x *operators.Clerk) bool { return x.CF == c.CF && x.OperatorID == c.OperatorID })
	if err != nil {
		return err
	}
	if len(others) > 0 {
		return fmt.Errorf("%w: %s is already clerk %s of operator %s; reinstate that record instead", operators.ErrInvalid, c.CF, others[0].ID, c.OperatorID)
	}
	if c.ID, err = nextID(tx, bucketClerks, "cl"); err != nil {
		return err
	}
	return put(tx, bucketClerks, c.ID, c)
}

// Clerk returns one clerk.
func Clerk(tx *bbolt.Tx, id string) (*operators.Clerk, error) {
	if tx.Bucket(bucketClerks) == nil {
		return nil, fmt.Errorf("%w: no clerk %q", operators.ErrNotFound, id)
	}
	return get[operators.Clerk](tx, bucketClerks, id, "clerk")
}

func clerksWhere(tx *bbolt.Tx, keep func(*operators.Clerk) bool) ([]*operators.Clerk, error) {
	b := tx.Bucket(bucketClerks)
	if b == nil {
		return nil, nil
	}
	var out []*operators.Clerk
	err := b.ForEach(func(k, v []byte) error {
		c := new(operators.Clerk)
		if err := json.Unmarshal(v, c); err != nil {
			return fmt.Errorf("the stored clerk %q is damaged: %w", k, err)
		}
		if keep(c) {
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// Clerks returns the clerks of operator id, or every clerk when id is "".
func Clerks(tx *bbolt.Tx, id string) ([]*operators.Clerk, error) {
	return clerksWhere(tx, func(c *operators.Clerk) bool { return id == "" || c.OperatorID == id })
}

// SetClerkStatus suspends or reinstates clerk id. A suspended clerk's
// sessions stay, so that a request under one is answered "suspended"
// rather than "log in"; a reinstatement deletes them, so none comes back.
func SetClerkStatus(tx *bbolt.Tx, id string, to operators.ClerkStatus, at time.Time, by, reason string) (*operators.Clerk, error) {
	c, err := Clerk(tx, id)
	if err != nil {
		return nil, err
	}
	if err := c.Transition(to, at, by, reason); err != nil {
		return nil, err
	}
	if to == operators.ClerkActive {
		if err := endSessionsOf(tx, c.ID); err != nil {
			return nil, err
		}
	}
	return c, put(tx, bucketClerks, c.ID, c)
}

func endSessionsOf(tx *bbolt.Tx, clerkID string) error {
	b, err := bucket(tx, bucketClerkSessions)
	if err != nil {
		return err
	}
	var doomed [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		var s operators.ClerkSession
		if json.Unmarshal(v, &s) != nil || s.ClerkID == clerkID {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// AddClerk implements operators.ClerkStore.
func (s *Store) AddClerk(c *operators.Clerk, by string) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return AddClerk(tx, c, s.now(), by) })
}

// Clerk implements operators.ClerkStore.
func (s *Store) Clerk(id string) (c *operators.Clerk, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { c, err = Clerk(tx, id); return err })
	return c, err
}

// ClerksByCF implements operators.ClerkStore.
func (s *Store) ClerksByCF(cf string) (cs []*operators.Clerk, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		cs, err = clerksWhere(tx, func(c *operators.Clerk) bool { return c.CF == cf })
		return err
	})
	return cs, err
}

// ClerkByNIS implements operators.ClerkStore.
func (s *Store) ClerkByNIS(operatorID, nis string) (*operators.Clerk, error) {
	var cs []*operators.Clerk
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		cs, err = clerksWhere(tx, func(c *operators.Clerk) bool { return c.NIS != "" && c.NIS == nis && c.OperatorID == operatorID })
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: no clerk of operator %s holds the CIE %s", operators.ErrNotFound, operatorID, nis)
	}
	return cs[0], nil
}

// Clerks implements operators.ClerkStore.
func (s *Store) Clerks(operatorID string) (cs []*operators.Clerk, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { cs, err = Clerks(tx, operatorID); return err })
	return cs, err
}

// SetClerkStatus implements operators.ClerkStore.
func (s *Store) SetClerkStatus(id string, to operators.ClerkStatus, by, reason string) (c *operators.Clerk, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { c, err = SetClerkStatus(tx, id, to, s.now(), by, reason); return err })
	return c, err
}

// UseTOTPStep implements operators.ClerkStore.
func (s *Store) UseTOTPStep(id string, step int64) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		c, err := Clerk(tx, id)
		if err != nil {
			return err
		}
		if step <= c.LastTOTPStep {
			return fmt.Errorf("%w: wait for the next code", operators.ErrClerkTOTPReused)
		}
		c.LastTOTPStep = step
		return put(tx, bucketClerks, c.ID, c)
	})
}

// StartClerkSession implements operators.ClerkStore.
func (s *Store) StartClerkSession(cs operators.ClerkSession) error {
	if cs.Hash == "" || cs.ClerkID == "" {
		return fmt.Errorf("%w: a session needs its token hash and clerk", operators.ErrInvalid)
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		if _, err := Clerk(tx, cs.ClerkID); err != nil {
			return err
		}
		return put(tx, bucketClerkSessions, cs.Hash, cs)
	})
}

// ClerkSession implements operators.ClerkStore.
func (s *Store) ClerkSession(hash string) (cs *operators.ClerkSession, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketClerkSessions) == nil {
			return operators.ErrNotFound
		}
		cs, err = get[operators.ClerkSession](tx, bucketClerkSessions, hash, "clerk session")
		return err
	})
	if errors.Is(err, operators.ErrNotFound) {
		return nil, fmt.Errorf("%w: log in again", operators.ErrSessionUnknown)
	}
	return cs, err
}

// EndClerkSession implements operators.ClerkStore.
func (s *Store) EndClerkSession(hash string) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := bucket(tx, bucketClerkSessions)
		if err != nil {
			return err
		}
		return b.Delete([]byte(hash))
	})
}

var _ operators.ClerkStore = (*Store)(nil)
