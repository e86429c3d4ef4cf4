// Package auditbolt keeps the audit log in the hub's bbolt file, on
// transactions the caller opens, so the record of a read commits together
// with the work that read the data, or the read is not served.
//
// Layout (seq is the entry number, 8 bytes big-endian, so every bucket and
// index lists entries in chain order; days are YYYYMMDD in Rome):
//
//	audit           seq → record (audit.Next's canonical encoding ‖ hash)
//	audit_subject   CF ‖ 0x00 ‖ seq → ∅
//	audit_actor     id ‖ 0x00 ‖ kind ‖ 0x00 ‖ seq → ∅
//	audit_days      YYYYMMDD ‖ seq → ∅
//	audit_anchors   YYYYMMDD → seq ‖ hash: the head at the end of that day
//	audit_meta      "head" → seq ‖ hash ‖ YYYYMMDD of the latest entry
//	                "pruned" → the retention checkpoint (audit.Pruned), once
//	                retention has removed the oldest entries (see Prune)
//
// The indexes are not chained, so Verify also checks that every entry is in
// them: otherwise deleting index keys would hide reads from an auditor's
// search while leaving the chain whole.
package auditbolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
)

var (
	bucketLog     = []byte("audit")
	bucketSubject = []byte("audit_subject")
	bucketActor   = []byte("audit_actor")
	bucketDays    = []byte("audit_days")
	bucketAnchors = []byte("audit_anchors")
	bucketMeta    = []byte("audit_meta")

	allBuckets = [][]byte{bucketLog, bucketSubject, bucketActor, bucketDays, bucketAnchors, bucketMeta}

	keyHead = []byte("head")
)

// Errors; returned errors wrap them.
var (
	ErrNotInitialised = errors.New("audit log not initialised")
	ErrDamaged        = audit.ErrStoreDamaged
)

// Init creates the log's buckets if they are missing. Call it once in a
// write transaction when the hub opens its file.
func Init(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("cannot create the audit log's bucket %q: %w", name, err)
		}
	}
	return nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func subjectKey(cf string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(cf), 0), seq)
}

func actorPrefix(a audit.Actor) []byte {
	return append(append(append([]byte(a.ID), 0), a.Kind...), 0)
}

func actorKey(a audit.Actor, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(actorPrefix(a), seq)
}

func dayKey(d protocol.Day, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(d.Key(), seq)
}

// head is the chain head as kept in audit_meta, with the day of its entry,
// which tells Append when a day has closed and needs its anchor.
type head struct {
	audit.Head
	day []byte // YYYYMMDD, nil for the empty log
}

func readHead(tx *bbolt.Tx) (head, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return head{}, nil
	}
	v := meta.Get(keyHead)
	if v == nil {
		return head{}, nil
	}
	if len(v) != 8+len(audit.Hash{})+8 {
		return head{}, fmt.Errorf("%w: the chain head record has %d bytes", ErrDamaged, len(v))
	}
	var h head
	h.Seq = binary.BigEndian.Uint64(v)
	copy(h.Hash[:], v[8:])
	h.day = v[40:]
	return h, nil
}

// Append numbers e, chains it after the current head and stores it with its
// index keys, all in tx: if tx rolls back, so does the entry, and the
// number is reused. It returns the entry as stored (Seq set, Subject upper
// case, Time in UTC).
//
// Append does not anchor the new head: the hub appends through
// Store.Append, which does, and a head appended here is anchored with the
// next one that is.
func Append(tx *bbolt.Tx, e audit.Entry) (audit.Entry, error) {
	e, _, err := appendEntry(tx, e)
	return e, err
}

func appendEntry(tx *bbolt.Tx, e audit.Entry) (audit.Entry, audit.Head, error) {
	log := tx.Bucket(bucketLog)
	meta := tx.Bucket(bucketMeta)
	if log == nil || meta == nil {
		return audit.Entry{}, audit.Head{}, fmt.Errorf("%w: call auditbolt.Init when opening the hub's file", ErrNotInitialised)
	}
	h, err := readHead(tx)
	if err != nil {
		return audit.Entry{}, audit.Head{}, err
	}
	record, next, err := audit.Next(h.Head, &e)
	if err != nil {
		return audit.Entry{}, audit.Head{}, err
	}
	seq := seqKey(e.Seq)
	if log.Get(seq) != nil {
		// Only a file edited behind the log's back gets here.
		return audit.Entry{}, audit.Head{}, fmt.Errorf("%w: entry %d exists beyond the recorded head %d", ErrDamaged, e.Seq, h.Seq)
	}
	day := protocol.DayOf(e.Time)
	dk := day.Key()
	if err := log.Put(seq, record); err != nil {
		return audit.Entry{}, audit.Head{}, err
	}
	for _, ix := range []struct {
		bucket, key []byte
	}{
		{bucketSubject, subjectKey(e.Subject, e.Seq)},
		{bucketActor, actorKey(e.Actor, e.Seq)},
		{bucketDays, dayKey(day, e.Seq)},
	} {
		if err := tx.Bucket(ix.bucket).Put(ix.key, nil); err != nil {
			return audit.Entry{}, audit.Head{}, err
		}
	}
	headDay := dk
	if h.day != nil {
		switch c := bytes.Compare(h.day, dk); {
		case c < 0:
			// The first read of a new day closes the previous one: its
			// last entry is the anchor. Never overwritten, so a clock
			// that steps back cannot move a published anchor.
			anchors := tx.Bucket(bucketAnchors)
			if anchors.Get(h.day) == nil {
				if err := anchors.Put(bytes.Clone(h.day), append(binary.BigEndian.AppendUint64(nil, h.Seq), h.Hash[:]...)); err != nil {
					return audit.Entry{}, audit.Head{}, err
				}
			}
		case c > 0:
			headDay = h.day // the clock stepped back: the head's day stays the latest seen
		}
	}
	v := binary.BigEndian.AppendUint64(nil, next.Seq)
	v = append(v, next.Hash[:]...)
	v = append(v, headDay...)
	if err := meta.Put(keyHead, v); err != nil {
		return audit.Entry{}, audit.Head{}, err
	}
	return e, next, nil
}

// Head returns the recorded chain head; the zero Head for an empty log.
func Head(tx *bbolt.Tx) (audit.Head, error) {
	h, err := readHead(tx)
	return h.Head, err
}

// Anchors returns the anchors of the closed days, oldest first.
func Anchors(tx *bbolt.Tx) ([]audit.Anchor, error) {
	b := tx.Bucket(bucketAnchors)
	if b == nil {
		return nil, nil
	}
	var out []audit.Anchor
	err := b.ForEach(func(k, v []byte) error {
		d, err := parseDayKey(k)
		if err != nil || len(v) != 8+len(audit.Hash{}) {
			return fmt.Errorf("%w: the anchor stored under %q cannot be read", ErrDamaged, k)
		}
		a := audit.Anchor{Day: d}
		a.Seq = binary.BigEndian.Uint64(v)
		copy(a.Hash[:], v[8:])
		out = append(out, a)
		return nil
	})
	return out, err
}

func parseDayKey(k []byte) (protocol.Day, error) {
	if len(k) != 8 {
		return protocol.Day{}, fmt.Errorf("%q is not a day key", k)
	}
	return protocol.ParseDay(fmt.Sprintf("%s-%s-%s", k[:4], k[4:6], k[6:]))
}

// Count returns the number of entries stored.
func Count(tx *bbolt.Tx) int {
	if b := tx.Bucket(bucketLog); b != nil {
		return b.Stats().KeyN
	}
	return 0
}

// Verify walks the whole chain and checks it against the recorded head,
// the stored anchors and the anchors given (published ones: the stronger
// check). It returns the verified head, or the first *audit.Break.
func Verify(tx *bbolt.Tx, published ...audit.Anchor) (audit.Head, error) {
	recorded, err := Head(tx)
	if err != nil {
		return audit.Head{}, err
	}
	stored, err := Anchors(tx)
	if err != nil {
		return audit.Head{}, err
	}
	pruned, err := Pruned(tx)
	if err != nil {
		return audit.Head{}, err
	}
	v := audit.NewVerifier(append(stored, published...)...)
	// Retention removed the oldest entries: the walk starts after them,
	// and the checkpoint's own anchor ties it to what was removed.
	v.StartAfter(pruned)
	// A break in the chain says more than a missing index key, so the
	// index is reported only once the chain is found whole.
	var indexBreak *audit.Break
	log := tx.Bucket(bucketLog)
	if log != nil {
		subj, act, days := tx.Bucket(bucketSubject), tx.Bucket(bucketActor), tx.Bucket(bucketDays)
		c := log.Cursor()
		for k, rec := c.First(); k != nil; k, rec = c.Next() {
			if len(k) != 8 {
				return audit.Head{}, fmt.Errorf("%w: a key of %d bytes is in the log, which numbers entries with 8", audit.ErrBroken, len(k))
			}
			seq := binary.BigEndian.Uint64(k)
			e, err := v.Add(seq, rec)
			if err != nil {
				return audit.Head{}, err
			}
			for _, ix := range []struct {
				b    *bbolt.Bucket
				key  []byte
				name string
			}{
				{subj, subjectKey(e.Subject, seq), "subject"},
				{act, actorKey(e.Actor, seq), "actor"},
				{days, dayKey(protocol.DayOf(e.Time), seq), "day"},
			} {
				if indexBreak == nil && (ix.b == nil || ix.b.Get(ix.key) == nil) {
					indexBreak = &audit.Break{Seq: seq, Problem: fmt.Sprintf("is missing from the index by %s, so a search would hide it", ix.name)}
				}
			}
		}
	}
	h, err := v.Finish(recorded)
	if err == nil && indexBreak != nil {
		return h, indexBreak
	}
	return h, err
}

// Get returns entry seq.
func Get(tx *bbolt.Tx, seq uint64) (audit.Entry, error) {
	var rec []byte
	if b := tx.Bucket(bucketLog); b != nil {
		rec = b.Get(seqKey(seq))
	}
	if rec == nil {
		return audit.Entry{}, fmt.Errorf("%w: there is no audit entry %d", audit.ErrNotFound, seq)
	}
	e, _, err := audit.Decode(rec)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("audit entry %d: %w", seq, err)
	}
	return e, nil
}

// Search calls fn with the entries q selects, in number order, until fn
// returns false or an error. It reads through the narrowest index q allows.
func Search(tx *bbolt.Tx, q audit.Query, fn func(audit.Entry) (bool, error)) error {
	var bucket, start, prefix []byte
	switch {
	case q.Subject != "":
		bucket = bucketSubject
		start = append([]byte(strings.ToUpper(strings.TrimSpace(q.Subject))), 0)
		prefix = start
	case strings.HasPrefix(q.Actor, "clerk:"):
		// Clerks are not indexed: an auditor's rare question reads the log.
	case q.Actor != "":
		bucket = bucketActor
		if a, err := audit.ParseActor(q.Actor); err == nil {
			start = actorPrefix(a)
		} else {
			start = append([]byte(q.Actor), 0)
		}
		prefix = start
	case q.From != (protocol.Day{}):
		bucket, start = bucketDays, q.From.Key()
	case q.To != (protocol.Day{}):
		bucket = bucketDays
	}
	if bucket == nil {
		return scanLog(tx, q, fn)
	}
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	var end []byte
	if bytes.Equal(bucket, bucketDays) && q.To != (protocol.Day{}) {
		end = q.To.Key()
	}
	// A bare actor id spans several kinds, each listed in its own run of
	// keys: collect the numbers and sort them to return chain order.
	var seqs []uint64
	c := b.Cursor()
	var k []byte
	if start == nil {
		k, _ = c.First()
	} else {
		k, _ = c.Seek(start)
	}
	for ; k != nil && len(k) >= 8; k, _ = c.Next() {
		if prefix != nil && !bytes.HasPrefix(k, prefix) {
			break
		}
		if end != nil && bytes.Compare(k[:len(k)-8], end) > 0 {
			break
		}
		seqs = append(seqs, binary.BigEndian.Uint64(k[len(k)-8:]))
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		e, err := Get(tx, seq)
		if err != nil {
			return err
		}
		if !q.Match(&e) {
			continue
		}
		if more, err := fn(e); err != nil || !more {
			return err
		}
	}
	return nil
}

func scanLog(tx *bbolt.Tx, q audit.Query, fn func(audit.Entry) (bool, error)) error {
	b := tx.Bucket(bucketLog)
	if b == nil {
		return nil
	}
	err := b.ForEach(func(k, rec []byte) error {
		e, _, err := audit.Decode(rec)
		if err != nil {
			return fmt.Errorf("audit entry %x: %w", k, err)
		}
		if !q.Match(&e) {
			return nil
		}
		more, err := fn(e)
		if err == nil && !more {
			return errStop
		}
		return err
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

var errStop = errors.New("stop")

// Store wraps a *bbolt.DB for callers with no other work in the same
// transaction. It is the audit.Recorder the hub's handlers are given.
//
// Once AnchorTo gives it an anchorer, every transaction that appends
// through the store anchors the head it leaves when it commits, inside
// bbolt's Commit: after the commit is on disk (so an anchor never names an
// entry a crash could lose) and before Update or Batch returns to the
// caller, who acknowledges nothing before then. A group commit anchors
// once for all its entries.
type Store struct {
	db  *bbolt.DB
	now func() time.Time

	mu       sync.Mutex
	anchorer *audit.Anchorer
	onErr    func(error)
	// The write transaction appending now and its pending anchor: bbolt
	// runs one write transaction at a time, so one is enough.
	cur     *bbolt.Tx
	pending *txAnchor
}

// txAnchor is the head a transaction leaves, and how anchoring it went.
type txAnchor struct {
	head audit.Head
	err  error
}

// New initialises the buckets in db (the hub's one file) and returns the
// store; now stamps entries recorded without a time.
func New(db *bbolt.DB, now func() time.Time) (*Store, error) {
	if err := db.Update(Init); err != nil {
		return nil, err
	}
	return &Store{db: db, now: now}, nil
}

var _ audit.Recorder = (*Store)(nil)

// ErrBehindAnchor is audit.ErrBehindAnchor.
var ErrBehindAnchor = audit.ErrBehindAnchor

// AnchorTo makes the store anchor every head it commits with a, whose Last
// is the last anchor kept. It first checks that the stored chain reaches
// that anchor with the same hash: a store that does not is refused (and
// nothing is appended to it through this store), since carrying on would
// number new entries over the missing ones. Entries recorded after the last
// anchor (a crash between a commit and its anchor, or a write by a program
// that does not anchor) are anchored at once. onErr hears of anchors that
// fail after their commit succeeded (nil: ignored).
func (s *Store) AnchorTo(a *audit.Anchorer, onErr func(error)) error {
	last := a.Last()
	var head audit.Head
	var at []byte
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		if head, err = Head(tx); err != nil {
			return err
		}
		if last.Seq > 0 {
			at = hashAt(tx, last.Seq)
			// Retention may have removed the anchored entry since: the
			// checkpoint then stands for it (and Verify ties the
			// checkpoint to the anchors).
			p, err := Pruned(tx)
			if err != nil {
				return err
			}
			switch {
			case at == nil && last.Seq == p.Through.Seq:
				at = p.Through.Hash[:]
			case at == nil && last.Seq < p.Through.Seq:
				at = last.Hash[:]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case last.Seq > head.Seq || (last.Seq > 0 && at == nil):
		return fmt.Errorf("%w: the last anchor names entry %d but the log ends at entry %d (its tail was cut, or the file is a backup older than the anchors)", ErrBehindAnchor, last.Seq, head.Seq)
	case last.Seq > 0 && !bytes.Equal(at, last.Hash[:]):
		return fmt.Errorf("%w: entry %d is not the one anchored (the log was rewritten, or the file is not the one the anchors were written for)", ErrBehindAnchor, last.Seq)
	}
	s.mu.Lock()
	s.anchorer, s.onErr = a, onErr
	s.mu.Unlock()
	if head.Seq > last.Seq {
		return a.Anchor(head)
	}
	return nil
}

// Anchored is the last head anchored; the zero Head when the store does not
// anchor or nothing was anchored yet.
func (s *Store) Anchored() audit.Head {
	s.mu.Lock()
	a := s.anchorer
	s.mu.Unlock()
	if a == nil {
		return audit.Head{}
	}
	return a.Last()
}

// Append appends e in tx, as the package's Append does, and when the store
// anchors, anchors the head tx leaves once tx commits.
func (s *Store) Append(tx *bbolt.Tx, e audit.Entry) (audit.Entry, error) {
	e, _, err := s.append(tx, e)
	return e, err
}

func (s *Store) append(tx *bbolt.Tx, e audit.Entry) (audit.Entry, *txAnchor, error) {
	e, head, err := appendEntry(tx, e)
	if err != nil {
		return e, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.anchorer == nil {
		return e, nil, nil
	}
	if s.cur != tx {
		// The first entry of this transaction: one anchor at its commit
		// covers every entry it appends, since each chains the ones before.
		p, a, onErr := &txAnchor{}, s.anchorer, s.onErr
		s.cur, s.pending = tx, p
		tx.OnCommit(func() {
			s.mu.Lock()
			if s.cur == tx {
				s.cur, s.pending = nil, nil
			}
			s.mu.Unlock()
			if p.err = a.Anchor(p.head); p.err != nil && onErr != nil {
				onErr(p.err)
			}
		})
	}
	s.pending.head = head
	return e, s.pending, nil
}

// Record appends e through bbolt's Batch: concurrent handlers share one
// commit, one fsync and one anchor, so auditing every read does not make
// reads wait on the disk one by one. It returns once the entry is on disk
// and, when the store anchors, anchored: a read whose anchor failed is
// recorded but not served.
func (s *Store) Record(ctx context.Context, e audit.Entry) error {
	return s.RecordAll(ctx, []audit.Entry{e})
}

// RecordAll appends es together, all or none, as Record appends one: a
// page that shows several persons' data (a day's protocol register) is
// served only once every one of those reads is on the record.
func (s *Store) RecordAll(ctx context.Context, es []audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Batch may run the function again after another member fails; Append
	// reads the head afresh each time, so a retry numbers the entries anew.
	var p *txAnchor
	err := s.db.Batch(func(tx *bbolt.Tx) error {
		for _, e := range es {
			if e.Time.IsZero() {
				e.Time = s.now()
			}
			var err error
			if _, p, err = s.append(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && p != nil && p.err != nil {
		return fmt.Errorf("the read is recorded but its anchor could not be written, so it is not served: %w", p.err)
	}
	return err
}

// Verify runs Verify on a snapshot and returns the verified head and the
// number of entries.
func (s *Store) Verify(published ...audit.Anchor) (h audit.Head, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { h, err = Verify(tx, published...); return err })
	return h, err
}

// Search returns the entries q selects, at most limit of them (0: all).
func (s *Store) Search(q audit.Query, limit int) (es []audit.Entry, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		return Search(tx, q, func(e audit.Entry) (bool, error) {
			es = append(es, e)
			return limit == 0 || len(es) < limit, nil
		})
	})
	return es, err
}

// Anchors returns the anchors of the closed days.
func (s *Store) Anchors() (as []audit.Anchor, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { as, err = Anchors(tx); return err })
	return as, err
}
