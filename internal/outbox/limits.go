package outbox

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// The offline limits are measured like a payment terminal's: on a clock
// that cannot be wound back. A kiosk whose wall clock is set back two days
// must not find its oldest queued operation younger than it is, and so take
// more sales offline than the city allows.
//
// The limit clock is a reading kept in the file: where it stood and what
// the wall clock said then. While the process runs it moves on by the
// elapsed time between wall-clock readings (monotonic when the clock
// carries a monotonic reading, as time.Now does), never by a step back; when
// the file is opened again it moves on by the wall time since it was last
// kept, and not at all if the wall clock is now behind it. An operation is
// stamped with the limit clock when it is queued, and its age is the limit
// clock's distance from that stamp, whatever the wall clock says.
var kLimitClock = []byte("limitclock")

// keepEvery is how far the limit clock may move before it is written down
// again outside a write: a step back after a crash loses at most this much.
const keepEvery = time.Minute

type limitReading struct {
	At   time.Time `json:"at"`   // the limit clock
	Wall time.Time `json:"wall"` // the wall clock when it read At
}

// startLimitClock reads the limit clock from the file, moves it on by the
// wall time since it was kept (if any), and writes it back.
func (o *Outbox) startLimitClock() error {
	now := o.clock.Now()
	return o.update(func(tx *bbolt.Tx) error {
		at := now
		var kept limitReading
		if v := tx.Bucket(bMeta).Get(kLimitClock); v != nil && json.Unmarshal(v, &kept) == nil && !kept.At.IsZero() {
			at = kept.At
			if d := now.Sub(kept.Wall); d > 0 {
				at = at.Add(d)
			}
		}
		o.lc.mu.Lock()
		o.lc.at, o.lc.wall = at, now
		o.lc.mu.Unlock()
		return o.keepLimitClock(tx)
	})
}

// limitNow reads the limit clock: it moves on by the time since the last
// reading, and stays put when the wall clock went back.
func (o *Outbox) limitNow() time.Time {
	now := o.clock.Now()
	o.lc.mu.Lock()
	defer o.lc.mu.Unlock()
	if o.lc.wall.IsZero() {
		o.lc.at, o.lc.wall = now, now
		return now
	}
	// Sub uses the monotonic readings when both times carry one, so a
	// step of the wall clock, either way, does not show here.
	if d := now.Sub(o.lc.wall); d > 0 {
		o.lc.at = o.lc.at.Add(d)
	}
	o.lc.wall = now
	return o.lc.at
}

// keepLimitClock writes the limit clock down in tx.
func (o *Outbox) keepLimitClock(tx *bbolt.Tx) error {
	o.lc.mu.Lock()
	r := limitReading{At: o.lc.at, Wall: o.lc.wall.Round(0)}
	o.lc.mu.Unlock()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bMeta).Put(kLimitClock, b); err != nil {
		return err
	}
	tx.OnCommit(func() {
		o.lc.mu.Lock()
		if r.At.After(o.lc.kept) {
			o.lc.kept = r.At
		}
		o.lc.mu.Unlock()
	})
	return nil
}

// keepLimitClockIfDue writes the limit clock down when it moved by
// keepEvery since it last was: an idle kiosk left 25 hours with one
// operation queued keeps its age in the file, for the next start.
func (o *Outbox) keepLimitClockIfDue() error {
	at := o.limitNow()
	o.lc.mu.Lock()
	due := at.Sub(o.lc.kept) >= keepEvery
	o.lc.mu.Unlock()
	if !due {
		return nil
	}
	return o.update(o.keepLimitClock)
}

// stampOf is the limit-clock time r was queued at; operations queued
// before the limit clock existed have only their wall time.
func (r *record) stampOf() time.Time {
	if !r.Stamp.IsZero() {
		return r.Stamp
	}
	return r.Enqueued
}

func normalizeLimits(l Limits) (Limits, error) {
	switch {
	case l.MaxAge == 0:
		l.MaxAge = DefaultMaxAge
	case l.MaxAge < 0:
		l.MaxAge = 0
	}
	switch {
	case l.MaxCount == 0:
		l.MaxCount = DefaultMaxCount
	case l.MaxCount < 0:
		l.MaxCount = 0
	}
	if l.MaxAmountCents < 0 {
		return Limits{}, fmt.Errorf("the offline amount cap is %d cents; it must be zero (no cap) or positive", l.MaxAmountCents)
	}
	if l.MaxOperationCents < 0 {
		return Limits{}, fmt.Errorf("the offline cap per operation is %d cents; it must be zero (no cap) or positive", l.MaxOperationCents)
	}
	return l, nil
}

// Limits returns the offline limits in force.
func (o *Outbox) Limits() Limits {
	o.lc.mu.Lock()
	defer o.lc.mu.Unlock()
	return o.limits
}

// SetLimits puts new offline limits in force, as the city's agreement
// delivers them, from the next operation on; zero and negative fields mean
// what they mean in Options. Operations already queued stay queued.
func (o *Outbox) SetLimits(l Limits) error {
	l, err := normalizeLimits(l)
	if err != nil {
		return err
	}
	o.lc.mu.Lock()
	o.limits = l
	o.lc.mu.Unlock()
	return nil
}

// checkLimits refuses an operation of amount cents taken offline when the
// queue, at limit-clock time now, is at a limit or the operation would take
// it past one. Every refusal names the limit and its value.
func (o *Outbox) checkLimits(tx *bbolt.Tx, now time.Time, amount int64) error {
	st := readStats(tx, now)
	l := o.Limits()
	st.Limits = l
	fail := func(kind LimitKind, format string, args ...any) error {
		return &LimitError{Kind: kind, Limits: l, Stats: st, message: fmt.Sprintf(format, args...)}
	}
	if l.MaxCount > 0 && st.Pending >= l.MaxCount {
		return fail(LimitCount, "the kiosk already holds %d operations waiting for the hub, the most allowed offline (count limit %d); reconnect to the hub before accepting more", st.Pending, l.MaxCount)
	}
	if l.MaxAge > 0 && st.Pending > 0 && st.OldestAge > l.MaxAge {
		return fail(LimitAge, "the oldest operation waiting for the hub was queued %s ago, longer than the %s allowed offline (age limit); reconnect to the hub before accepting more",
			st.OldestAge.Round(time.Minute), l.MaxAge)
	}
	if l.MaxOperationCents > 0 && amount > l.MaxOperationCents {
		return fail(LimitOperationAmount, "an operation of %s is more than the %s one operation may collect offline (cap per operation); reconnect to the hub before accepting it",
			euros(amount), euros(l.MaxOperationCents))
	}
	if l.MaxAmountCents > 0 && st.AmountCents+amount > l.MaxAmountCents {
		return fail(LimitAmount, "accepting %s would bring the fees waiting for the hub to %s, over the %s allowed offline (total cap); reconnect to the hub before accepting more",
			euros(amount), euros(st.AmountCents+amount), euros(l.MaxAmountCents))
	}
	return nil
}
