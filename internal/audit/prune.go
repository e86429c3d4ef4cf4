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
