package registrybolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/registry"
)

// The name index, for staff who look a person up by name:
//
//	names   NameKey ‖ 0x00 ‖ person id → ∅
//
// It is not among allBuckets, which a file must have to open: files
// written before it existed get it at their next writable open
// (ensureNames), built from the persons in the same transaction that
// creates it, so a crash leaves no index (built again next time) or a
// whole one. A file opened read-only without it is searched by a scan of
// the persons (namesScan): slower, same answer.
var bucketNames = []byte("names")

func nameKey(p *registry.Person) []byte {
	k := append([]byte(registry.NameKey(p.Surname, p.GivenNames)), 0)
	return binary.BigEndian.AppendUint64(k, uint64(p.ID))
}

// ensureNames creates and fills the name index when the file lacks it.
func ensureNames(db *bbolt.DB) error {
	missing := false
	if err := db.View(func(tx *bbolt.Tx) error { missing = tx.Bucket(bucketNames) == nil; return nil }); err != nil || !missing {
		return err
	}
	return db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketNames)
		if err != nil {
			return fmt.Errorf("cannot create the registry's name index: %w", err)
		}
		var keys [][]byte
		c := tx.Bucket(bucketPersons).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			p, err := decodePerson(v)
			if err != nil {
				return fmt.Errorf("building the name index: person %d: %w", binary.BigEndian.Uint64(k), err)
			}
			keys = append(keys, nameKey(p))
		}
		slices.SortFunc(keys, bytes.Compare) // sorted puts are appends
		for _, k := range keys {
			if err := b.Put(k, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// indexName queues p's name key, and drops old's when the name changed.
// Keys wait for flushNames, like the pevents entries.
func (w *writer) indexName(old, p *registry.Person) error {
	b := w.tx.Bucket(bucketNames)
	if b == nil {
		return nil // an older file opened before ensureNames ran: a scan serves it
	}
	k := nameKey(p)
	if old != nil {
		ok := nameKey(old)
		if bytes.Equal(ok, k) {
			return nil
		}
		if err := b.Delete(ok); err != nil {
			return err
		}
	}
	w.names = append(w.names, k)
	return nil
}

func (w *writer) flushNames() error {
	if len(w.names) == 0 {
		return nil
	}
	slices.SortFunc(w.names, bytes.Compare)
	b := w.tx.Bucket(bucketNames)
	for _, k := range w.names {
		if err := b.Put(k, nil); err != nil {
			return err
		}
	}
	w.names = w.names[:0]
	return nil
}

func (r *reader) PersonsByName(query string, limit int) ([]*registry.Person, error) {
	q := registry.NameQuery(query)
	if q == "" {
		return nil, fmt.Errorf("%w: a name search needs at least one letter", registry.ErrInvalid)
	}
	b := r.tx.Bucket(bucketNames)
	if b == nil {
		return r.namesScan(q, limit)
	}
	var out []*registry.Person
	c := b.Cursor()
	for k, _ := c.Seek([]byte(q)); k != nil && bytes.HasPrefix(k, []byte(q)) && (limit == 0 || len(out) < limit); k, _ = c.Next() {
		if len(k) < 9 {
			return nil, fmt.Errorf("the registry's name index holds a damaged key %q", k)
		}
		p, err := r.Person(registry.PersonID(binary.BigEndian.Uint64(k[len(k)-8:])))
		if err != nil {
			return nil, fmt.Errorf("the name index names a person that cannot be read: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// namesScan is PersonsByName over every person.
func (r *reader) namesScan(q string, limit int) ([]*registry.Person, error) {
	type hit struct {
		key string
		p   *registry.Person
	}
	var hits []hit
	err := r.Persons(0, func(p *registry.Person) (bool, error) {
		if k := registry.NameKey(p.Surname, p.GivenNames); strings.HasPrefix(k, q) {
			hits = append(hits, hit{k, p})
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return strings.Compare(a.key, b.key) }) // IDs ascend already
	var out []*registry.Person
	for _, h := range hits {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, h.p)
	}
	return out, nil
}
