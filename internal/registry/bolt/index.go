package bolt

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
	b         *bbolt.Bucket
	prefixLen int               // length of the prefix scan looks up, 0 if none
	puts      map[string][]byte // nil in a read transaction
	byPrefix  map[string][]string
}

func newIndex(b *bbolt.Bucket, prefixLen int, writable bool) *index {
	ix := &index{b: b, prefixLen: prefixLen}
	if writable {
		ix.puts = make(map[string][]byte)
		ix.byPrefix = make(map[string][]string)
	}
	return ix
}

func (ix *index) get(k []byte) []byte {
	if v, ok := ix.puts[string(k)]; ok {
		return v
	}
	return ix.b.Get(k)
}

// scan calls fn for every entry whose key starts with prefix, which must be
// prefixLen long. Order is unspecified.
func (ix *index) scan(prefix []byte, fn func(k, v []byte)) {
	c := ix.b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if _, pending := ix.puts[string(k)]; !pending {
			fn(k, v)
		}
	}
	for _, k := range ix.byPrefix[string(prefix)] {
		fn([]byte(k), ix.puts[k])
	}
}

// put records an entry; v is kept, so the caller must not change it.
func (ix *index) put(k, v []byte) {
	key := string(k)
	if _, ok := ix.puts[key]; !ok && ix.prefixLen > 0 {
		p := key[:ix.prefixLen]
		ix.byPrefix[p] = append(ix.byPrefix[p], key)
	}
	ix.puts[key] = v
}

func (ix *index) del(k []byte) error {
	key := string(k)
	if _, ok := ix.puts[key]; ok {
		delete(ix.puts, key)
		if ix.prefixLen > 0 {
			p := key[:ix.prefixLen]
			keys := ix.byPrefix[p]
			for i, o := range keys {
				if o == key {
					ix.byPrefix[p] = append(keys[:i:i], keys[i+1:]...)
					break
				}
			}
		}
	}
	return ix.b.Delete(k)
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
		if err := ix.b.Put(buf[start:len(buf):len(buf)], ix.puts[k]); err != nil {
			return err
		}
	}
	clear(ix.puts)
	clear(ix.byPrefix)
	return nil
}
