package outbox

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/store/bolt/boltfile"
)

// maxFileProblems is how many problems CheckFile lists.
const maxFileProblems = 20

// FileCheck is what CheckFile found in an outbox file.
type FileCheck struct {
	Pending, Refused, Done, Jobs int
	// Opened says the sealed payloads and print jobs were opened with the
	// outbox key; without it only what is stored in the clear is checked.
	Opened   bool
	Problems []string
	More     int // problems beyond those listed
}

func (c *FileCheck) problem(format string, args ...any) {
	if len(c.Problems) >= maxFileProblems {
		c.More++
		return
	}
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
}

// CheckFile reads every record of the outbox file at path, which it opens
// read-only (after boltfile's check of the whole file), and reports what
// does not hold together: a record that does not decode or is filed under
// another id, a pending or refused operation without its payload, an
// index entry (claim code, idempotency key) pointing at nothing, a payload
// or print job of no operation. With the outbox key it also opens every
// sealed payload and print job, whose authentication fails on any changed
// bit, and compares each operation with the fingerprint it was queued
// with (kind, amount and payload); payloads without personal data have an
// unkeyed fingerprint, checked with or without the key.
func CheckFile(path string, key []byte) (*FileCheck, error) {
	db, err := boltfile.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening the outbox %s: %w", path, err)
	}
	defer db.Close()
	c := &FileCheck{}
	err = boltfile.Guard(path, func() error {
		return db.View(func(tx *bbolt.Tx) error { return c.run(tx, key) })
	})
	return c, err
}

func (c *FileCheck) run(tx *bbolt.Tx, key []byte) error {
	for _, name := range buckets {
		if tx.Bucket(name) == nil {
			c.problem("the bucket %q is missing: this is not a kiosk outbox, or it lost part of its tree", name)
			return nil
		}
	}
	var seal *sealer
	if key != nil {
		meta := tx.Bucket(bMeta)
		s, err := newSealer(key, meta.Get(kSalt))
		switch stored := meta.Get(kCheck); {
		case err != nil:
			return err
		case stored == nil:
			// Never opened with a key: nothing in it is sealed.
		case !bytes.Equal(stored, s.check):
			c.problem("the outbox key does not open this file: it belongs to another kiosk profile, or its salt or key check was altered")
		default:
			seal, c.Opened = s, true
		}
	}
	ids := map[uint64]bool{} // every operation, in any state
	byID := func(bucket []byte, what string, n *int, fn func(id uint64, v []byte)) {
		tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			*n++
			if len(k) != 8 || v == nil {
				c.problem("%s entry %x is not an operation's", what, k)
				return nil
			}
			id := binary.BigEndian.Uint64(k)
			ids[id] = true
			fn(id, v)
			return nil
		})
	}
	for _, b := range []struct {
		bucket []byte
		what   string
		n      *int
	}{{bPending, "pending", &c.Pending}, {bRefused, "refused", &c.Refused}} {
		byID(b.bucket, b.what, b.n, func(id uint64, v []byte) {
			var r record
			if err := json.Unmarshal(v, &r); err != nil {
				c.problem("%s operation %d does not decode: %v", b.what, id, err)
				return
			}
			if r.ID != id {
				c.problem("%s operation %d is filed under id %d", b.what, r.ID, id)
				return
			}
			for _, ix := range []struct {
				bucket []byte
				name   string
				k      string
			}{{bClaims, "claim code", r.Claim}, {bKeys, "idempotency key", r.Key}} {
				if v := tx.Bucket(ix.bucket).Get([]byte(ix.k)); len(v) != 8 || binary.BigEndian.Uint64(v) != id {
					c.problem("%s operation %d: its %s is not indexed to it", b.what, id, ix.name)
				}
			}
			payload := tx.Bucket(bPayload).Get(idKey(id))
			if payload == nil {
				c.problem("%s operation %d has lost its payload", b.what, id)
				return
			}
			plain := payload
			if r.Personal {
				if seal == nil {
					return // sealed: nothing more to see without the key
				}
				p, err := seal.open(id, r.Key, payload)
				if err != nil {
					c.problem("%s operation %d: its sealed payload does not open: it was altered", b.what, id)
					return
				}
				plain = p
			}
			op := Op{Kind: r.Kind, AmountCents: r.Amount, PersonalData: r.Personal, Payload: plain}
			if !bytes.Equal(fingerprint(seal, op), r.Fingerprint) {
				c.problem("%s operation %d no longer matches the fingerprint it was queued with (kind, amount or payload altered)", b.what, id)
			}
		})
	}
	byID(bDone, "done", &c.Done, func(id uint64, v []byte) {
		var t tombstone
		if err := json.Unmarshal(v, &t); err != nil {
			c.problem("the record of done operation %d does not decode: %v", id, err)
		} else if t.ID != id {
			c.problem("done operation %d is filed under id %d", t.ID, id)
		}
	})
	tx.Bucket(bPayload).ForEach(func(k, _ []byte) error {
		if len(k) != 8 || tx.Bucket(bPending).Get(k) == nil && tx.Bucket(bRefused).Get(k) == nil && !keeps(tx, k) {
			c.problem("payload %x belongs to no pending or refused operation, nor to a delivered one that keeps it", k)
		}
		return nil
	})
	for _, ix := range []struct {
		bucket []byte
		name   string
	}{{bClaims, "claim code"}, {bKeys, "idempotency key"}} {
		tx.Bucket(ix.bucket).ForEach(func(k, v []byte) error {
			if len(v) != 8 || !ids[binary.BigEndian.Uint64(v)] {
				c.problem("the %s %q points to no operation", ix.name, k)
			}
			return nil
		})
	}
	tx.Bucket(bJobs).ForEach(func(k, v []byte) error {
		c.Jobs++
		var sj sealedJob
		if err := json.Unmarshal(v, &sj); err != nil {
			c.problem("print job %q does not decode: %v", k, err)
			return nil
		}
		if seal != nil {
			if _, err := seal.open(0, jobAAD(string(k)), sj.Data); err != nil {
				c.problem("print job %q does not open: it was altered", k)
			}
		}
		return nil
	})
	return nil
}

// keeps says the operation with id k was delivered and keeps its payload
// (Result.Keep).
func keeps(tx *bbolt.Tx, k []byte) bool {
	t := getTombstone(tx, binary.BigEndian.Uint64(k))
	return t != nil && t.Kept
}
