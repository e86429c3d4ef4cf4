package operators

import (
	"fmt"
	"time"
)

// OfflineLimits are what a kiosk may take while it cannot reach the hub,
// as payment terminals bound their offline payments (Square: 24 hours;
// Stripe Terminal: an amount per payment and in total). The city sets them
// (package city); the hub hands them to every kiosk with its agreement, and
// the kiosk's outbox refuses, naming the limit, a sale that would pass one.
// Zero fields stand for DefaultOfflineLimits'.
type OfflineLimits struct {
	// OperationCents caps what one sale taken offline collects.
	OperationCents int64 `json:"operation_cents,omitempty"`
	// TotalCents caps what all the sales waiting for the hub collect together.
	TotalCents int64 `json:"total_cents,omitempty"`
	// Count caps how many sales may wait for the hub.
	Count int `json:"count,omitempty"`
	// AgeHours is how long the oldest sale may have waited before no
	// more are taken.
	AgeHours int `json:"age_hours,omitempty"`
}

// DefaultOfflineLimits hold where a city set none: 50 EUR a sale, which
// is more than any one certificate request costs at a counter (one bollo
// of 16 EUR, the diritti and the operator's fee); 500 EUR and 100 sales
// waiting; 24 hours, Square's offline limit.
var DefaultOfflineLimits = OfflineLimits{OperationCents: 5000, TotalCents: 50000, Count: 100, AgeHours: 24}

// Bounds a city's offline limits must stay within: beyond them a limit is
// a typing error, not a policy.
const (
	MaxOfflineOperationCents = 100000   // 1,000 EUR a sale
	MaxOfflineTotalCents     = 10000000 // 100,000 EUR waiting
	MaxOfflineCount          = 10000
	MaxOfflineAgeHours       = 7 * 24
)

// Effective is l with each zero field taken from DefaultOfflineLimits.
func (l OfflineLimits) Effective() OfflineLimits { return l.Or(DefaultOfflineLimits) }

// Or is l with each zero field taken from d.
func (l OfflineLimits) Or(d OfflineLimits) OfflineLimits {
	if l.OperationCents == 0 {
		l.OperationCents = d.OperationCents
	}
	if l.TotalCents == 0 {
		l.TotalCents = d.TotalCents
	}
	if l.Count == 0 {
		l.Count = d.Count
	}
	if l.AgeHours == 0 {
		l.AgeHours = d.AgeHours
	}
	return l
}

// MaxAge is AgeHours as a duration.
func (l OfflineLimits) MaxAge() time.Duration { return time.Duration(l.AgeHours) * time.Hour }

// Validate checks limits as staff set them (zero fields unset), with the
// effective ones in force together: a sale's cap above the total's would
// never be the one that refuses.
func (l OfflineLimits) Validate() error {
	switch {
	case l.OperationCents < 0 || l.OperationCents > MaxOfflineOperationCents:
		return fmt.Errorf("%w: the offline cap per sale must be between 0,01 and %d,00 EUR", ErrInvalid, MaxOfflineOperationCents/100)
	case l.TotalCents < 0 || l.TotalCents > MaxOfflineTotalCents:
		return fmt.Errorf("%w: the offline total cap must be between 0,01 and %d,00 EUR", ErrInvalid, MaxOfflineTotalCents/100)
	case l.Count < 0 || l.Count > MaxOfflineCount:
		return fmt.Errorf("%w: the number of sales a kiosk may hold offline must be between 1 and %d", ErrInvalid, MaxOfflineCount)
	case l.AgeHours < 0 || l.AgeHours > MaxOfflineAgeHours:
		return fmt.Errorf("%w: the age limit of sales held offline must be between 1 and %d hours", ErrInvalid, MaxOfflineAgeHours)
	}
	if e := l.Effective(); e.OperationCents > e.TotalCents {
		return fmt.Errorf("%w: the offline cap per sale (%d cents) is above the offline total cap (%d cents)", ErrInvalid, e.OperationCents, e.TotalCents)
	}
	return nil
}
