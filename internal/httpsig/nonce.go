package httpsig

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"
)

// NonceStore remembers the nonces of accepted signatures for as long as the
// signature could still be presented, so a replay is recognised.
type NonceStore interface {
	// Use records nonce for keyID until the given time and reports whether
	// it was fresh: false means it was already recorded and has not expired.
	// now is the verifier's clock, so store and verifier agree on time.
	Use(ctx context.Context, keyID, nonce string, now, until time.Time) (fresh bool, err error)
}

// ErrNonceStoreFull is returned by MemoryNonceStore when every slot holds a
// nonce that may still be replayed; forgetting one would let it be replayed.
var ErrNonceStoreFull = errors.New("the nonce store is full of nonces that have not expired yet")

// DefaultNonceCapacity bounds a MemoryNonceStore built with capacity 0:
// a few hundred kiosks signing a request a second for a five-minute window
// stay well under it, at roughly 100 bytes per entry.
const DefaultNonceCapacity = 1 << 20

// MemoryNonceStore is an in-process NonceStore. Entries are dropped once
// their validity has passed, and the number held is capped, so memory stays
// bounded however many requests arrive.
type MemoryNonceStore struct {
	mu       sync.Mutex
	capacity int
	seen     map[string]time.Time
	byExpiry expiryHeap
}

// NewMemoryNonceStore makes a store holding at most capacity nonces
// (DefaultNonceCapacity when capacity is 0 or less).
func NewMemoryNonceStore(capacity int) *MemoryNonceStore {
	if capacity <= 0 {
		capacity = DefaultNonceCapacity
	}
	return &MemoryNonceStore{capacity: capacity, seen: make(map[string]time.Time)}
}

// Use implements NonceStore.
func (s *MemoryNonceStore) Use(_ context.Context, keyID, nonce string, now, until time.Time) (bool, error) {
	k := nonceKey(keyID, nonce)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	if exp, ok := s.seen[k]; ok && exp.After(now) {
		return false, nil
	}
	if len(s.seen) >= s.capacity {
		return false, ErrNonceStoreFull
	}
	s.remember(k, until)
	return true, nil
}

// Remember records a nonce known to be used, such as one read back from
// durable storage at start: it is refused until it expires.
func (s *MemoryNonceStore) Remember(keyID, nonce string, until time.Time) {
	k := nonceKey(keyID, nonce)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.seen[k]; !ok || until.After(cur) {
		s.remember(k, until)
	}
}

// Withdraw forgets a nonce that Use accepted until the given time, for a
// store that could not make the acceptance durable: the request is refused,
// so its nonce must not block a genuine retry.
func (s *MemoryNonceStore) Withdraw(keyID, nonce string, until time.Time) {
	k := nonceKey(keyID, nonce)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.seen[k]; ok && cur.Equal(until) {
		delete(s.seen, k)
	}
}

// nonceKey joins a key id and a nonce. Key ids are length-checked printable
// ASCII, so the separator cannot be forged into a collision between two
// devices' nonces.
func nonceKey(keyID, nonce string) string { return keyID + "\x00" + nonce }

func (s *MemoryNonceStore) remember(k string, until time.Time) {
	s.seen[k] = until
	heap.Push(&s.byExpiry, entry{key: k, until: until})
}

// Len is the number of nonces currently remembered.
func (s *MemoryNonceStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func (s *MemoryNonceStore) expire(now time.Time) {
	for len(s.byExpiry) > 0 && !s.byExpiry[0].until.After(now) {
		e := heap.Pop(&s.byExpiry).(entry)
		if cur, ok := s.seen[e.key]; ok && cur.Equal(e.until) {
			delete(s.seen, e.key)
		}
	}
}

type entry struct {
	key   string
	until time.Time
}

type expiryHeap []entry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until.Before(h[j].until) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(entry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
