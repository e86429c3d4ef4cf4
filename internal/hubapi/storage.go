package hubapi

import (
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// retryAfter is the Retry-After, in seconds, of a 503 answer with reason:
// a full disk waits for someone to free space, a clock behind the register
// for the clock to be put right; a day closed under a request is over at
// once.
func retryAfter(reason string) string {
	switch reason {
	case api.ReasonStorageFull:
		return "30"
	case api.ReasonRegisterClockBehind:
		return "60"
	}
	return "1"
}

// storageHealth is whether the hub's storage takes writes: degraded from a
// write that failed for lack of space until one succeeds again (an
// issuance, or the probe /healthz runs while degraded).
type storageHealth struct {
	mu    sync.Mutex
	full  bool
	since time.Time
	// probing is held while a probe runs, so monitors polling a degraded
	// hub start one probe at a time.
	probing sync.Mutex
}

// failed records a write that failed for lack of space, and reports
// whether the storage was healthy until then.
func (h *storageHealth) failed(now time.Time) (wasHealthy bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.full {
		return false
	}
	h.full, h.since = true, now
	return true
}

// wrote records a write that succeeded, and reports whether the storage
// was degraded until then.
func (h *storageHealth) wrote() (wasFull bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	wasFull = h.full
	h.full, h.since = false, time.Time{}
	return wasFull
}

// state returns whether the storage is full and since when.
func (h *storageHealth) state() (bool, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.full, h.since
}
