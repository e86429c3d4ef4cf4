package operators

import (
	"fmt"
	"time"
)

// Backlog is what a device last said of its offline queue: requests it
// accepted while the hub was unreachable and has not delivered yet. City
// staff watch it because a kiosk with a long backlog is collecting money
// for certificates the city has not issued.
type Backlog struct {
	KeyID   string `json:"key_id"`
	Pending int    `json:"pending"` // operations waiting for the hub
	Refused int    `json:"refused"` // refused by the hub, not yet seen by the shop's staff
	// OldestAge is how long the oldest pending operation had waited when
	// the device reported: an age rather than an instant, so the kiosk's
	// clock, which may be wrong, does not matter.
	OldestAge   time.Duration `json:"oldest_age_ns"`
	AmountCents int64         `json:"amount_cents"` // fees collected by the pending operations
	Reported    time.Time     `json:"reported"`     // the hub's time of the report
}

// Oldest is when the oldest pending operation was queued, by the hub's
// clock; zero when nothing is pending.
func (b *Backlog) Oldest() time.Time {
	if b == nil || b.Pending == 0 {
		return time.Time{}
	}
	return b.Reported.Add(-b.OldestAge)
}

// MaxBacklogAge bounds a reported age: a kiosk refuses new requests after a
// day offline by default, so a year means a broken report.
const MaxBacklogAge = 366 * 24 * time.Hour

// MaxBacklogOps bounds the operations a report may count, pending or
// refused: a kiosk stops taking requests at 500 queued by default
// (outbox.DefaultMaxCount), so ten thousand means a broken or forged report.
const MaxBacklogOps = 10_000

// MaxBacklogOpCents bounds the fees one queued operation may have collected:
// a certificate's bollo (16,00 EUR), diritti and the shop's fee stay far
// below a thousand euro, and the bound keeps any sum of reports from
// overflowing.
const MaxBacklogOpCents = 1000_00

// Validate reports the first figure that cannot be true of a queue.
func (b Backlog) Validate() error {
	switch {
	case b.Pending < 0 || b.Refused < 0:
		return fmt.Errorf("%w: a backlog of %d pending and %d refused operations cannot be negative", ErrInvalid, b.Pending, b.Refused)
	case b.Pending > MaxBacklogOps || b.Refused > MaxBacklogOps:
		return fmt.Errorf("%w: a backlog of %d pending and %d refused operations is more than the %d a kiosk can hold", ErrInvalid, b.Pending, b.Refused, MaxBacklogOps)
	case b.AmountCents < 0:
		return fmt.Errorf("%w: a backlog of %d cents cannot be negative", ErrInvalid, b.AmountCents)
	case b.AmountCents > int64(b.Pending)*MaxBacklogOpCents:
		return fmt.Errorf("%w: %d pending operations cannot have collected %d cents, more than %d cents each", ErrInvalid, b.Pending, b.AmountCents, MaxBacklogOpCents)
	case b.OldestAge < 0 || b.OldestAge > MaxBacklogAge:
		return fmt.Errorf("%w: the oldest queued operation's age %s is not between zero and %s", ErrInvalid, b.OldestAge, MaxBacklogAge)
	case b.Pending == 0 && (b.OldestAge != 0 || b.AmountCents != 0):
		return fmt.Errorf("%w: an empty backlog has no oldest operation and no amount", ErrInvalid)
	}
	return nil
}
