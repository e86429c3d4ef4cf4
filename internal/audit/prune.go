package audit

import (
	"fmt"
	"time"
)

// MinRetentionMonths is the least time an entry is kept before retention
// may remove it: the Polis model the law accepts for certificates issued
// outside the registry office keeps every issuance and its log 36 months
// (DL 50/2022 art. 38; Garante, parere n. 493 del 26 ottobre 2023). A
// city may keep them longer, never shorter, and verification refuses a
// pruned chain whose anchors show it was cut sooner.
const MinRetentionMonths = 36

// Pruned is where a chain begins once retention has removed its oldest
// entries. Removal goes by age from the start of the chain, in batches:
// Through is the last entry removed so far (the first kept entry chains
// from its hash), At the point the removal was decided up to, which a
// signed anchor recorded when the entry was new. While a removal is under
// way Through is before At; once done they are the same point.
//
// Through alone proves nothing (anyone editing the file could write one);
// the chain from Through must reach At with At's hash, and At must match
// a signed anchor (AnchorCheck.ConfirmPruned): so removing entries cannot
// hide a rewrite of the ones kept, and cannot remove entries younger than
// MinRetentionMonths by the hub's own signed clock.
type Pruned struct {
	Through Head `json:"through"`
	At      Head `json:"at"`
}

// IsZero reports whether nothing was pruned.
func (p Pruned) IsZero() bool { return p.Through.Seq == 0 }

// Validate checks the checkpoint's shape.
func (p Pruned) Validate() error {
	if p.IsZero() {
		return nil
	}
	if p.At.Seq < p.Through.Seq {
		return fmt.Errorf("%w: the retention checkpoint removed entries up to %d beyond the point %d it was decided at", ErrDamaged, p.Through.Seq, p.At.Seq)
	}
	if p.At.Seq == p.Through.Seq && p.At.Hash != p.Through.Hash {
		return fmt.Errorf("%w: the retention checkpoint gives two hashes for entry %d", ErrDamaged, p.At.Seq)
	}
	return nil
}

// StartAfter makes v begin after a pruned start: the next entry it takes
// is p.Through.Seq+1, chained from p.Through.Hash, and entry p.At.Seq must
// have p.At's hash. Call it before the first Add.
func (v *Verifier) StartAfter(p Pruned) {
	if p.IsZero() {
		return
	}
	v.head = p.Through
	if p.At.Seq > p.Through.Seq {
		v.anchors[p.At.Seq] = append(v.anchors[p.At.Seq], Anchor{Head: p.At, Source: "the retention checkpoint"})
	}
}

// Watch asks c to keep the signed anchor of entry h.Seq (the retention
// checkpoint's At) when a line names it, however many lines come after:
// one with h's hash if any, else the first. Call it before the first Add.
func (c *AnchorCheck) Watch(h Head) { c.watch = h }

// keepWatched is Add's part for Watch.
func (c *AnchorCheck) keepWatched(s SignedHead, where string) {
	if c.watch.Seq == 0 || s.Seq != c.watch.Seq {
		return
	}
	if c.watched.Seq == 0 || (c.watched.Hash != c.watch.Hash && s.Hash == c.watch.Hash) {
		c.watched, c.watchedWhere = s, where
	}
}

// ConfirmPruned checks a retention checkpoint against the signed anchors
// added: one must name p.At with its hash, and another must have been
// signed at least minMonths after it, so the hub's own signed clock shows
// the removed entries were that old. The zero Pruned needs nothing.
func (c *AnchorCheck) ConfirmPruned(p Pruned, minMonths int) error {
	if p.IsZero() {
		return nil
	}
	w := c.watched
	switch {
	case c.watch.Seq != p.At.Seq || w.Seq == 0:
		return fmt.Errorf("%w: entries 1–%d were removed by retention at the point %d, but no signed anchor names entry %d, so the removal could hide a rewrite",
			ErrBroken, p.Through.Seq, p.At.Seq, p.At.Seq)
	case w.Hash != p.At.Hash:
		return fmt.Errorf("%w: entries 1–%d were removed by retention at entry %d with hash %s, but %s says %s: the log was rewritten before it was pruned",
			ErrBroken, p.Through.Seq, p.At.Seq, p.At.Hash, c.watchedWhere, w.Hash)
	}
	due := w.Time.AddDate(0, minMonths, 0)
	if c.Newest.Before(due) {
		return fmt.Errorf("%w: entries 1–%d were removed by retention, but entry %d was anchored on %s and the latest anchor on %s, less than the %d months entries are kept",
			ErrBroken, p.Through.Seq, p.At.Seq, w.Time.Format(time.DateOnly), c.Newest.Format(time.DateOnly), minMonths)
	}
	return nil
}

// PruneWalk is the backend-neutral part of a store's Prune: it decides
// whether a batch has anything to remove, checks every entry the batch
// removes as Verify would, in number order from the checkpoint, and gives
// the checkpoint to store once they are gone. A store reads the entries
// after the checkpoint while More is true, hands each to Next, deletes the
// ones Next accepted and stores Checkpoint.
type PruneWalk struct {
	p     Pruned
	at    Head
	limit int
	prev  Head
	n     int
}

// StartPrune checks a request to prune up to at, at most limit entries,
// against the checkpoint p and the recorded head. When there is nothing
// to remove it returns a nil walk and whether the chain already starts
// after at.
func StartPrune(p Pruned, head, at Head, limit int) (w *PruneWalk, done bool, err error) {
	if limit < 1 {
		return nil, false, fmt.Errorf("a pruning batch must remove at least one entry, not %d", limit)
	}
	switch {
	case at.Seq == 0:
		return nil, true, nil
	case at.Seq > head.Seq:
		return nil, false, fmt.Errorf("cannot prune the audit log up to entry %d: it ends at entry %d", at.Seq, head.Seq)
	case at.Seq == p.At.Seq && at.Hash != p.At.Hash:
		return nil, false, fmt.Errorf("%w: entry %d has hash %s by the retention checkpoint, not %s", ErrBroken, at.Seq, p.At.Hash, at.Hash)
	case p.Through.Seq >= at.Seq:
		return nil, true, nil
	}
	return &PruneWalk{p: p, at: at, limit: limit, prev: p.Through}, false, nil
}

// From is the number of the first entry the walk takes.
func (w *PruneWalk) From() uint64 { return w.p.Through.Seq + 1 }

// More reports whether the walk takes another entry.
func (w *PruneWalk) More() bool { return w.n < w.limit && w.prev.Seq < w.at.Seq }

// Next checks the next stored record, found under number key: it must be
// the entry after the last one taken, whole, and at the anchored points
// have the anchored hash. It returns the entry, whose search keys the
// store deletes with it.
func (w *PruneWalk) Next(key uint64, record []byte) (Entry, error) {
	seq := w.prev.Seq + 1
	if key != seq {
		return Entry{}, &Break{Seq: seq, Problem: "is missing, so the log is not pruned over the gap"}
	}
	e, stored, err := Decode(record)
	if err != nil {
		return Entry{}, &Break{Seq: seq, Problem: fmt.Sprintf("cannot be read (%v), so the log is not pruned over it", err)}
	}
	if e.Seq != seq || Link(w.prev.Hash, &e) != stored {
		return Entry{}, &Break{Seq: seq, Problem: "does not match its hash, so the log is not pruned over it"}
	}
	for _, want := range []Head{w.at, w.p.At} {
		if seq == want.Seq && stored != want.Hash {
			return Entry{}, &Break{Seq: seq, Problem: fmt.Sprintf("has hash %s, not the %s anchored: the log was rewritten, so it is not pruned", stored, want.Hash)}
		}
	}
	w.n++
	w.prev = Head{Seq: seq, Hash: stored}
	return e, nil
}

// Checkpoint is the checkpoint to store once the entries taken are
// deleted, the number of them, and whether the chain now starts after the
// point asked for. A walk that took nothing found a gap: an error.
func (w *PruneWalk) Checkpoint() (p Pruned, removed int, done bool, err error) {
	if w.n == 0 {
		return w.p, 0, false, &Break{Seq: w.prev.Seq + 1, Problem: "is missing, so the log is not pruned over the gap"}
	}
	// The checkpoint keeps the furthest point ever decided: a city that
	// lengthened its period since stops earlier, but the chain must still
	// reach the point an earlier run anchored its removal to.
	decided := w.at
	if w.p.At.Seq > w.at.Seq {
		decided = w.p.At
	}
	return Pruned{Through: w.prev, At: decided}, w.n, w.prev.Seq == w.at.Seq, nil
}
