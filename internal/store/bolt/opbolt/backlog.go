package opbolt

import (
	"encoding/json"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/operators"
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
		return fmt.Errorf("%w: a backlog of %d pending and %d refused operations cannot be negative", operators.ErrInvalid, b.Pending, b.Refused)
	case b.Pending > MaxBacklogOps || b.Refused > MaxBacklogOps:
		return fmt.Errorf("%w: a backlog of %d pending and %d refused operations is more than the %d a kiosk can hold", operators.ErrInvalid, b.Pending, b.Refused, MaxBacklogOps)
	case b.AmountCents < 0:
		return fmt.Errorf("%w: a backlog of %d cents cannot be negative", operators.ErrInvalid, b.AmountCents)
	case b.AmountCents > int64(b.Pending)*MaxBacklogOpCents:
		return fmt.Errorf("%w: %d pending operations cannot have collected %d cents, more than %d cents each", operators.ErrInvalid, b.Pending, b.AmountCents, MaxBacklogOpCents)
	case b.OldestAge < 0 || b.OldestAge > MaxBacklogAge:
		return fmt.Errorf("%w: the oldest queued operation's age %s is not between zero and %s", operators.ErrInvalid, b.OldestAge, MaxBacklogAge)
	case b.Pending == 0 && (b.OldestAge != 0 || b.AmountCents != 0):
		return fmt.Errorf("%w: an empty backlog has no oldest operation and no amount", operators.ErrInvalid)
	}
	return nil
}

// PutBacklog records device keyID's report at instant at, replacing the
// previous one.
func PutBacklog(tx *bbolt.Tx, keyID string, b Backlog, at time.Time) (*Backlog, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if _, err := Device(tx, keyID); err != nil {
		return nil, err
	}
	b.KeyID, b.Reported = keyID, at.UTC()
	return &b, put(tx, bucketBacklog, keyID, b)
}

// GetBacklog returns device keyID's last report, or nil if it never reported.
func GetBacklog(tx *bbolt.Tx, keyID string) (*Backlog, error) {
	bk, err := bucket(tx, bucketBacklog)
	if err != nil {
		return nil, err
	}
	v := bk.Get([]byte(keyID))
	if v == nil {
		return nil, nil
	}
	var b Backlog
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, fmt.Errorf("the stored backlog of device %q is damaged: %w", keyID, err)
	}
	return &b, nil
}

// SetBacklog records a device's report of its offline queue, now.
func (s *Store) SetBacklog(keyID string, b Backlog) (out *Backlog, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error { out, err = PutBacklog(tx, keyID, b, s.now()); return err })
	return out, err
}

// Backlog returns a device's last report of its offline queue, or nil.
func (s *Store) Backlog(keyID string) (b *Backlog, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error { b, err = GetBacklog(tx, keyID); return err })
	return b, err
}
