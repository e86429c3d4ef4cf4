package certificate

import (
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// ErrPDFExpired is wrapped when a certificate's PDF was deleted at the end
// of the city's re-download window: the record and the document's hash
// stay, so the verification page still answers, but the document is no
// longer kept to hand out again.
var ErrPDFExpired = errors.New("certificate PDF no longer kept")

// ErrPurged is wrapped when a certificate's record was purged at the end of
// the records' retention period.
var ErrPurged = errors.New("certificate record purged")

// Purged is all the hub keeps of a certificate whose record retention
// removed: its id, the day it was issued and when it was purged. None of
// it is personal data; it lets the verification page say "issued by this
// hub on that day, details no longer held" rather than "unknown", which
// would read as a forgery to whoever holds the paper.
type Purged struct {
	ID     string        `json:"id"`
	Issued registry.Date `json:"issued"` // the day in Rome, not the time
	At     time.Time     `json:"purged_at"`
}

// PurgedError is the answer to a look-up of a purged certificate; it
// wraps ErrPurged.
type PurgedError struct{ Purged }

func (e *PurgedError) Error() string {
	return fmt.Sprintf("certificate %s, issued on %s, was purged on %s at the end of its retention period", e.ID, e.Issued.Italian(), e.At.In(rome).Format("02/01/2006"))
}

func (e *PurgedError) Unwrap() error { return ErrPurged }

// PurgedCopier is a Tx that lists and takes what retention kept of the
// certificates it purged (hub migrate), so /v/{id} on the new store still
// answers "issued here on that day, details no longer held".
type PurgedCopier interface {
	// AllPurged lists every purged certificate's marker, by id.
	AllPurged() ([]Purged, error)
	// RestorePurged writes ps as they are; an id held already, by a
	// record or a marker, is refused (ErrDuplicateID) and nothing written.
	RestorePurged(ps []Purged) error
}
