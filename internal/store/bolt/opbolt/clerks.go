package opbolt

import (
	"encoding/json"
	"fmt"

	"github.com/sportello/sportello/internal/operators"
)

// Clerks and their sessions:
//
//	op_clerks         clerk id → operators.Clerk
//	op_clerksessions  token hash → operators.ClerkSession
//
// Clerk ids are "cl-" and the bucket's sequence. A file made before clerks
// existed gets the buckets when the hub next writes one; a read-only look
// at such a file sees no clerks.
var (
	bucketClerks        = []byte("op_clerks")
	bucketClerkSessions = []byte("op_clerksessions")
)

func (v view) clerksWhere(keep func(*operators.Clerk) bool) (out []*operators.Clerk, err error) {
	err = each(v, bucketClerks, "clerk", func(c *operators.Clerk) error {
		if keep(c) {
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

func (v view) AddClerk(c *operators.Clerk) error {
	others, err := v.clerksWhere(func(x *operators.Clerk) bool { return x.CF == c.CF && x.OperatorID == c.OperatorID })
	if err != nil {
		return err
	}
	if len(others) > 0 {
		return fmt.Errorf("%w: %s is already clerk %s of operator %s; reinstate that record instead", operators.ErrInvalid, c.CF, others[0].ID, c.OperatorID)
	}
	if c.ID, err = v.nextID(bucketClerks, "cl"); err != nil {
		return err
	}
	return put(v, bucketClerks, c.ID, c)
}

func (v view) PutClerk(c *operators.Clerk) error {
	if _, err := v.Clerk(c.ID); err != nil {
		return err
	}
	return put(v, bucketClerks, c.ID, c)
}

func (v view) Clerk(id string) (*operators.Clerk, error) {
	return get[operators.Clerk](v, bucketClerks, id, "clerk")
}

func (v view) Clerks(id string) ([]*operators.Clerk, error) {
	return v.clerksWhere(func(c *operators.Clerk) bool { return id == "" || c.OperatorID == id })
}

func (v view) ClerksByCF(cf string) ([]*operators.Clerk, error) {
	return v.clerksWhere(func(c *operators.Clerk) bool { return c.CF == cf })
}

func (v view) ClerkByNIS(operatorID, nis string) (*operators.Clerk, error) {
	cs, err := v.clerksWhere(func(c *operators.Clerk) bool { return c.NIS != "" && c.NIS == nis && c.OperatorID == operatorID })
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: no clerk of operator %s holds the CIE %s", operators.ErrNotFound, operatorID, nis)
	}
	return cs[0], nil
}

func (v view) PutClerkSession(s operators.ClerkSession) error {
	return put(v, bucketClerkSessions, s.Hash, s)
}

func (v view) ClerkSession(hash string) (*operators.ClerkSession, error) {
	return get[operators.ClerkSession](v, bucketClerkSessions, hash, "clerk session")
}

func (v view) DeleteClerkSession(hash string) error {
	b, err := v.bucket(bucketClerkSessions)
	if err != nil {
		return err
	}
	return b.Delete([]byte(hash))
}

func (v view) DeleteClerkSessions(clerkID string) error {
	b, err := v.bucket(bucketClerkSessions)
	if err != nil {
		return err
	}
	var doomed [][]byte
	if err := b.ForEach(func(k, data []byte) error {
		var s operators.ClerkSession
		if json.Unmarshal(data, &s) != nil || s.ClerkID == clerkID {
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
