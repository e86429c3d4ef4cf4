package auditbolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
)

// keyPruned, in audit_meta, holds the retention checkpoint (audit.Pruned):
// Through.Seq ‖ Through.Hash ‖ At.Seq ‖ At.Hash.
var keyPruned = []byte("pruned")

const prunedLen = 2 * (8 + len(audit.Hash{}))

// Pruned returns the retention checkpoint; the zero Pruned when no entry
// was ever removed.
func Pruned(tx *bbolt.Tx) (audit.Pruned, error) {
	var p audit.Pruned
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return p, nil
	}
	v := meta.Get(keyPruned)
	if v == nil {
		return p, nil
	}
	if len(v) != prunedLen {
		return p, fmt.Errorf("%w: the retention checkpoint has %d bytes", ErrDamaged, len(v))
	}
	p.Through.Seq = binary.BigEndian.Uint64(v)
	copy(p.Through.Hash[:], v[8:40])
	p.At.Seq = binary.BigEndian.Uint64(v[40:])
	copy(p.At.Hash[:], v[48:])
	if p.Through.Seq == 0 {
		return p, fmt.Errorf("%w: the retention checkpoint names no entry", ErrDamaged)
	}
	return p, p.Validate()
}

func putPruned(tx *bbolt.Tx, p audit.Pruned) error {
	v := binary.BigEndian.AppendUint64(nil, p.Through.Seq)
	v = append(v, p.Through.Hash[:]...)
	v = binary.BigEndian.AppendUint64(v, p.At.Seq)
	v = append(v, p.At.Hash[:]...)
	return tx.Bucket(bucketMeta).Put(keyPruned, v)
}

// Expired returns the run of entries recorded before cutoff at the start of
// the kept chain: how many there are and the last of them (the zero Head
// when the first kept entry is not older). Retention removes entries only
// from the start and by age, so an entry recorded late with an old time (a
// clock stepped back) stays until every entry before it may go.
func Expired(tx *bbolt.Tx, cutoff time.Time) (n int, last audit.Head, err error) {
	b := tx.Bucket(bucketLog)
	if b == nil {
		return 0, last, nil
	}
	p, err := Pruned(tx)
	if err != nil {
		return 0, last, err
	}
	c := b.Cursor()
	for k, rec := c.Seek(seqKey(p.Through.Seq + 1)); k != nil; k, rec = c.Next() {
		e, h, err := audit.Decode(rec)
		if err != nil {
			return 0, last, fmt.Errorf("audit entry %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if !e.Time.Before(cutoff) {
			break
		}
		n++
		last = audit.Head{Seq: e.Seq, Hash: h}
	}
	return n, last, nil
}

// Oldest returns the first entry kept, and false for an empty log.
func Oldest(tx *bbolt.Tx) (audit.Entry, bool, error) {
	b := tx.Bucket(bucketLog)
	if b == nil {
		return audit.Entry{}, false, nil
	}
	k, rec := b.Cursor().First()
	if k == nil {
		return audit.Entry{}, false, nil
	}
	e, _, err := audit.Decode(rec)
	if err != nil {
		return e, false, fmt.Errorf("audit entry %d: %w", binary.BigEndian.Uint64(k), err)
	}
	return e, true, nil
}

// Prune removes, in tx, at most limit entries from the start of the kept
// chain, none beyond at (a point a signed anchor recorded, chosen by the
// caller; a point before the checkpoint's At is allowed, At stays), with their index keys, and moves the retention checkpoint past
// them. It checks every entry it removes as Verify would, from the
// checkpoint's hash, and that entry at.Seq has at's hash: a chain that is
// broken, or was rewritten, is not pruned, so removal never hides the
// evidence of it. It returns how many entries went and whether the chain
// now starts after at. The stored daily anchors stay: they hold no
// personal data and still tell which entries each closed day ended at.
func Prune(tx *bbolt.Tx, at audit.Head, limit int) (removed int, done bool, err error) {
	log, meta := tx.Bucket(bucketLog), tx.Bucket(bucketMeta)
	if log == nil || meta == nil {
		return 0, false, fmt.Errorf("%w: call auditbolt.Init when opening the hub's file", ErrNotInitialised)
	}
	if limit < 1 {
		return 0, false, fmt.Errorf("a pruning batch must remove at least one entry, not %d", limit)
	}
	p, err := Pruned(tx)
	if err != nil {
		return 0, false, err
	}
	head, err := Head(tx)
	if err != nil {
		return 0, false, err
	}
	switch {
	case at.Seq == 0:
		return 0, true, nil
	case at.Seq > head.Seq:
		return 0, false, fmt.Errorf("cannot prune the audit log up to entry %d: it ends at entry %d", at.Seq, head.Seq)
	case at.Seq == p.At.Seq && at.Hash != p.At.Hash:
		return 0, false, fmt.Errorf("%w: entry %d has hash %s by the retention checkpoint, not %s", audit.ErrBroken, at.Seq, p.At.Hash, at.Hash)
	case p.Through.Seq >= at.Seq:
		return 0, true, nil
	}
	subj, act, days := tx.Bucket(bucketSubject), tx.Bucket(bucketActor), tx.Bucket(bucketDays)
	type doomed struct {
		seq uint64
		e   audit.Entry
	}
	var gone []doomed
	prev := p.Through
	c := log.Cursor()
	for k, rec := c.Seek(seqKey(prev.Seq + 1)); k != nil && len(gone) < limit && prev.Seq < at.Seq; k, rec = c.Next() {
		if len(k) != 8 || binary.BigEndian.Uint64(k) != prev.Seq+1 {
			return 0, false, &audit.Break{Seq: prev.Seq + 1, Problem: "is missing, so the log is not pruned over the gap"}
		}
		seq := prev.Seq + 1
		e, stored, err := audit.Decode(rec)
		if err != nil {
			return 0, false, &audit.Break{Seq: seq, Problem: fmt.Sprintf("cannot be read (%v), so the log is not pruned over it", err)}
		}
		if e.Seq != seq || audit.Link(prev.Hash, &e) != stored {
			return 0, false, &audit.Break{Seq: seq, Problem: "does not match its hash, so the log is not pruned over it"}
		}
		for _, want := range []audit.Head{at, p.At} {
			if seq == want.Seq && stored != want.Hash {
				return 0, false, &audit.Break{Seq: seq, Problem: fmt.Sprintf("has hash %s, not the %s anchored: the log was rewritten, so it is not pruned", stored, want.Hash)}
			}
		}
		gone = append(gone, doomed{seq, e})
		prev = audit.Head{Seq: seq, Hash: stored}
	}
	if len(gone) == 0 {
		return 0, false, &audit.Break{Seq: prev.Seq + 1, Problem: "is missing, so the log is not pruned over the gap"}
	}
	// Deleted after the walk: a bbolt cursor that deletes as it walks can
	// skip the key after each one it deletes.
	for _, g := range gone {
		for _, ix := range []struct {
			b   *bbolt.Bucket
			key []byte
		}{
			{subj, subjectKey(g.e.Subject, g.seq)},
			{act, actorKey(g.e.Actor, g.seq)},
			{days, dayKey(protocol.DayOf(g.e.Time), g.seq)},
			{log, seqKey(g.seq)},
		} {
			if err := ix.b.Delete(ix.key); err != nil {
				return 0, false, err
			}
		}
	}
	// The checkpoint keeps the furthest point ever decided: a city that
	// lengthened its period since stops earlier, but the chain must still
	// reach the point an earlier run anchored its removal to.
	decided := at
	if p.At.Seq > at.Seq {
		decided = p.At
	}
	if err := putPruned(tx, audit.Pruned{Through: prev, At: decided}); err != nil {
		return 0, false, err
	}
	return len(gone), prev.Seq == at.Seq, nil
}

// hashAt is the stored hash of entry seq, nil when the log has no such entry.
func hashAt(tx *bbolt.Tx, seq uint64) []byte {
	if b := tx.Bucket(bucketLog); b != nil {
		if rec := b.Get(seqKey(seq)); rec != nil {
			return bytes.Clone(rec[len(rec)-len(audit.Hash{}):])
		}
	}
	return nil
}

// Retention is the audit log's side of retention (retention.AuditLog) on
// db: each pruning batch its own transaction.
type Retention struct{ DB *bbolt.DB }

func (s Retention) Expired(cutoff time.Time) (n int, last audit.Head, err error) {
	err = s.DB.View(func(tx *bbolt.Tx) error { n, last, err = Expired(tx, cutoff); return err })
	return n, last, err
}

func (s Retention) Pruned() (p audit.Pruned, err error) {
	err = s.DB.View(func(tx *bbolt.Tx) error { p, err = Pruned(tx); return err })
	return p, err
}

func (s Retention) Prune(at audit.Head, limit int) (n int, done bool, err error) {
	err = s.DB.Update(func(tx *bbolt.Tx) error { n, done, err = Prune(tx, at, limit); return err })
	return n, done, err
}
