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
	p, err := Pruned(tx)
	if err != nil {
		return 0, false, err
	}
	head, err := Head(tx)
	if err != nil {
		return 0, false, err
	}
	w, done, err := audit.StartPrune(p, head, at, limit)
	if w == nil {
		return 0, done, err
	}
	subj, act, days := tx.Bucket(bucketSubject), tx.Bucket(bucketActor), tx.Bucket(bucketDays)
	var gone []audit.Entry
	c := log.Cursor()
	for k, rec := c.Seek(seqKey(w.From())); k != nil && w.More(); k, rec = c.Next() {
		seq := uint64(0)
		if len(k) == 8 {
			seq = binary.BigEndian.Uint64(k)
		}
		e, err := w.Next(seq, rec)
		if err != nil {
			return 0, false, err
		}
		gone = append(gone, e)
	}
	next, removed, done, err := w.Checkpoint()
	if err != nil {
		return 0, false, err
	}
	// Deleted after the walk: a bbolt cursor that deletes as it walks can
	// skip the key after each one it deletes.
	for _, e := range gone {
		for _, ix := range []struct {
			b   *bbolt.Bucket
			key []byte
		}{
			{subj, subjectKey(e.Subject, e.Seq)},
			{act, actorKey(e.Actor, e.Seq)},
			{days, dayKey(protocol.DayOf(e.Time), e.Seq)},
			{log, seqKey(e.Seq)},
		} {
			if err := ix.b.Delete(ix.key); err != nil {
				return 0, false, err
			}
		}
	}
	if err := putPruned(tx, next); err != nil {
		return 0, false, err
	}
	return removed, done, nil
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
