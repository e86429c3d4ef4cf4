package registrybolt

import (
	"context"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

// maxRecordProblems is how many problems CheckRecords lists.
const maxRecordProblems = 20

// RecordCheck is what CheckRecords found.
type RecordCheck struct {
	Persons, Families, Events int
	Problems                  []string
	More                      int // problems beyond those listed
}

func (c *RecordCheck) problem(format string, args ...any) {
	if len(c.Problems) >= maxRecordProblems {
		c.More++
		return
	}
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
}

// CheckRecords reads the whole registry and checks what a look-up only
// checks for the records it reads: every person, family and event record
// decodes, and every index entry (codice fiscale, NIS, family member,
// person's event) points to a record that is there. A changed bit in a
// record that bbolt's structure does not show is found here, when it
// breaks the record's encoding or an index.
func (s *Store) CheckRecords(ctx context.Context) (*RecordCheck, error) {
	c := &RecordCheck{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		decode := func(bucket []byte, what string, n *int, dec func([]byte) error) {
			tx.Bucket(bucket).ForEach(func(k, v []byte) error {
				*n++
				switch {
				case len(k) != 8:
					c.problem("%s key %x is not an ID", what, k)
				case v == nil:
					c.problem("%s %d is a bucket, not a record", what, binary.BigEndian.Uint64(k))
				default:
					if err := dec(v); err != nil {
						c.problem("%s %d: %v", what, binary.BigEndian.Uint64(k), err)
					}
				}
				return ctx.Err()
			})
		}
		decode(bucketPersons, "person", &c.Persons, func(v []byte) error { _, err := decodePerson(v); return err })
		decode(bucketFamilies, "family", &c.Families, func(v []byte) error { _, err := decodeFamily(v); return err })
		decode(bucketEvents, "event", &c.Events, func(v []byte) error { _, err := decodeEvent(v); return err })
		if err := ctx.Err(); err != nil {
			return err
		}
		persons, families, events := tx.Bucket(bucketPersons), tx.Bucket(bucketFamilies), tx.Bucket(bucketEvents)
		refers := func(bucket []byte, what string, fn func(k, v []byte) string) {
			tx.Bucket(bucket).ForEach(func(k, v []byte) error {
				if p := fn(k, v); p != "" {
					c.problem("%s index entry %x: %s", what, k, p)
				}
				return ctx.Err()
			})
		}
		missing := func(b *bbolt.Bucket, what string, id []byte) string {
			if b.Get(id) == nil {
				return fmt.Sprintf("%s %d is missing", what, binary.BigEndian.Uint64(id))
			}
			return ""
		}
		refers(bucketCF, "codice fiscale", func(k, _ []byte) string {
			if len(k) != cfBaseLen+8 {
				return "malformed"
			}
			return missing(persons, "person", k[cfBaseLen:])
		})
		refers(bucketNIS, "NIS", func(_, v []byte) string {
			if len(v) != 8 {
				return "malformed"
			}
			return missing(persons, "person", v)
		})
		refers(bucketMembers, "family member", func(k, _ []byte) string {
			if len(k) != 16 {
				return "malformed"
			}
			if p := missing(families, "family", k[:8]); p != "" {
				return p
			}
			return missing(persons, "person", k[8:])
		})
		refers(bucketPEvents, "person's event", func(k, _ []byte) string {
			if len(k) != 16 {
				return "malformed"
			}
			if p := missing(persons, "person", k[:8]); p != "" {
				return p
			}
			return missing(events, "event", k[8:])
		})
		return ctx.Err()
	})
	return c, err
}
