package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// closeLock is the advisory lock between entries being written (shared)
// and a day being closed (exclusive): a closing waits for the issuances
// committing, and fixes a day no entry is still being filed into.
// "SPORTPRO" in ASCII.
const closeLock int64 = 0x53504f525450524f

// dayNum is d as the integer YYYYMMDD the tables key days by.
func dayNum(d protocol.Day) int { return d.Year*10000 + int(d.Month)*100 + d.Day }

func nsTime(ns int64) time.Time { return time.Unix(0, ns).In(protocol.Rome) }

// Protocol returns the protocol register's view of t (tables protocol_*,
// migration 0002).
func (t *tx) Protocol() protocol.Tx {
	if !t.writable {
		return readOnlyProtocol{protoTx{t}}
	}
	return protoTx{t}
}

type protoTx struct{ t *tx }

// readOnlyProtocol is the protocol register in a View.
type readOnlyProtocol struct{ protocol.Tx }

func (readOnlyProtocol) Write(protocol.Entry) error { return store.ErrReadOnly }

// Write turns e's reservation into its entry. The reservation must be
// pending and carry e's time (the registration time handed out with the
// number), so every entry is dated in number order by construction; the
// shared close lock keeps a closing from fixing e's day meanwhile.
func (v protoTx) Write(e protocol.Entry) error {
	t := v.t
	n := e.Number
	if e.Direction == protocol.Annulled {
		return fmt.Errorf("%w: annulment %s is registered by the numbering (Abandon, Recover), not written", protocol.ErrInvalid, n)
	}
	if n.Seq == 0 {
		return fmt.Errorf("%w: the entry has no number", protocol.ErrInvalid)
	}
	if y := protocol.YearOf(e.Time); n.Year != y {
		return fmt.Errorf("%w: number %s cannot be registered at %s, in another year", protocol.ErrInvalid, n, e.Time.In(protocol.Rome).Format(time.RFC3339))
	}
	if err := e.Validate(); err != nil {
		return err
	}
	data, err := json.Marshal(&e)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue("SELECT pg_advisory_xact_lock_shared($1)", closeLock)
	b.Queue("SELECT at_ns FROM protocol_reservations WHERE year = $1 AND seq = $2 AND NOT abandoned FOR UPDATE", n.Year, n.Seq)
	b.Queue("SELECT max(day) FROM protocol_closed")
	b.Queue("SELECT EXISTS (SELECT 1 FROM protocol_entries WHERE year = $1 AND seq = $2)", n.Year, n.Seq)
	br := t.ptx.SendBatch(t.ctx, b)
	var reservedNs *int64
	var closed *int
	var exists bool
	_, err = br.Exec()
	if err == nil {
		var ns int64
		if err = br.QueryRow().Scan(&ns); err == nil {
			reservedNs = &ns
		} else if errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if err == nil {
		err = br.QueryRow().Scan(&closed)
	}
	if err == nil {
		err = br.QueryRow().Scan(&exists)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot register protocol number %s: %w", n, err)
	}
	switch {
	case exists:
		return fmt.Errorf("%w: number %s is already registered", protocol.ErrImmutable, n)
	case reservedNs == nil:
		return fmt.Errorf("%w: number %s was not handed out by the numbering, or was given back or annulled", protocol.ErrNotReserved, n)
	case *reservedNs != e.Time.UnixNano():
		return fmt.Errorf("%w: entry %s is dated %s, but its number was handed out for %s", protocol.ErrInvalid, n,
			e.Time.In(protocol.Rome).Format(time.RFC3339Nano), nsTime(*reservedNs).Format(time.RFC3339Nano))
	}
	day := protocol.DayOf(e.Time)
	if closed != nil && *closed >= dayNum(day) {
		return fmt.Errorf("%w: entry %s, dated %s, would be filed into the register of %s, and the registers up to %d are closed",
			protocol.ErrDayClosed, n, e.Time.In(protocol.Rome).Format(time.RFC3339), day, *closed)
	}
	b = &pgx.Batch{}
	b.Queue("DELETE FROM protocol_reservations WHERE year = $1 AND seq = $2", n.Year, n.Seq)
	b.Queue("INSERT INTO protocol_entries (year, seq, day, at_ns, entry) VALUES ($1, $2, $3, $4, $5)", n.Year, n.Seq, dayNum(day), e.Time.UnixNano(), data)
	if err := t.ptx.SendBatch(t.ctx, b).Close(); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: number %s is already registered", protocol.ErrImmutable, n)
		}
		return fmt.Errorf("cannot register protocol number %s: %w", n, err)
	}
	return nil
}

func decodeEntry(data []byte) (protocol.Entry, error) {
	var e protocol.Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return e, fmt.Errorf("a protocol entry is damaged: %w", err)
	}
	return e, nil
}

func (v protoTx) Get(n protocol.Number) (protocol.Entry, error) {
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, "SELECT entry FROM protocol_entries WHERE year = $1 AND seq = $2", n.Year, n.Seq).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return protocol.Entry{}, fmt.Errorf("%w: there is no protocol entry %s", protocol.ErrNotFound, n)
	}
	if err != nil {
		return protocol.Entry{}, fmt.Errorf("cannot read protocol entry %s: %w", n, err)
	}
	return decodeEntry(data)
}

func (v protoTx) Last(year int) (protocol.Number, error) {
	var seq *int64
	if err := v.t.ptx.QueryRow(v.t.ctx, "SELECT max(seq) FROM protocol_entries WHERE year = $1", year).Scan(&seq); err != nil {
		return protocol.Number{}, fmt.Errorf("cannot read the %d protocol register: %w", year, err)
	}
	if seq == nil {
		return protocol.Number{}, nil
	}
	return protocol.Number{Year: year, Seq: uint64(*seq)}, nil
}

func (v protoTx) Day(d protocol.Day) ([]protocol.Entry, error) {
	return entriesOf(v.t.ctx, v.t.ptx, d)
}

// entriesOf returns the daily register of d.
func entriesOf(ctx context.Context, q pgx.Tx, d protocol.Day) ([]protocol.Entry, error) {
	rows, err := q.Query(ctx, "SELECT entry FROM protocol_entries WHERE day = $1 ORDER BY year, seq", dayNum(d))
	if err != nil {
		return nil, fmt.Errorf("cannot read the protocol register of %s: %w", d, err)
	}
	datas, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("cannot read the protocol register of %s: %w", d, err)
	}
	var out []protocol.Entry
	for _, data := range datas {
		e, err := decodeEntry(data)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (v protoTx) Years() ([]int, error) {
	// Through protocol_years, so each year is one index probe rather than
	// a walk of a year's million entries.
	rows, err := v.t.ptx.Query(v.t.ctx, `SELECT year FROM protocol_years y
		WHERE EXISTS (SELECT 1 FROM protocol_entries e WHERE e.year = y.year) ORDER BY year`)
	if err != nil {
		return nil, fmt.Errorf("cannot read the protocol register's years: %w", err)
	}
	ys, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("cannot read the protocol register's years: %w", err)
	}
	return ys, nil
}

func (v protoTx) Floor() (time.Time, error) {
	var ns *int64
	if err := v.t.ptx.QueryRow(v.t.ctx, "SELECT latest_ns FROM protocol_state").Scan(&ns); err != nil {
		return time.Time{}, fmt.Errorf("cannot read the protocol register: %w", err)
	}
	if ns == nil {
		return time.Time{}, nil
	}
	return nsTime(*ns), nil
}

func (v protoTx) Closed(d protocol.Day) (protocol.Closing, bool, error) {
	return closingOf(v.t.ctx, v.t.ptx, "SELECT closing FROM protocol_closed WHERE day = $1", dayNum(d))
}

func (v protoTx) LastClosed() (protocol.Closing, bool, error) {
	return closingOf(v.t.ctx, v.t.ptx, "SELECT closing FROM protocol_closed ORDER BY day DESC LIMIT 1")
}

func (v protoTx) Closings() ([]protocol.Closing, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, "SELECT closing FROM protocol_closed ORDER BY day")
	if err != nil {
		return nil, fmt.Errorf("cannot read the protocol register's closings: %w", err)
	}
	datas, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("cannot read the protocol register's closings: %w", err)
	}
	out := make([]protocol.Closing, len(datas))
	for i, data := range datas {
		if err := json.Unmarshal(data, &out[i]); err != nil {
			return nil, fmt.Errorf("a closing record of the protocol register is damaged: %w", err)
		}
	}
	return out, nil
}

func closingOf(ctx context.Context, q pgx.Tx, sql string, args ...any) (protocol.Closing, bool, error) {
	var data []byte
	err := q.QueryRow(ctx, sql, args...).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return protocol.Closing{}, false, nil
	}
	if err != nil {
		return protocol.Closing{}, false, fmt.Errorf("cannot read the protocol register's closings: %w", err)
	}
	var c protocol.Closing
	if err := json.Unmarshal(data, &c); err != nil {
		return c, false, fmt.Errorf("a closing record of the protocol register is damaged: %w", err)
	}
	return c, true, nil
}

// Numbering is the protocol register's numbering in the database, shared
// by every hub on it.
func (s *Store) Numbering() protocol.Numbering { return numbering{s} }

type numbering struct{ s *Store }

// step runs fn in a short READ COMMITTED transaction holding the row lock
// of protocol_state, the lock every numbering step takes, and gives it
// the register's floor (zero while the register is empty).
func (nb numbering) step(ctx context.Context, what string, fn func(ptx pgx.Tx, latest time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if nb.s.closed.Load() {
		return errStoreClosed
	}
	ptx, err := nb.s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("cannot %s: %w: %w", what, ErrUnavailable, err)
	}
	defer ptx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	var ns *int64
	if err := ptx.QueryRow(ctx, "SELECT latest_ns FROM protocol_state FOR UPDATE").Scan(&ns); err != nil {
		return fmt.Errorf("cannot %s: %w", what, err)
	}
	var latest time.Time
	if ns != nil {
		latest = nsTime(*ns)
	}
	if err := fn(ptx, latest); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("cannot %s: the change was not committed: %w", what, err)
	}
	return nil
}

func (nb numbering) Reserve(ctx context.Context, at time.Time, reg protocol.Register) (n protocol.Number, stamped time.Time, err error) {
	if err := reg.Check(); err != nil {
		return protocol.Number{}, time.Time{}, err
	}
	if err := ctx.Err(); err != nil {
		return protocol.Number{}, time.Time{}, err
	}
	if nb.s.closed.Load() {
		return protocol.Number{}, time.Time{}, errStoreClosed
	}
	// One statement, so the register's row lock, which every reservation
	// of every hub takes, is held for one statement and its commit: the
	// registration time is worked out first from the floor as read, and
	// the statement moves the floor only if no other reservation moved it
	// past that time meanwhile (else it changes nothing, and the time is
	// worked out again).
	//
	// It commits without waiting for the disk (synchronous_commit off for
	// this transaction only), or a flush per number, under that lock,
	// would cap numbering at the disk's flushes per second. Nothing is
	// lost by it: commits reach the log in order, so the entry that
	// registers the number, committed durably later, carries its
	// reservation to the disk; and if the database stops before either
	// reached it, the number is handed out again and the late entry is
	// refused, since the new reservation carries another time (Write).
	const reserve = `WITH st AS (
			UPDATE protocol_state SET latest_ns = $2
			WHERE (latest_ns IS NULL OR latest_ns <= $2) AND set_config('synchronous_commit', 'off', true) = 'off'
			RETURNING 1),
		y AS (
			INSERT INTO protocol_years AS y (year, last) SELECT $1, 1 FROM st
			ON CONFLICT (year) DO UPDATE SET last = y.last + 1 RETURNING last)
		INSERT INTO protocol_reservations (year, seq, at_ns, ipa, aoo, code)
		SELECT $1, last, $2, $3, $4, $5 FROM y RETURNING seq`
	for range 1000 {
		var ns *int64
		if err := nb.s.db.pool.QueryRow(ctx, "SELECT latest_ns FROM protocol_state").Scan(&ns); err != nil {
			return protocol.Number{}, time.Time{}, fmt.Errorf("cannot reserve a protocol number: %w: %w", ErrUnavailable, err)
		}
		var latest time.Time
		if ns != nil {
			latest = nsTime(*ns)
		}
		if stamped, err = protocol.Stamp(at, latest); err != nil {
			return protocol.Number{}, time.Time{}, err
		}
		n = protocol.Number{Register: reg, Year: protocol.YearOf(stamped)}
		var seq int64
		err := nb.s.db.pool.QueryRow(ctx, reserve, n.Year, stamped.UnixNano(), reg.IPA, reg.AOO, reg.Code).Scan(&seq)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // another reservation moved the floor past stamped
		}
		if err != nil {
			return protocol.Number{}, time.Time{}, fmt.Errorf("cannot reserve a protocol number: %w", err)
		}
		n.Seq = uint64(seq)
		return n, stamped, nil
	}
	return protocol.Number{}, time.Time{}, fmt.Errorf("cannot reserve a protocol number: %w: other reservations kept moving the register's time", ErrUnavailable)
}

// annulment is an abandoned or stale reservation to annul.
type annulment struct {
	year        int
	seq         int64
	ipa, aoo    string
	code        string
	reason, ref string
}

// annul registers the annulments of as, dated at or the floor if later,
// in number order, and moves the floor; it returns them as written.
// The state row is locked (step).
func annul(ctx context.Context, ptx pgx.Tx, as []annulment, at, latest time.Time) ([]protocol.Entry, error) {
	if len(as) == 0 {
		return nil, nil
	}
	slices.SortFunc(as, func(a, b annulment) int {
		if a.year != b.year {
			return a.year - b.year
		}
		return int(a.seq - b.seq)
	})
	if at.Before(latest) {
		// An annulment is never refused for the clock: it only records
		// that a number carries no document.
		at = latest
	}
	b := &pgx.Batch{}
	var out []protocol.Entry
	for _, a := range as {
		n := protocol.Number{Register: protocol.Register{IPA: a.ipa, AOO: a.aoo, Code: a.code}, Year: a.year, Seq: uint64(a.seq)}
		e := protocol.Annulment(n, at, protocol.DefaultAuthor, protocol.RuleUnregistered, a.reason, a.ref)
		if err := e.Validate(); err != nil {
			return nil, err
		}
		data, err := json.Marshal(&e)
		if err != nil {
			return nil, err
		}
		b.Queue("DELETE FROM protocol_reservations WHERE year = $1 AND seq = $2", a.year, a.seq)
		b.Queue("INSERT INTO protocol_entries (year, seq, day, at_ns, entry) VALUES ($1, $2, $3, $4, $5)",
			a.year, a.seq, dayNum(protocol.DayOf(at)), at.UnixNano(), data)
		out = append(out, e)
	}
	b.Queue("UPDATE protocol_state SET latest_ns = $1", at.UnixNano())
	if err := ptx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("cannot register the annulment of an unregistered protocol number: %w", err)
	}
	// The audit log records each annulment in the same transaction, so a
	// crash cannot leave an annulment the log does not show. The head's
	// row lock is taken last, after the register's rows: an issuance
	// holds its reservation and then the head, never a register row the
	// numbering holds, so the two never wait on each other in a cycle.
	log := &auditLog{ctx: ctx, tx: ptx, writable: true}
	for _, e := range out {
		if _, err := log.Append(audit.Annulment(e)); err != nil {
			return nil, fmt.Errorf("the annulment of protocol number %s could not be recorded in the audit log: %w", e.Number, err)
		}
	}
	return out, nil
}

// settle ends the abandoned numbers of year: those at the top of the
// year's numbering, with nothing handed out above them still pending or
// registered, are given back (the counter moves down past them); those
// below a registered number are annulled. The others wait. The state row
// is locked (step).
func settle(ctx context.Context, ptx pgx.Tx, year int, at, latest time.Time) ([]protocol.Entry, time.Time, error) {
	var last int64
	if err := ptx.QueryRow(ctx, "SELECT last FROM protocol_years WHERE year = $1 FOR UPDATE", year).Scan(&last); err != nil {
		return nil, latest, fmt.Errorf("cannot read the %d protocol numbering: %w", year, err)
	}
	rows, err := ptx.Query(ctx, "SELECT seq FROM protocol_reservations WHERE year = $1 AND abandoned ORDER BY seq DESC", year)
	if err != nil {
		return nil, latest, fmt.Errorf("cannot read the %d protocol numbering: %w", year, err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, latest, fmt.Errorf("cannot read the %d protocol numbering: %w", year, err)
	}
	top := last
	for _, s := range seqs {
		if s != top {
			break
		}
		top--
	}
	if top < last {
		b := &pgx.Batch{}
		b.Queue("DELETE FROM protocol_reservations WHERE year = $1 AND seq > $2", year, top)
		b.Queue("UPDATE protocol_years SET last = $2 WHERE year = $1", year, top)
		if err := ptx.SendBatch(ctx, b).Close(); err != nil {
			return nil, latest, fmt.Errorf("cannot give back protocol numbers of %d: %w", year, err)
		}
	}
	rows, err = ptx.Query(ctx, `DELETE FROM protocol_reservations
		WHERE year = $1 AND abandoned AND seq < (SELECT max(seq) FROM protocol_entries WHERE year = $1)
		RETURNING year, seq, ipa, aoo, code, reason, ref`, year)
	if err != nil {
		return nil, latest, fmt.Errorf("cannot annul abandoned protocol numbers of %d: %w", year, err)
	}
	as, err := collectAnnulments(rows)
	if err != nil {
		return nil, latest, err
	}
	out, err := annul(ctx, ptx, as, at, latest)
	if len(out) > 0 {
		latest = out[len(out)-1].Time
	}
	return out, latest, err
}

// collectAnnulments reads rows of year, seq, ipa, aoo, code, reason, ref.
func collectAnnulments(rows pgx.Rows) ([]annulment, error) {
	var as []annulment
	var a annulment
	_, err := pgx.ForEachRow(rows, []any{&a.year, &a.seq, &a.ipa, &a.aoo, &a.code, &a.reason, &a.ref}, func() error {
		as = append(as, a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the protocol register's reservations: %w", err)
	}
	return as, nil
}

func (nb numbering) Registered(ctx context.Context, n protocol.Number, at time.Time) (out []protocol.Entry, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if nb.s.closed.Load() {
		return nil, errStoreClosed
	}
	// Nearly always nothing waits below n: one probe, no lock.
	var waiting bool
	err = nb.s.db.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM protocol_reservations WHERE year = $1 AND abandoned AND seq < $2)",
		n.Year, int64(n.Seq)).Scan(&waiting)
	if err != nil || !waiting {
		return nil, err
	}
	err = nb.step(ctx, "annul abandoned protocol numbers", func(ptx pgx.Tx, latest time.Time) (err error) {
		out, _, err = settle(ctx, ptx, n.Year, at, latest)
		return err
	})
	return out, err
}

func (nb numbering) Abandon(ctx context.Context, n protocol.Number, at time.Time, reason, ref string) (*protocol.Entry, error) {
	var mine *protocol.Entry
	err := nb.step(ctx, "abandon a protocol number", func(ptx pgx.Tx, latest time.Time) error {
		tag, err := ptx.Exec(ctx, "UPDATE protocol_reservations SET abandoned = true, reason = $3, ref = $4 WHERE year = $1 AND seq = $2 AND NOT abandoned",
			n.Year, int64(n.Seq), reason, ref)
		if err != nil {
			return fmt.Errorf("cannot abandon protocol number %s: %w", n, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: protocol number %s is not pending (never handed out, already registered, abandoned or annulled)", protocol.ErrNotReserved, n)
		}
		out, _, err := settle(ctx, ptx, n.Year, at, latest)
		for i := range out {
			if out[i].Number.Same(n) {
				mine = &out[i]
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w; a number whose abandonment failed is annulled by Recover once its reservation is %s old", err, protocol.ReservationTimeout)
	}
	return mine, nil
}

func (nb numbering) CloseDay(ctx context.Context, d protocol.Day, at time.Time) (c protocol.Closing, es []protocol.Entry, err error) {
	err = nb.step(ctx, "close the protocol register of "+d.String(), func(ptx pgx.Tx, latest time.Time) error {
		// Taken after the state row: entries being written hold the close
		// lock shared and no state lock, so no cycle; the closing then
		// waits for them to commit and reads their entries.
		if _, err := ptx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", closeLock); err != nil {
			return fmt.Errorf("cannot lock the protocol register for closing %s: %w", d, err)
		}
		if es, err = entriesOf(ctx, ptx, d); err != nil {
			return err
		}
		prev, ok, err := closingOf(ctx, ptx, "SELECT closing FROM protocol_closed WHERE day = $1", dayNum(d))
		if err != nil {
			return err
		}
		if ok {
			sum, err := protocol.WriteCSVFormat(io.Discard, d, es, prev.CSVLayout())
			if err != nil {
				return err
			}
			if prev.SHA256 != sum || prev.Entries != len(es) {
				return fmt.Errorf("the register of %s no longer matches the one closed on %s (%d entries, SHA-256 %x; now %d entries, %x): the database was changed behind the register's back; restore the backup",
					d, prev.Closed.In(protocol.Rome).Format(time.RFC3339), prev.Entries, prev.SHA256, len(es), sum)
			}
			c = prev
			return nil
		}
		now := at
		if now.Before(latest) {
			now = latest
		}
		if today := protocol.DayOf(now); !d.Before(today) {
			return fmt.Errorf("the register of %s cannot be closed before the day is over (it is %s)", d, today)
		}
		sum, err := protocol.WriteCSVFormat(io.Discard, d, es, protocol.CSVFormat)
		if err != nil {
			return err
		}
		c = protocol.Closing{Day: d, Closed: now, Entries: len(es), SHA256: sum, Format: protocol.CSVFormat}
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		floor := latest
		if d.End().After(floor) {
			floor = d.End()
		}
		b := &pgx.Batch{}
		b.Queue("INSERT INTO protocol_closed (day, closing) VALUES ($1, $2)", dayNum(d), data)
		b.Queue("UPDATE protocol_state SET latest_ns = $1", floor.UnixNano())
		if err := ptx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("cannot close the protocol register of %s: %w", d, err)
		}
		return nil
	})
	if err != nil {
		return protocol.Closing{}, nil, err
	}
	return c, es, nil
}

func (nb numbering) Recover(ctx context.Context, at time.Time) (out []protocol.Entry, err error) {
	err = nb.step(ctx, "recover the protocol register", func(ptx pgx.Tx, latest time.Time) error {
		out = nil
		// Reservations a hub left behind: pending for longer than any
		// issuance takes. A reservation an issuance is committing right
		// now is locked by it; the DELETE waits and then skips it.
		rows, err := ptx.Query(ctx, `DELETE FROM protocol_reservations WHERE NOT abandoned AND at_ns < $1
			RETURNING year, seq, ipa, aoo, code, $2::text, ref`, at.Add(-protocol.ReservationTimeout).UnixNano(), protocol.ReasonRecovered)
		if err != nil {
			return fmt.Errorf("cannot read the protocol register's reservations: %w", err)
		}
		as, err := collectAnnulments(rows)
		if err != nil {
			return err
		}
		// The DELETE above removed them; annul re-deletes nothing and
		// writes their entries.
		stale, err := annul(ctx, ptx, as, at, latest)
		if err != nil {
			return err
		}
		out = append(out, stale...)
		if len(stale) > 0 {
			latest = stale[len(stale)-1].Time
		}
		rows, err = ptx.Query(ctx, "SELECT DISTINCT year FROM protocol_reservations WHERE abandoned ORDER BY year")
		if err != nil {
			return fmt.Errorf("cannot read the protocol register's reservations: %w", err)
		}
		years, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return fmt.Errorf("cannot read the protocol register's reservations: %w", err)
		}
		for _, y := range years {
			settled, l, err := settle(ctx, ptx, y, at, latest)
			if err != nil {
				return err
			}
			out, latest = append(out, settled...), l
		}
		return nil
	})
	return out, err
}

var _ protocol.Importer = protoTx{}

// Import writes entries and closings as they are (protocol.Importer), and
// moves each year's numbering past its highest number and the floor past
// the latest time.
func (v protoTx) Import(entries []protocol.Entry, closings []protocol.Closing) error {
	t := v.t
	if _, err := t.ptx.Exec(t.ctx, "SELECT latest_ns FROM protocol_state FOR UPDATE"); err != nil {
		return fmt.Errorf("cannot lock the protocol register: %w", err)
	}
	// Numbers handed out here and not yet ended (the state row, locked,
	// keeps new ones out until the import commits) would meet the
	// imported entries: an entry under a reserved number leaves Recover
	// failing on its annulment from then on.
	var pending int64
	if err := t.ptx.QueryRow(t.ctx, "SELECT count(*) FROM protocol_reservations").Scan(&pending); err != nil {
		return fmt.Errorf("cannot read the protocol register's reservations: %w", err)
	}
	if pending > 0 && len(entries) > 0 {
		return fmt.Errorf("%w: %d protocol numbers are handed out on this database and not yet registered (a hub numbers on it, or stopped while it did): stop its hubs and let the recovery end them (%s) before moving a register in",
			protocol.ErrImmutable, pending, protocol.ReservationTimeout)
	}
	var latest int64
	last := map[int]uint64{}
	b := &pgx.Batch{}
	for i := range entries {
		e := &entries[i]
		if e.Number.Seq == 0 {
			return fmt.Errorf("%w: an entry has no number", protocol.ErrInvalid)
		}
		if err := e.Validate(); err != nil {
			return fmt.Errorf("entry %s: %w", e.Number, err)
		}
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Queue("INSERT INTO protocol_entries (year, seq, day, at_ns, entry) VALUES ($1, $2, $3, $4, $5)",
			e.Number.Year, int64(e.Number.Seq), dayNum(protocol.DayOf(e.Time)), e.Time.UnixNano(), data)
		last[e.Number.Year] = max(last[e.Number.Year], e.Number.Seq)
		latest = max(latest, e.Time.UnixNano())
	}
	for _, c := range closings {
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		b.Queue("INSERT INTO protocol_closed (day, closing) VALUES ($1, $2)", dayNum(c.Day), data)
		latest = max(latest, c.Day.End().UnixNano())
	}
	for y, seq := range last {
		b.Queue(`INSERT INTO protocol_years AS y (year, last) VALUES ($1, $2)
			ON CONFLICT (year) DO UPDATE SET last = greatest(y.last, $2)`, y, int64(seq))
	}
	if len(entries)+len(closings) > 0 {
		b.Queue("UPDATE protocol_state SET latest_ns = greatest(coalesce(latest_ns, $1), $1)", latest)
	}
	if err := t.ptx.SendBatch(t.ctx, b).Close(); err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: the register already holds one of the entries or closings imported", protocol.ErrImmutable)
		}
		return fmt.Errorf("cannot import the protocol register: %w", err)
	}
	return nil
}
