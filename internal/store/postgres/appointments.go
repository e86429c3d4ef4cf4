package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/store"
)

// appointments is appointment.Tx on one database transaction (tables
// appointment_offices, appointment_closures and appointments, migration
// 0013).
type appointments struct{ t *tx }

// Appointments returns the appointments' view of t.
func (t *tx) Appointments() appointment.Tx { return appointments{t} }

func (v appointments) writable() error {
	if !v.t.writable {
		return store.ErrReadOnly
	}
	return nil
}

func (v appointments) PutOffice(o *appointment.Office) error {
	if err := v.writable(); err != nil {
		return err
	}
	if err := o.Check(); err != nil {
		return err
	}
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	_, err = v.t.ptx.Exec(v.t.ctx, `INSERT INTO appointment_offices (id, record) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET record = excluded.record`, o.ID, data)
	if err != nil {
		return fmt.Errorf("cannot store office %s: %w", o.ID, err)
	}
	return nil
}

func (v appointments) Office(id string) (appointment.Office, error) {
	var o appointment.Office
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, "SELECT record FROM appointment_offices WHERE id = $1", id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("%w: office %q", appointment.ErrNotFound, id)
	}
	if err != nil {
		return o, fmt.Errorf("cannot read office %s: %w", id, err)
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return o, fmt.Errorf("the record of office %s is damaged: %w", id, err)
	}
	return o, nil
}

// list decodes the records sql selects into T.
func list[T any](v appointments, what, sql string, args ...any) ([]T, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot read the %s: %w", what, err)
	}
	var out []T
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		var x T
		if err := json.Unmarshal(data, &x); err != nil {
			return fmt.Errorf("a record of the %s is damaged: %w", what, err)
		}
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the %s: %w", what, err)
	}
	return out, nil
}

func (v appointments) Offices() ([]appointment.Office, error) {
	return list[appointment.Office](v, "offices", `SELECT record FROM appointment_offices ORDER BY id COLLATE "C"`)
}

func (v appointments) PutClosure(c *appointment.Closure) error {
	if err := v.writable(); err != nil {
		return err
	}
	if err := c.Check(); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = v.t.ptx.Exec(v.t.ctx, `INSERT INTO appointment_closures (id, from_day, record) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET from_day = excluded.from_day, record = excluded.record`, c.ID, c.From.String(), data)
	if err != nil {
		return fmt.Errorf("cannot store closure %s: %w", c.ID, err)
	}
	return nil
}

func (v appointments) DeleteClosure(id string) error {
	if err := v.writable(); err != nil {
		return err
	}
	tag, err := v.t.ptx.Exec(v.t.ctx, "DELETE FROM appointment_closures WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("cannot delete closure %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: closure %q", appointment.ErrNotFound, id)
	}
	return nil
}

func (v appointments) Closures() ([]appointment.Closure, error) {
	return list[appointment.Closure](v, "closures", `SELECT record FROM appointment_closures ORDER BY from_day, id COLLATE "C"`)
}

// get reads booking ref; in a write transaction its row stays locked
// until the end, so a read-modify-write is not lost to another hub's.
func (v appointments) get(ref string) (appointment.Booking, error) {
	sql := "SELECT record FROM appointments WHERE ref = $1"
	if v.t.writable {
		sql += " FOR UPDATE"
	}
	var b appointment.Booking
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, sql, ref).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, fmt.Errorf("%w: booking %q", appointment.ErrNotFound, ref)
	}
	if err != nil {
		return b, fmt.Errorf("cannot read booking %s: %w", ref, err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("the record of booking %s is damaged: %w", ref, err)
	}
	return b, nil
}

func (v appointments) Get(ref string) (appointment.Booking, error) { return v.get(ref) }

func slotTaken(office string, start time.Time) error {
	return fmt.Errorf("%w: %s at %s", appointment.ErrSlotTaken, office, start.In(appointment.Rome).Format("2006-01-02 15:04"))
}

func (v appointments) Book(b *appointment.Booking, counters []int) error {
	if err := v.writable(); err != nil {
		return err
	}
	if err := b.Check(); err != nil {
		return err
	}
	// Two bookings of one person at once (two kiosks, a kiosk and a shop)
	// take turns, so the second sees the first's.
	if err := v.t.lock("appointment/person\x00" + b.CF); err != nil {
		return err
	}
	var held string
	err := v.t.ptx.QueryRow(v.t.ctx, `SELECT ref FROM appointments WHERE cf = $1 AND service = $2 AND state = 'booked'
		AND start_ns >= $3 LIMIT 1`, b.CF, string(b.Service), b.Created.UnixNano()).Scan(&held)
	if err == nil {
		return fmt.Errorf("%w: %s", appointment.ErrAlreadyBooked, held)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("cannot read the bookings of %s: %w", b.CF, err)
	}
	for _, c := range counters {
		b.Counter = c
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		// A concurrent insert of the same seat makes this one wait for
		// its commit: then DO NOTHING if it committed, insert if not.
		tag, err := v.t.ptx.Exec(v.t.ctx, `INSERT INTO appointments (ref, office_id, start_ns, counter, service, cf, state, record)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (office_id, start_ns, counter) WHERE state <> 'cancelled' DO NOTHING`,
			b.Ref, b.OfficeID, b.Start.UnixNano(), c, string(b.Service), b.CF, string(b.State), data)
		if isUniqueViolation(err) {
			b.Counter = 0
			return fmt.Errorf("%w: %s", appointment.ErrRefTaken, b.Ref)
		}
		if err != nil {
			b.Counter = 0
			return fmt.Errorf("cannot store booking %s: %w", b.Ref, err)
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
	}
	b.Counter = 0
	return slotTaken(b.OfficeID, b.Start)
}

func (v appointments) store(b *appointment.Booking) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	_, err = v.t.ptx.Exec(v.t.ctx, `UPDATE appointments SET office_id = $2, start_ns = $3, counter = $4, state = $5, record = $6
		WHERE ref = $1`, b.Ref, b.OfficeID, b.Start.UnixNano(), b.Counter, string(b.State), data)
	return err
}

func (v appointments) Put(b *appointment.Booking) error {
	if err := v.writable(); err != nil {
		return err
	}
	old, err := v.get(b.Ref)
	if err != nil {
		return err
	}
	if old.OfficeID != b.OfficeID || !old.Start.Equal(b.Start) || old.Counter != b.Counter || old.CF != b.CF {
		return fmt.Errorf("%w: %s", appointment.ErrSeatChange, b.Ref)
	}
	// A cancelled booking that comes back to life (it never does in the
	// service) would meet the seat's index and fail here.
	if err := v.store(b); err != nil {
		if isUniqueViolation(err) {
			return slotTaken(b.OfficeID, b.Start)
		}
		return fmt.Errorf("cannot store booking %s: %w", b.Ref, err)
	}
	return nil
}

func (v appointments) Move(ref, office string, start time.Time, minutes int, counters []int, at time.Time) (appointment.Booking, error) {
	if err := v.writable(); err != nil {
		return appointment.Booking{}, err
	}
	b, err := v.get(ref)
	if err != nil {
		return b, err
	}
	if b.State != appointment.Booked {
		return b, fmt.Errorf("%w: %s is %s", appointment.ErrNotBooked, ref, b.State)
	}
	orig := b
	for _, c := range counters {
		b = orig
		b.OfficeID, b.Start, b.Minutes, b.Counter, b.Updated = office, start, minutes, c, at
		b.Moves++
		// A savepoint per counter: a seat another transaction holds makes
		// the update fail, which would otherwise abort the whole
		// transaction instead of trying the next counter.
		sp, err := v.t.ptx.Begin(v.t.ctx)
		if err != nil {
			return orig, fmt.Errorf("cannot move booking %s: %w", ref, err)
		}
		err = appointments{&tx{s: v.t.s, ctx: v.t.ctx, ptx: sp, writable: true}}.store(&b)
		if err == nil {
			if err := sp.Commit(v.t.ctx); err != nil {
				return orig, fmt.Errorf("cannot move booking %s: %w", ref, err)
			}
			return b, nil
		}
		if rerr := sp.Rollback(v.t.ctx); rerr != nil {
			return orig, fmt.Errorf("cannot move booking %s: %w", ref, rerr)
		}
		if !isUniqueViolation(err) {
			return orig, fmt.Errorf("cannot move booking %s: %w", ref, err)
		}
	}
	return orig, slotTaken(office, start)
}

func (v appointments) Day(office string, from, to time.Time) ([]appointment.Booking, error) {
	return list[appointment.Booking](v, "bookings", `SELECT record FROM appointments
		WHERE office_id = $1 AND state <> 'cancelled' AND start_ns >= $2 AND start_ns < $3
		ORDER BY start_ns, counter, ref COLLATE "C"`, office, from.UnixNano(), to.UnixNano())
}

func (v appointments) ByPerson(cf string) ([]appointment.Booking, error) {
	return list[appointment.Booking](v, "bookings", `SELECT record FROM appointments WHERE cf = $1
		ORDER BY start_ns, counter, ref COLLATE "C"`, cf)
}

func (v appointments) All() ([]appointment.Booking, error) {
	return list[appointment.Booking](v, "bookings", `SELECT record FROM appointments ORDER BY start_ns, counter, ref COLLATE "C"`)
}

func (v appointments) Starting(from, to time.Time) ([]appointment.Booking, error) {
	return list[appointment.Booking](v, "bookings", `SELECT record FROM appointments
		WHERE state = 'booked' AND start_ns >= $1 AND start_ns < $2
		ORDER BY start_ns, counter, ref COLLATE "C"`, from.UnixNano(), to.UnixNano())
}
