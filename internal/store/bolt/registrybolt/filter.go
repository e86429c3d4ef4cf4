package registrybolt

import "hash/maphash"

// keyFilter is a blocked Bloom filter over the committed keys of one index
// bucket. It answers "certainly not in the bucket" without a B-tree search:
// PutPerson must refuse a codice fiscale or NIS already taken, and during a
// bulk load those checks, nearly all misses at random places in the tree,
// cost more than the writes themselves.
//
// It only ever errs on the side of "maybe": keys are added before the
// transaction writing them commits (a rolled-back key is a harmless false
// positive) and never removed (a deleted key likewise). It is exact only
// while every write to the bucket goes through this Store, which holds
// bbolt's exclusive file lock for as long as it is open.
type keyFilter struct {
	seed   maphash.Seed
	blocks [][8]uint64 // 512-bit blocks: one cache line per query
	n, max int         // keys added; keys it holds before its error rate grows
}

// filterBitsPerKey gives about a 1% false-positive rate with 7 probes in a
// 512-bit block.
const filterBitsPerKey = 12

func newKeyFilter(capacity int) *keyFilter {
	nblocks := max(capacity*filterBitsPerKey/512, 1)
	return &keyFilter{seed: maphash.MakeSeed(), blocks: make([][8]uint64, nblocks), max: capacity}
}

// full reports whether the filter holds more keys than it was sized for.
func (f *keyFilter) full() bool { return f.n > f.max }

// hash picks the block from the high half of the key's hash and spreads
// the low half, which the block choice does not constrain, over the seven
// 9-bit probe positions.
func (f *keyFilter) hash(k []byte) (*[8]uint64, uint64) {
	h := maphash.Bytes(f.seed, k)
	block := &f.blocks[(h>>32)*uint64(len(f.blocks))>>32]
	return block, uint64(uint32(h)) * 0x9e3779b97f4a7c15
}

func (f *keyFilter) add(k []byte) {
	block, probes := f.hash(k)
	for i := 0; i < 7; i++ {
		bit := probes >> (9 * i) & 511
		block[bit>>6] |= 1 << (bit & 63)
	}
	f.n++
}

func (f *keyFilter) mayContain(k []byte) bool {
	block, probes := f.hash(k)
	for i := 0; i < 7; i++ {
		bit := probes >> (9 * i) & 511
		if block[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}
