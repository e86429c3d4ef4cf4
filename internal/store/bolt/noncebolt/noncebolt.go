// Package noncebolt keeps the signed API's used nonces in the hub's bbolt
// file, so a request captured on the wire cannot be replayed right after the
// hub restarts, while its signature is still inside its validity window.
//
// Every nonce is also held in memory, loaded when the store opens, so the
// replay check never reads the disk. A nonce is accepted only once its
// record is committed (and, unless the file is opened with NoSync, synced):
// Use does not return fresh before that. Concurrent requests share commits:
// while one commit runs, newcomers gather in the next batch, which the first
// of them commits as soon as the disk is free, so under load a request waits
// for at most two commits and a lone request for one.
//
// Layout of the one bucket, sig_nonces:
//
//	until (8 bytes, big-endian Unix nanoseconds) ‖ key id ‖ 0x00 ‖ nonce → ∅
//
// Keys sort by expiry, so purging what has expired is a walk from the start
// of the bucket that stops at the first live entry. Each commit purges a
// bounded number of expired entries, so the bucket holds about one validity
// window of nonces and no commit grows long.
package noncebolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/httpsig"
)

var bucketNonces = []byte("sig_nonces")

// purgePerCommit bounds the expired entries deleted by one commit: enough to
// keep up with thousands of requests a second, few enough that a commit
// after a long idle period stays short.
const purgePerCommit = 2048

// Init creates the bucket. Call it once in a write transaction.
func Init(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketNonces); err != nil {
		return fmt.Errorf("cannot create the nonces' bucket %q: %w", bucketNonces, err)
	}
	return nil
}

// Store is a durable httpsig.NonceStore: an in-memory store answers, and
// each fresh nonce is committed to the file before it is reported fresh.
// Only one process writes the hub's file (bbolt locks it), so the memory
// copy is the whole truth.
type Store struct {
	db  *bbolt.DB
	mem *httpsig.MemoryNonceStore

	mu      sync.Mutex
	open    *batch    // gathering entries; nil when none waits
	lastNow time.Time // the latest verifier clock seen: what purging deems past
	commit  chan struct{}
}

// batch is the nonces one commit writes; done closes once it is committed.
type batch struct {
	entries []entry
	done    chan struct{}
	err     error
}

// entry is one nonce as the file keys it: expiry, key id, 0, nonce.
type entry struct {
	keyID, nonce string
	until        time.Time
}

// Open loads the nonces in db (creating the bucket if db is writable) and
// returns a store holding at most capacity of them
// (httpsig.DefaultNonceCapacity when capacity is 0 or less).
func Open(db *bbolt.DB, capacity int) (*Store, error) {
	if !db.IsReadOnly() {
		if err := db.Update(Init); err != nil {
			return nil, err
		}
	}
	s := &Store{db: db, mem: httpsig.NewMemoryNonceStore(capacity), commit: make(chan struct{}, 1)}
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketNonces)
		if b == nil {
			return fmt.Errorf("the hub's file has no nonce bucket; open it writable once")
		}
		return b.ForEach(func(k, _ []byte) error {
			e, err := splitKey(k)
			if err != nil {
				return err
			}
			s.mem.Remember(e.keyID, e.nonce, e.until)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func dbKey(e entry) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 9+len(e.keyID)+len(e.nonce)), uint64(e.until.UnixNano()))
	k = append(append(k, e.keyID...), 0)
	return append(k, e.nonce...)
}

func splitKey(k []byte) (entry, error) {
	if len(k) < 10 {
		return entry{}, fmt.Errorf("the stored nonce key %x is damaged", k)
	}
	keyID, nonce, ok := bytes.Cut(k[8:], []byte{0})
	if !ok {
		return entry{}, fmt.Errorf("the stored nonce key %x is damaged", k)
	}
	return entry{keyID: string(keyID), nonce: string(nonce), until: time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))}, nil
}

// Use implements httpsig.NonceStore. A fresh nonce is reserved in memory at
// once, so a concurrent replay is refused without waiting, and reported
// fresh only after its commit; if the commit fails the reservation is
// withdrawn and the error returned, so the request is refused, never
// accepted unrecorded.
func (s *Store) Use(ctx context.Context, keyID, nonce string, now, until time.Time) (bool, error) {
	fresh, err := s.mem.Use(ctx, keyID, nonce, now, until)
	if !fresh || err != nil {
		return fresh, err
	}
	e := entry{keyID: keyID, nonce: nonce, until: until}
	s.mu.Lock()
	if now.After(s.lastNow) {
		s.lastNow = now
	}
	b, first := s.open, false
	if b == nil {
		b, first = &batch{done: make(chan struct{})}, true
		s.open = b
	}
	b.entries = append(b.entries, e)
	s.mu.Unlock()

	if first {
		s.commit <- struct{}{} // wait for the commit before ours to finish
		s.mu.Lock()
		s.open = nil // later arrivals start the next batch
		purgeBefore := s.lastNow
		s.mu.Unlock()
		b.err = s.write(b.entries, purgeBefore)
		<-s.commit
		if b.err != nil {
			s.withdraw(b.entries)
		}
		close(b.done)
	} else {
		<-b.done
	}
	if b.err != nil {
		return false, fmt.Errorf("cannot record the nonce: %w", b.err)
	}
	return true, nil
}

// write commits entries and purges up to purgePerCommit expired ones.
func (s *Store) write(entries []entry, now time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketNonces)
		if b == nil {
			return errors.New("the hub's file has no nonce bucket")
		}
		for _, e := range entries {
			if err := b.Put(dbKey(e), nil); err != nil {
				return err
			}
		}
		limit := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
		c := b.Cursor()
		for range purgePerCommit {
			k, _ := c.First()
			if k == nil || bytes.Compare(k[:8], limit) > 0 {
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

// withdraw forgets reservations whose commit failed.
func (s *Store) withdraw(entries []entry) {
	for _, e := range entries {
		s.mem.Withdraw(e.keyID, e.nonce, e.until)
	}
}

// Len is the number of nonces remembered in memory.
func (s *Store) Len() int { return s.mem.Len() }

// Stored is the number of nonce records in the file, expired ones not yet
// purged included.
func (s *Store) Stored() (n int, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketNonces); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

var _ httpsig.NonceStore = (*Store)(nil)
