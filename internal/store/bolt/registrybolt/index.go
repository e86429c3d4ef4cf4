package registrybolt

import (
	"bytes"
	"sort"

	bbolt "go.etcd.io/bbolt"
)

// index is one index bucket as seen by a transaction. In a write transaction
// new entries wait in memory and go into bbolt sorted, at commit: bbolt
// keeps every node a transaction touches in memory until commit and inserts
// into it by shifting its tail, so tens of thousands of codici fiscali put
// in arrival (random) order cost quadratic copying, while the same entries
// in key order are appends. Reads in the transaction merge both sides.
//
// Deletions, rare (replaced records), go straight to the bucket.
type index struct {
	tx        *bbolt.Tx
	name      []byte
	b         *bbolt.Bucket     // opened on first use: a look-up by CF needs no nis bucket
	prefixLen int               // length of the prefix scan looks up, 0 if none
	puts      map[string][]byte // nil in a read transaction
	// byPrefix finds pending keys by prefix. Nearly every prefix (an
	// omocodia base form) has one key, so the rare others go to more
	// rather than costing every entry a slice.
	byPrefix map[string]string
	more     map[string][]string
	// filter, when set, holds every key (prefix, if prefixLen > 0) in b,
	// so a miss skips the B-tree search. Only write transactions have one.
	filter *keyFilter
}

// filterKey is what the filter holds of a key: the prefix scan looks up.
func (ix *index) filterKey(k []byte) []byte {
	if ix.prefixLen > 0 {
		return k[:ix.prefixLen]
	}
	return k
}

// inBucket reports whether b may hold k (or, with a prefix, keys starting
// with k's prefix).
func (ix *index) inBucket(k []byte) bool {
	return ix.filter == nil || ix.filter.mayContain(ix.filterKey(k))
}

// indexMaps keeps an index's maps between write transactions: bbolt runs one
// at a time, and growing maps of 50,000 entries from scratch in every batch
// of a bulk load costs more than the inserts themselves.
type indexMaps struct {
	puts     map[string][]byte
	byPrefix map[string]string
	more     map[string][]string
}

func newIndex(tx *bbolt.Tx, name []byte, prefixLen int, m *indexMaps) index {
	ix := index{tx: tx, name: name, prefixLen: prefixLen}
	if m != nil {
		if m.puts == nil {
			m.puts = make(map[string][]byte)
			m.byPrefix = make(map[string]string)
			m.more = make(map[string][]string)
		}
		clear(m.puts)
		clear(m.byPrefix)
		clear(m.more)
		ix.puts, ix.byPrefix, ix.more = m.puts, m.byPrefix, m.more
	}
	return ix
}

func (ix *index) bucket() *bbolt.Bucket {
	if ix.b == nil {
		ix.b = ix.tx.Bucket(ix.name)
	}
	return ix.b
}

func (ix *index) get(k []byte) []byte {
	if v, ok := ix.puts[string(k)]; ok {
		return v
	}
	if !ix.inBucket(k) {
		return nil
	}
	return ix.bucket().Get(k)
}

// scan calls fn for every entry whose key starts with prefix, which must be
// prefixLen long. Order is unspecified.
func (ix *index) scan(prefix []byte, fn func(k, v []byte)) {
	if ix.inBucket(prefix) {
		c := ix.bucket().Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if _, pending := ix.puts[string(k)]; !pending {
				fn(k, v)
			}
		}
	}
	if len(ix.puts) == 0 {
		return
	}
	if k, ok := ix.byPrefix[string(prefix)]; ok {
		fn([]byte(k), ix.puts[k])
		for _, k := range ix.more[string(prefix)] {
			fn([]byte(k), ix.puts[k])
		}
	}
}

// put records an entry; v is kept, so the caller must not change it.
func (ix *index) put(k, v []byte) {
	key := string(k)
	if _, ok := ix.puts[key]; !ok && ix.prefixLen > 0 {
		p := key[:ix.prefixLen]
		if _, taken := ix.byPrefix[p]; taken {
			ix.more[p] = append(ix.more[p], key)
		} else {
			ix.byPrefix[p] = key
		}
	}
	ix.puts[key] = v
}

func (ix *index) del(k []byte) error {
	key := string(k)
	if _, ok := ix.puts[key]; ok {
		delete(ix.puts, key)
		if ix.prefixLen > 0 {
			p := key[:ix.prefixLen]
			rest := ix.more[p]
			if ix.byPrefix[p] == key {
				if len(rest) == 0 {
					delete(ix.byPrefix, p)
				} else {
					ix.byPrefix[p], rest = rest[0], rest[1:]
				}
			} else {
				for i, o := range rest {
					if o == key {
						rest = append(rest[:i:i], rest[i+1:]...)
						break
					}
				}
			}
			if len(rest) == 0 {
				delete(ix.more, p)
			} else {
				ix.more[p] = rest
			}
		}
	}
	return ix.bucket().Delete(k)
}

// flush writes the pending entries in key order.
func (ix *index) flush() error {
	if len(ix.puts) == 0 {
		return nil
	}
	keys := make([]string, 0, len(ix.puts))
	size := 0
	for k := range ix.puts {
		keys = append(keys, k)
		size += len(k)
	}
	sort.Strings(keys)
	// bbolt holds on to keys until commit: carve them from one buffer.
	buf := make([]byte, 0, size)
	for _, k := range keys {
		start := len(buf)
		buf = append(buf, k...)
		key := buf[start:len(buf):len(buf)]
		// Into the filter before the Put: a key in the bucket but not in
		// the filter would let a duplicate through, the reverse is harmless.
		if ix.filter != nil {
			ix.filter.add(ix.filterKey(key))
		}
		if err := ix.bucket().Put(key, ix.puts[k]); err != nil {
			return err
		}
	}
	return nil
}

// buildFilter returns a filter holding every key now in the bucket, sized
// for capacity keys.
func (ix *index) buildFilter(capacity int) *keyFilter {
	f := newKeyFilter(capacity)
	c := ix.bucket().Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		f.add(ix.filterKey(k))
	}
	return f
}
