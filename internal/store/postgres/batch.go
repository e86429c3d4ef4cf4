package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/sportello/sportello/internal/store"
)

// Batch commits concurrent calls together: the first caller runs its fn
// in a transaction of its own at once; calls that arrive meanwhile queue,
// and the first of them runs the whole queue in one transaction once
// that one ends. So an idle hub adds no wait, and a busy one pays one
// commit, and takes the audit log's head row once, for many calls: each
// audited read (store.Recorder) appends to the one chain every hub on the
// database shares, whose head row an append holds until its commit, so
// one transaction a read would cap a database at one commit's time a read
// for all its hubs.
//
// A fn that fails sinks the transaction (PostgreSQL aborts it at the
// first failed statement): it is rolled back and each call of the batch
// runs again alone, so one failure cannot fail the others; fn may
// therefore run twice, as store.Store allows.
func (s *Store) Batch(ctx context.Context, fn func(store.Tx) error) error {
	c := &batchCall{fn: fn, wake: make(chan bool, 1)}
	g := &s.batches
	g.mu.Lock()
	g.queue = append(g.queue, c)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead && !<-c.wake {
		return c.err
	}
	g.mu.Lock()
	calls := g.queue
	g.queue = nil
	g.mu.Unlock()

	// The calls of others ride on this one's transaction: its caller
	// giving up must not fail theirs.
	s.runBatch(context.WithoutCancel(ctx), calls)

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].wake <- true
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	for _, q := range calls {
		if q != c {
			q.wake <- false
		}
	}
	return c.err
}

// batchGroup is the queue of a Store's Batch calls.
type batchGroup struct {
	mu    sync.Mutex
	queue []*batchCall
	busy  bool // a call is running the queue
}

type batchCall struct {
	fn   func(store.Tx) error
	err  error
	wake chan bool // true: run the queue; false: err is the result
}

var errBatchMember = errors.New("a call failed in a batch")

func (s *Store) runBatch(ctx context.Context, calls []*batchCall) {
	if len(calls) == 1 {
		calls[0].err = s.Update(ctx, calls[0].fn)
		return
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		for _, c := range calls {
			if err := c.fn(tx); err != nil {
				return errBatchMember
			}
		}
		return nil
	})
	if errors.Is(err, errBatchMember) {
		for _, c := range calls {
			c.err = s.Update(ctx, c.fn)
		}
		return
	}
	for _, c := range calls {
		c.err = err
	}
}
