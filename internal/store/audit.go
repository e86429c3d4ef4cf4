package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
)

// ReadOnlyAudit is v with its changes refused with ErrReadOnly: the audit
// log's view in a View, for the backends.
func ReadOnlyAudit(v audit.Tx) audit.Tx { return readOnlyAudit{v} }

type readOnlyAudit struct{ audit.Tx }

func (readOnlyAudit) Append(audit.Entry) (audit.Entry, error) {
	return audit.Entry{}, fmt.Errorf("cannot record a read: %w", ErrReadOnly)
}

func (readOnlyAudit) Prune(audit.Head, int) (int, bool, error) {
	return 0, false, fmt.Errorf("cannot prune the audit log: %w", ErrReadOnly)
}

// Anchoring is a Store whose transactions anchor the audit log's head: an
// Update or Batch that appended to the log has the head it left signed and
// written to the anchor sinks once it has committed (so an anchor never
// names an entry a crash could lose) and before it returns (so nothing is
// acknowledged unanchored). The anchor is made from the head the
// transaction read back, as data: no backend's commit hook is involved, so
// it works the same on every backend.
//
// Several hubs on one database each anchor the heads their own
// transactions leave; each head chains every entry before it, whichever
// hub wrote them.
type Anchoring struct {
	Store
	a     *audit.Anchorer
	onErr func(error)

	mu sync.Mutex
	// committed is the furthest head a transaction of this Store has
	// committed: a caller anchors it rather than its own older head, so
	// callers committed together in one group share one anchor.
	committed audit.Head
}

// AnchorAudit makes s anchor every head it commits with a, whose Last is
// the last anchor kept. It first checks that the stored chain reaches
// that anchor with the same hash: a store that does not is refused (error
// wrapping audit.ErrBehindAnchor), since carrying on would number new
// entries over the missing ones. Entries recorded after the last anchor
// (a crash between a commit and its anchor, a write by a program that
// does not anchor, another hub) are anchored at once. onErr hears of
// anchors that fail after their commit succeeded (nil: ignored).
func AnchorAudit(ctx context.Context, s Store, a *audit.Anchorer, onErr func(error)) (*Anchoring, error) {
	last := a.Last()
	var head audit.Head
	var at *audit.Hash
	err := s.View(ctx, func(tx Tx) (err error) {
		lg := tx.Audit()
		if head, err = lg.Head(); err != nil || last.Seq == 0 {
			return err
		}
		p, err := lg.Pruned()
		if err != nil {
			return err
		}
		switch pt, err := lg.Point(last.Seq); {
		case err == nil:
			at = &pt.Hash
		case last.Seq == p.Through.Seq:
			// Retention removed the anchored entry since: the
			// checkpoint then stands for it (and Verify ties the
			// checkpoint to the anchors).
			at = &p.Through.Hash
		case last.Seq < p.Through.Seq:
			at = &last.Hash
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case last.Seq > head.Seq || (last.Seq > 0 && at == nil):
		return nil, fmt.Errorf("%w: the last anchor names entry %d but the log ends at entry %d (its tail was cut, or the data is a backup older than the anchors)", audit.ErrBehindAnchor, last.Seq, head.Seq)
	case last.Seq > 0 && *at != last.Hash:
		return nil, fmt.Errorf("%w: entry %d is not the one anchored (the log was rewritten, or the data is not the one the anchors were written for)", audit.ErrBehindAnchor, last.Seq)
	}
	as := &Anchoring{Store: s, a: a, onErr: onErr, committed: head}
	if head.Seq > last.Seq {
		if err := a.Anchor(head); err != nil {
			return nil, err
		}
	}
	return as, nil
}

// Anchored is the last head anchored.
func (s *Anchoring) Anchored() audit.Head { return s.a.Last() }

// Update runs fn as the Store does and anchors the head it leaves. An
// anchor that fails after the commit is reported to onErr, not returned:
// the transaction's work stands.
func (s *Anchoring) Update(ctx context.Context, fn func(Tx) error) error {
	err, _ := s.run(ctx, s.Store.Update, fn)
	return err
}

// Batch is Update through the Store's Batch.
func (s *Anchoring) Batch(ctx context.Context, fn func(Tx) error) error {
	err, _ := s.run(ctx, s.Store.Batch, fn)
	return err
}

func (s *Anchoring) run(ctx context.Context, update func(context.Context, func(Tx) error) error, fn func(Tx) error) (err, anchorErr error) {
	var head audit.Head
	err = update(ctx, func(tx Tx) error {
		// Batch may run fn again after another member failed: each run
		// starts afresh.
		head = audit.Head{}
		at := &anchorTx{Tx: tx}
		if err := fn(at); err != nil {
			return err
		}
		if at.view != nil && at.view.appended {
			h, err := tx.Audit().Head()
			if err != nil {
				return err
			}
			head = h
		}
		return nil
	})
	if err != nil || head.Seq == 0 {
		return err, nil
	}
	s.mu.Lock()
	if head.Seq > s.committed.Seq {
		s.committed = head
	}
	head = s.committed
	s.mu.Unlock()
	if anchorErr = s.a.Anchor(head); anchorErr != nil && s.onErr != nil {
		s.onErr(anchorErr)
	}
	return nil, anchorErr
}

// Numbering is the Store's numbering, whose annulments, recorded in the
// audit log by the backend in the transaction that writes them, are
// anchored once that has committed, as an Update's entries are.
func (s *Anchoring) Numbering() protocol.Numbering {
	return anchoringNumbering{Numbering: s.Store.Numbering(), s: s}
}

type anchoringNumbering struct {
	protocol.Numbering
	s *Anchoring
}

// anchor anchors the head the log has now, if annulments were recorded.
func (n anchoringNumbering) anchor(ctx context.Context, annulled int) {
	if annulled == 0 {
		return
	}
	var head audit.Head
	err := n.s.Store.View(ctx, func(tx Tx) (err error) { head, err = tx.Audit().Head(); return err })
	if err == nil {
		n.s.mu.Lock()
		if head.Seq > n.s.committed.Seq {
			n.s.committed = head
		}
		head = n.s.committed
		n.s.mu.Unlock()
		err = n.s.a.Anchor(head)
	}
	if err != nil && n.s.onErr != nil {
		n.s.onErr(err)
	}
}

func (n anchoringNumbering) Registered(ctx context.Context, num protocol.Number, at time.Time) ([]protocol.Entry, error) {
	out, err := n.Numbering.Registered(ctx, num, at)
	n.anchor(ctx, len(out))
	return out, err
}

func (n anchoringNumbering) Abandon(ctx context.Context, num protocol.Number, at time.Time, reason, ref string) (*protocol.Entry, error) {
	e, err := n.Numbering.Abandon(ctx, num, at, reason, ref)
	if e != nil {
		n.anchor(ctx, 1)
	}
	return e, err
}

func (n anchoringNumbering) Recover(ctx context.Context, at time.Time) ([]protocol.Entry, error) {
	out, err := n.Numbering.Recover(ctx, at)
	n.anchor(ctx, len(out))
	return out, err
}

// anchorTx notes whether fn appended to the audit log.
type anchorTx struct {
	Tx
	view *anchorView
}

func (t *anchorTx) Audit() audit.Tx {
	if t.view == nil {
		t.view = &anchorView{Tx: t.Tx.Audit()}
	}
	return t.view
}

type anchorView struct {
	audit.Tx
	appended bool
}

func (v *anchorView) Append(e audit.Entry) (audit.Entry, error) {
	e, err := v.Tx.Append(e)
	if err == nil {
		v.appended = true
	}
	return e, err
}

// Recorder is the audit.Recorder the hub's handlers are given: each
// Record is its own Batch, so concurrent handlers share one commit (and,
// on an Anchoring store, one anchor).
type Recorder struct {
	s   Store
	now func() time.Time
}

var _ audit.Recorder = Recorder{}

// NewRecorder records in s; now stamps entries recorded without a time
// (nil: such entries are refused, as having no time).
func NewRecorder(s Store, now func() time.Time) Recorder { return Recorder{s: s, now: now} }

// Record appends e. It returns once the entry is committed and, when s
// anchors, anchored: a read whose anchor failed is recorded but not
// served.
func (r Recorder) Record(ctx context.Context, e audit.Entry) error {
	return r.RecordAll(ctx, []audit.Entry{e})
}

// RecordAll appends es together, all or none, as Record appends one: a
// page that shows several persons' data (a day's protocol register) is
// served only once every one of those reads is on the record.
func (r Recorder) RecordAll(ctx context.Context, es []audit.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fn := func(tx Tx) error {
		lg := tx.Audit()
		for _, e := range es {
			if e.Time.IsZero() && r.now != nil {
				e.Time = r.now()
			}
			if _, err := lg.Append(e); err != nil {
				return err
			}
		}
		return nil
	}
	if as, ok := r.s.(*Anchoring); ok {
		err, anchorErr := as.run(ctx, as.Store.Batch, fn)
		if err == nil && anchorErr != nil {
			return fmt.Errorf("the read is recorded but its anchor could not be written, so it is not served: %w", anchorErr)
		}
		return err
	}
	return r.s.Batch(ctx, fn)
}

// AuditLog is s's audit log outside any transaction, each call its own:
// retention's view of it (retention.AuditLog, each pruning batch its own
// transaction) and searches for the console and the convention kit.
type AuditLog struct {
	S Store
	// Ctx is the context the calls run under; nil is Background.
	Ctx context.Context
}

func (l AuditLog) ctx() context.Context {
	if l.Ctx == nil {
		return context.Background()
	}
	return l.Ctx
}

// Expired is audit.Tx's Expired on a snapshot.
func (l AuditLog) Expired(cutoff time.Time) (n int, last audit.Head, err error) {
	err = l.S.View(l.ctx(), func(tx Tx) error { n, last, err = tx.Audit().Expired(cutoff); return err })
	return n, last, err
}

// Pruned is audit.Tx's Pruned on a snapshot.
func (l AuditLog) Pruned() (p audit.Pruned, err error) {
	err = l.S.View(l.ctx(), func(tx Tx) error { p, err = tx.Audit().Pruned(); return err })
	return p, err
}

// Prune is audit.Tx's Prune in a transaction of its own.
func (l AuditLog) Prune(at audit.Head, limit int) (n int, done bool, err error) {
	err = l.S.Update(l.ctx(), func(tx Tx) error { n, done, err = tx.Audit().Prune(at, limit); return err })
	return n, done, err
}

// Search returns the entries q selects, at most limit of them (0: all).
func (l AuditLog) Search(q audit.Query, limit int) (es []audit.Entry, err error) {
	err = l.S.View(l.ctx(), func(tx Tx) error {
		es = es[:0]
		return tx.Audit().Search(q, func(e audit.Entry) (bool, error) {
			es = append(es, e)
			return limit == 0 || len(es) < limit, nil
		})
	})
	return es, err
}

// Verify is audit.Tx's Verify on a snapshot.
func (l AuditLog) Verify(published ...audit.Anchor) (h audit.Head, err error) {
	err = l.S.View(l.ctx(), func(tx Tx) error { h, err = tx.Audit().Verify(published...); return err })
	return h, err
}
