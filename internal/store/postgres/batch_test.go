package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// TestBatchSharesOneTransaction: calls that arrive while a Batch runs
// share the next transaction; a call that fails is alone in failing, the
// others' entries are committed once each, and the chain is whole.
func TestBatchSharesOneTransaction(t *testing.T) {
	s := openAuditStore(t, pg.Database(t))
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, protocol.Rome)
	entry := func(i int) audit.Entry {
		return audit.Entry{Time: at.Add(time.Duration(i) * time.Second), Actor: audit.Actor{Kind: audit.Device, ID: "dev-1"},
			Purpose: "rilascio certificato, art. 33 DPR 223/1989", Subject: "RSSMRA50B17A558W", Data: "residenza", Channel: "counter"}
	}
	const waiting = 6
	bad := errors.New("this call fails")
	var mu sync.Mutex
	txOf := map[int]int64{} // call → the transaction its last run was in
	runs := map[int]int{}
	call := func(i int) func(store.Tx) error {
		return func(htx store.Tx) error {
			var id int64
			if err := htx.(*tx).ptx.QueryRow(ctx, "SELECT txid_current()").Scan(&id); err != nil {
				return err
			}
			mu.Lock()
			txOf[i] = id
			runs[i]++
			mu.Unlock()
			if _, err := htx.Audit().Append(entry(i)); err != nil {
				return err
			}
			if i == 3 {
				return bad
			}
			return nil
		}
	}
	release := make(chan struct{})
	first := make(chan error, 1)
	// lead starts a Batch that holds its transaction until release, once
	// it runs: the calls made after lead returns queue behind it.
	lead := func() {
		running := make(chan struct{})
		go func() {
			first <- s.Batch(ctx, func(tx store.Tx) error {
				close(running)
				<-release
				return call(0)(tx)
			})
		}()
		<-running
	}
	lead()
	errs := make([]error, waiting+1)
	var wg sync.WaitGroup
	for i := 1; i <= waiting; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Batch(ctx, call(i)) }()
	}
	for queued := 0; queued < waiting; {
		time.Sleep(time.Millisecond)
		s.batches.mu.Lock()
		queued = len(s.batches.queue)
		s.batches.mu.Unlock()
	}
	close(release)
	wg.Wait()
	errs[0] = <-first
	for i, err := range errs {
		switch {
		case i == 3 && !errors.Is(err, bad):
			t.Errorf("call 3: %v, want its own error", err)
		case i != 3 && err != nil:
			t.Errorf("call %d: %v", i, err)
		}
	}
	// The failure made the queued calls run again alone: the failed one
	// twice (together, then alone), those queued after it once.
	if runs[3] != 2 {
		t.Errorf("the failed call ran %d times, want 2 (together, then alone)", runs[3])
	}
	err := s.View(ctx, func(tx store.Tx) error {
		h, err := tx.Audit().Verify()
		if err != nil {
			return err
		}
		if n, _ := tx.Audit().Count(); h.Seq != waiting || n != waiting {
			t.Errorf("head %d, %d entries; want %d (every call but the failed one, once)", h.Seq, n, waiting)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Without a failure the queued calls commit in one transaction.
	clear(txOf)
	release = make(chan struct{})
	lead()
	for i := 4; i <= waiting+3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i-3] = s.Batch(ctx, call(i)) }()
	}
	for queued := 0; queued < waiting; {
		time.Sleep(time.Millisecond)
		s.batches.mu.Lock()
		queued = len(s.batches.queue)
		s.batches.mu.Unlock()
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	txs := map[int64]bool{}
	for i := 4; i <= waiting+3; i++ {
		if errs[i-3] != nil {
			t.Errorf("call %d: %v", i, errs[i-3])
		}
		txs[txOf[i]] = true
	}
	if len(txs) != 1 || txs[txOf[0]] {
		t.Errorf("the %d queued calls ran in %d transactions (the first call's among them: %v), want 1 of their own", waiting, len(txs), txs[txOf[0]])
	}
}
