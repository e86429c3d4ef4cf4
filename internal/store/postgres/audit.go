package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
)

// auditLog is the audit log's view of one transaction (migration 0004).
type auditLog struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	// locked is the head this transaction holds the row lock of, once it
	// has appended: the lock lasts until the transaction ends, so the
	// head cannot move under it and need not be read again.
	locked *pgHead
}

var _ audit.Tx = (*auditLog)(nil)

// pgHead is the head row: the chain head and the latest day seen.
type pgHead struct {
	audit.Head
	day string
}

// auditPage is how many entries a walk reads per query: a walk never
// keeps a query open while it calls back, so fn may take its time.
const auditPage = 1000

func hashOf(b []byte, what string) (audit.Hash, error) {
	var h audit.Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("%w: %s has %d bytes, not a SHA-256 hash", audit.ErrStoreDamaged, what, len(b))
	}
	copy(h[:], b)
	return h, nil
}

func (l *auditLog) readHead(lock string) (pgHead, error) {
	var h pgHead
	var hash []byte
	var seq int64
	err := l.tx.QueryRow(l.ctx, "SELECT seq, hash, day FROM audit_head "+lock).Scan(&seq, &hash, &h.day)
	if err != nil {
		return h, fmt.Errorf("cannot read the audit log's head: %w", err)
	}
	h.Seq = uint64(seq)
	if h.Hash, err = hashOf(hash, "the chain head"); err != nil {
		return h, err
	}
	return h, nil
}

func (l *auditLog) Head() (audit.Head, error) {
	if l.locked != nil {
		return l.locked.Head, nil
	}
	h, err := l.readHead("")
	return h.Head, err
}

func (l *auditLog) Append(e audit.Entry) (audit.Entry, error) {
	if l.locked == nil {
		// Every hub on the database queues here: one chain, no fork.
		h, err := l.readHead("FOR UPDATE")
		if err != nil {
			return audit.Entry{}, err
		}
		l.locked = &h
	}
	h := l.locked
	record, next, err := audit.Next(h.Head, &e)
	if err != nil {
		return audit.Entry{}, err
	}
	day := string(protocol.DayOf(e.Time).Key())
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO audit_log (seq, day, subject, actor_kind, actor_id, clerk_id, record)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		int64(e.Seq), day, e.Subject, string(e.Actor.Kind), e.Actor.ID, e.Clerk.ID, record)
	headDay := day
	switch {
	case h.day != "" && h.day < day:
		// The first read of a new day closes the previous one: its last
		// entry is the anchor. Never overwritten, so a clock that steps
		// back cannot move a published anchor.
		b.Queue("INSERT INTO audit_anchors (day, seq, hash) VALUES ($1, $2, $3) ON CONFLICT (day) DO NOTHING",
			h.day, int64(h.Seq), h.Hash[:])
	case h.day > day:
		headDay = h.day // the clock stepped back: the head's day stays the latest seen
	}
	b.Queue("UPDATE audit_head SET seq = $1, hash = $2, day = $3", int64(next.Seq), next.Hash[:], headDay)
	if err := l.tx.SendBatch(l.ctx, b).Close(); err != nil {
		if isUniqueViolation(err) {
			// Only data edited behind the log's back gets here.
			return audit.Entry{}, fmt.Errorf("%w: entry %d exists beyond the recorded head %d", audit.ErrStoreDamaged, e.Seq, h.Seq)
		}
		return audit.Entry{}, fmt.Errorf("cannot record the read of %s: %w", e.Subject, err)
	}
	h.Head, h.day = next, headDay
	return e, nil
}

func (l *auditLog) record(seq uint64) ([]byte, error) {
	var rec []byte
	err := l.tx.QueryRow(l.ctx, "SELECT record FROM audit_log WHERE seq = $1", int64(seq)).Scan(&rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: there is no audit entry %d", audit.ErrNotFound, seq)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read audit entry %d: %w", seq, err)
	}
	return rec, nil
}

func (l *auditLog) Get(seq uint64) (audit.Entry, error) {
	rec, err := l.record(seq)
	if err != nil {
		return audit.Entry{}, err
	}
	e, _, err := audit.Decode(rec)
	if err != nil {
		return audit.Entry{}, fmt.Errorf("audit entry %d: %w", seq, err)
	}
	return e, nil
}

func (l *auditLog) Point(seq uint64) (audit.Head, error) {
	rec, err := l.record(seq)
	if err != nil {
		return audit.Head{}, err
	}
	if len(rec) < len(audit.Hash{}) {
		return audit.Head{}, fmt.Errorf("audit entry %d: %w: %d bytes is too short for an entry", seq, audit.ErrDamaged, len(rec))
	}
	p := audit.Head{Seq: seq}
	copy(p.Hash[:], rec[len(rec)-len(p.Hash):])
	return p, nil
}

// row is one stored entry with the columns searches select by.
type auditRow struct {
	seq                              uint64
	day, subject, kind, actor, clerk string
	record                           []byte
}

// walk calls fn with the rows after seq that where selects (a condition
// on audit_log, with args from $2), in number order, a page at a time.
func (l *auditLog) walk(after uint64, where string, args []any, fn func(auditRow) (bool, error)) error {
	if where == "" {
		where = "true"
	}
	q := fmt.Sprintf(`SELECT seq, day, subject, actor_kind, actor_id, clerk_id, record FROM audit_log
		WHERE seq > $1 AND (%s) ORDER BY seq LIMIT %d`, where, auditPage)
	for {
		rows, err := l.tx.Query(l.ctx, q, append([]any{int64(after)}, args...)...)
		if err != nil {
			return fmt.Errorf("cannot read the audit log: %w", err)
		}
		page, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auditRow, error) {
			var a auditRow
			var seq int64
			err := r.Scan(&seq, &a.day, &a.subject, &a.kind, &a.actor, &a.clerk, &a.record)
			a.seq = uint64(seq)
			return a, err
		})
		if err != nil {
			return fmt.Errorf("cannot read the audit log: %w", err)
		}
		for _, a := range page {
			if more, err := fn(a); err != nil || !more {
				return err
			}
			after = a.seq
		}
		if len(page) < auditPage {
			return nil
		}
	}
}

func (l *auditLog) Search(q audit.Query, fn func(audit.Entry) (bool, error)) error {
	var conds []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)+1) }
	if q.Subject != "" {
		conds = append(conds, "subject = "+arg(strings.ToUpper(strings.TrimSpace(q.Subject))))
	}
	switch {
	case strings.HasPrefix(q.Actor, "clerk:"):
		// As Match reads it: the clerk, or an actor of that literal id.
		conds = append(conds, fmt.Sprintf("(clerk_id = %s OR actor_id = %s)", arg(strings.TrimPrefix(q.Actor, "clerk:")), arg(q.Actor)))
	case q.Actor != "":
		if a, err := audit.ParseActor(q.Actor); err == nil {
			conds = append(conds, fmt.Sprintf("((actor_id = %s AND actor_kind = %s) OR actor_id = %s)", arg(a.ID), arg(string(a.Kind)), arg(q.Actor)))
		} else {
			conds = append(conds, "actor_id = "+arg(q.Actor))
		}
	}
	if q.From != (protocol.Day{}) {
		conds = append(conds, "day >= "+arg(string(q.From.Key())))
	}
	if q.To != (protocol.Day{}) {
		conds = append(conds, "day <= "+arg(string(q.To.Key())))
	}
	return l.walk(0, strings.Join(conds, " AND "), args, func(a auditRow) (bool, error) {
		e, _, err := audit.Decode(a.record)
		if err != nil {
			return false, fmt.Errorf("audit entry %d: %w", a.seq, err)
		}
		if !q.Match(&e) {
			return true, nil
		}
		return fn(e)
	})
}

func (l *auditLog) Count() (int, error) {
	var n int64
	if err := l.tx.QueryRow(l.ctx, "SELECT count(*) FROM audit_log").Scan(&n); err != nil {
		return 0, fmt.Errorf("cannot count the audit log's entries: %w", err)
	}
	return int(n), nil
}

func (l *auditLog) Anchors() ([]audit.Anchor, error) {
	rows, err := l.tx.Query(l.ctx, "SELECT day, seq, hash FROM audit_anchors ORDER BY day")
	if err != nil {
		return nil, fmt.Errorf("cannot read the audit log's anchors: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (audit.Anchor, error) {
		var day string
		var seq int64
		var hash []byte
		if err := r.Scan(&day, &seq, &hash); err != nil {
			return audit.Anchor{}, fmt.Errorf("cannot read the audit log's anchors: %w", err)
		}
		d, err := parseDayKey(day)
		if err != nil {
			return audit.Anchor{}, fmt.Errorf("%w: the anchor stored under %q cannot be read", audit.ErrStoreDamaged, day)
		}
		a := audit.Anchor{Day: d}
		a.Seq = uint64(seq)
		a.Hash, err = hashOf(hash, "the anchor of "+day)
		return a, err
	})
}

func parseDayKey(k string) (protocol.Day, error) {
	if len(k) != 8 {
		return protocol.Day{}, fmt.Errorf("%q is not a day key", k)
	}
	return protocol.ParseDay(k[:4] + "-" + k[4:6] + "-" + k[6:])
}

func (l *auditLog) Verify(published ...audit.Anchor) (audit.Head, error) {
	// In a read-write transaction (READ COMMITTED) the walk would see
	// entries committed after it read the head: holding the head row
	// keeps appenders out until it ends. It is locked as Append locks it,
	// FOR UPDATE, and kept as this transaction's: a shared lock that a
	// later Append in the same transaction upgraded deadlocked with any
	// other transaction doing the same (each waiting for the other's
	// share). A View is one snapshot already.
	if l.writable && l.locked == nil {
		h, err := l.readHead("FOR UPDATE")
		if err != nil {
			return audit.Head{}, err
		}
		l.locked = &h
	}
	var recorded pgHead
	if l.locked != nil {
		recorded = *l.locked
	} else {
		h, err := l.readHead("")
		if err != nil {
			return audit.Head{}, err
		}
		recorded = h
	}
	stored, err := l.Anchors()
	if err != nil {
		return audit.Head{}, err
	}
	pruned, err := l.Pruned()
	if err != nil {
		return audit.Head{}, err
	}
	v := audit.NewVerifier(append(stored, published...)...)
	v.StartAfter(pruned)
	// A break in the chain says more than a misfiled column, so the
	// columns are reported only once the chain is found whole.
	var indexBreak *audit.Break
	err = l.walk(0, "", nil, func(a auditRow) (bool, error) {
		e, err := v.Add(a.seq, a.record)
		if err != nil {
			return false, err
		}
		if indexBreak != nil {
			return true, nil
		}
		for _, c := range []struct{ got, want, name string }{
			{a.subject, e.Subject, "subject"},
			{a.kind + ":" + a.actor, e.Actor.String(), "actor"},
			{a.clerk, e.Clerk.ID, "clerk"},
			{a.day, string(protocol.DayOf(e.Time).Key()), "day"},
		} {
			if c.got != c.want {
				indexBreak = &audit.Break{Seq: a.seq, Problem: fmt.Sprintf("is filed under the %s %q, not its own %q, so a search would hide it", c.name, c.got, c.want)}
				break
			}
		}
		return true, nil
	})
	if err != nil {
		return audit.Head{}, err
	}
	h, err := v.Finish(recorded.Head)
	if err == nil && indexBreak != nil {
		return h, indexBreak
	}
	return h, err
}

func (l *auditLog) Oldest() (audit.Entry, bool, error) {
	var rec []byte
	var seq int64
	err := l.tx.QueryRow(l.ctx, "SELECT seq, record FROM audit_log ORDER BY seq LIMIT 1").Scan(&seq, &rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Entry{}, false, nil
	}
	if err != nil {
		return audit.Entry{}, false, fmt.Errorf("cannot read the audit log: %w", err)
	}
	e, _, err := audit.Decode(rec)
	if err != nil {
		return e, false, fmt.Errorf("audit entry %d: %w", seq, err)
	}
	return e, true, nil
}

func (l *auditLog) pruned(lock string) (audit.Pruned, error) {
	var p audit.Pruned
	var ts, as int64
	var th, ah []byte
	err := l.tx.QueryRow(l.ctx, "SELECT through_seq, through_hash, at_seq, at_hash FROM audit_pruned "+lock).Scan(&ts, &th, &as, &ah)
	if err != nil {
		return p, fmt.Errorf("cannot read the audit log's retention checkpoint: %w", err)
	}
	if ts == 0 {
		return p, nil
	}
	p.Through.Seq, p.At.Seq = uint64(ts), uint64(as)
	if p.Through.Hash, err = hashOf(th, "the retention checkpoint"); err != nil {
		return p, err
	}
	if p.At.Hash, err = hashOf(ah, "the retention checkpoint"); err != nil {
		return p, err
	}
	return p, p.Validate()
}

func (l *auditLog) Pruned() (audit.Pruned, error) { return l.pruned("") }

func (l *auditLog) Expired(cutoff time.Time) (n int, last audit.Head, err error) {
	p, err := l.Pruned()
	if err != nil {
		return 0, last, err
	}
	err = l.walk(p.Through.Seq, "", nil, func(a auditRow) (bool, error) {
		e, h, err := audit.Decode(a.record)
		if err != nil {
			return false, fmt.Errorf("audit entry %d: %w", a.seq, err)
		}
		if !e.Time.Before(cutoff) {
			return false, nil
		}
		n++
		last = audit.Head{Seq: e.Seq, Hash: h}
		return true, nil
	})
	return n, last, err
}

func (l *auditLog) Prune(at audit.Head, limit int) (removed int, done bool, err error) {
	// One pruner at a time: the checkpoint row stays locked until the
	// transaction ends.
	p, err := l.pruned("FOR UPDATE")
	if err != nil {
		return 0, false, err
	}
	head, err := l.Head()
	if err != nil {
		return 0, false, err
	}
	w, done, err := audit.StartPrune(p, head, at, limit)
	if w == nil {
		return 0, done, err
	}
	// A gap at the start shows as the first row's number; the walk stops
	// at the first one it refuses.
	err = l.walk(p.Through.Seq, "", nil, func(a auditRow) (bool, error) {
		if !w.More() {
			return false, nil
		}
		_, err := w.Next(a.seq, a.record)
		return err == nil, err
	})
	if err != nil {
		return 0, false, err
	}
	next, removed, done, err := w.Checkpoint()
	if err != nil {
		return 0, false, err
	}
	if _, err := l.tx.Exec(l.ctx, "DELETE FROM audit_log WHERE seq > $1 AND seq <= $2", int64(p.Through.Seq), int64(next.Through.Seq)); err != nil {
		return 0, false, fmt.Errorf("cannot remove expired audit entries: %w", err)
	}
	if _, err := l.tx.Exec(l.ctx, "UPDATE audit_pruned SET through_seq = $1, through_hash = $2, at_seq = $3, at_hash = $4",
		int64(next.Through.Seq), next.Through.Hash[:], int64(next.At.Seq), next.At.Hash[:]); err != nil {
		return 0, false, fmt.Errorf("cannot move the audit log's retention checkpoint: %w", err)
	}
	return removed, done, nil
}
