package staff

import (
	"context"
	"errors"
	"runtime"
)

// ErrBusy refuses a password check when too many are running or waiting:
// the caller answers "try again in a moment" at once instead of queueing
// without bound.
var ErrBusy = errors.New("too many log-ins are being checked at once; try again in a moment")

// Gate bounds how many password hashes run at once. Each argon2id check
// takes DefaultParams.Memory (19 MiB) for its duration: a hundred log-in
// attempts at once once took a hub from 40 MiB to 1.9 GiB, which Go's
// runtime then kept. With a Gate at most Size checks run, at most Queue
// more wait, and the rest are refused with ErrBusy.
type Gate struct {
	run  chan struct{} // a token per running check
	wait chan struct{} // a token per admitted check, running or waiting
	// OnRun, when set, is called with +1 as each check starts and with -1
	// as it ends (tests count the checks running with it).
	OnRun func(delta int)
}

// NewGate lets size checks run at once and queue more wait.
func NewGate(size, queue int) *Gate {
	size = max(size, 1)
	return &Gate{run: make(chan struct{}, size), wait: make(chan struct{}, size+max(queue, 0))}
}

// DefaultGate is sized from the processors Go may use: half of them, at
// least one and at most 8, so log-ins never take the whole machine from
// the certificate desk (each check keeps one core busy); 8 more per
// running slot may wait, a few hundred milliseconds at most.
func DefaultGate() *Gate {
	n := min(max(runtime.GOMAXPROCS(0)/2, 1), 8)
	return NewGate(n, 8*n)
}

// Do runs fn when a slot is free. It returns ErrBusy without waiting when
// the queue is full, or ctx's error if ctx ends while waiting; fn has not
// run then.
func (g *Gate) Do(ctx context.Context, fn func()) error {
	select {
	case g.wait <- struct{}{}:
	default:
		return ErrBusy
	}
	defer func() { <-g.wait }()
	select {
	case g.run <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.run }()
	if g.OnRun != nil {
		g.OnRun(1)
		defer g.OnRun(-1)
	}
	fn()
	return nil
}

// Check runs CheckPassword through the gate.
func (g *Gate) Check(ctx context.Context, hash, pw string) (ok bool, err error) {
	if gerr := g.Do(ctx, func() { ok, err = CheckPassword(hash, pw) }); gerr != nil {
		return false, gerr
	}
	return ok, err
}
