// Package clock is the hub's one notion of the current time. The hub's
// constructor takes one Clock and hands it to every service, so a test (or
// SPORTELLO_CLOCK_OFFSET) moves the whole hub's time at once, and no
// domain or server code reads time.Now behind its back.
package clock

import (
	"sync"
	"time"
)

// Clock says what time it is. It is a plain function type so that the
// services' `Now func() time.Time` fields take a Clock as it is.
type Clock func() time.Time

// System is the machine's clock.
func System() time.Time { return time.Now() }

// Or is c, or System when c is nil: what a service uses when it was given
// no clock.
func Or(c func() time.Time) Clock {
	if c == nil {
		return System
	}
	return c
}

// Offset is the system clock moved by d, as moving the machine's clock
// would (hub's SPORTELLO_CLOCK_OFFSET).
func Offset(d time.Duration) Clock {
	if d == 0 {
		return System
	}
	return func() time.Time { return time.Now().Add(d) }
}

// Fake is a clock a test sets and moves; it stands still in between, so a
// test's dates do not depend on how long it ran. Safe for concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake is a fake clock reading t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now reads the fake clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Set makes the clock read t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

// Advance moves the clock by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Clock is f as a Clock.
func (f *Fake) Clock() Clock { return f.Now }
