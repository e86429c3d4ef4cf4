package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// Two hubs issue across midnight while one of them closes the day before:
// no entry reaches the closed day after its closing (closing it again
// finds the same CSV), and the register has no hole and no duplicate.
func TestProtocolCloseDayWhileTwoHubsIssue(t *testing.T) {
	ctx := context.Background()
	a := openHub(t)
	b := twin(t, a)
	d := protocol.Day{Year: 2026, Month: time.March, Day: 10}
	var clock atomic.Int64
	start := d.End().Add(-300 * time.Millisecond)
	now := func() time.Time { return start.Add(time.Duration(clock.Add(int64(time.Millisecond)))) }
	var wg sync.WaitGroup
	var registered, closedOut atomic.Int64
	errs := make(chan error, 16)
	for w := range 6 {
		s := []store.Store{a, b}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				n, at, err := s.Numbering().Reserve(ctx, now(), protocol.Register{})
				if err != nil {
					errs <- err
					return
				}
				ref := fmt.Sprintf("w%d-%d", w, i)
				e := protocol.Entry{Number: n, Time: at, Direction: protocol.Outgoing, Correspondent: "RSSMRA50B17A558W",
					Subject: "Certificato", DocType: "certificato anagrafico", DocSHA256: sha256.Sum256([]byte(ref)), Ref: ref}
				err = s.Update(ctx, func(tx store.Tx) error { return tx.Protocol().Write(e) })
				if errors.Is(err, protocol.ErrDayClosed) {
					closedOut.Add(1)
					if _, err := s.Numbering().Abandon(ctx, n, now(), protocol.ReasonFailed, ref); err != nil {
						errs <- err
						return
					}
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				registered.Add(1)
				if _, err := s.Numbering().Registered(ctx, n, now()); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var closing protocol.Closing
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, _, err := b.Numbering().CloseDay(ctx, d, now())
			if err == nil {
				closing = c
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, s := range []store.Store{a, b} {
		if _, err := s.Numbering().Recover(ctx, now()); err != nil {
			t.Fatal(err)
		}
	}
	again, es, err := a.Numbering().CloseDay(ctx, d, now())
	if err != nil {
		t.Fatalf("closing %s again: %v", d, err)
	}
	if again.SHA256 != closing.SHA256 || len(es) != closing.Entries {
		t.Fatalf("the closed day changed after its closing: %d entries then, %d now", closing.Entries, len(es))
	}
	var outgoing int64
	err = a.View(ctx, func(tx store.Tx) error {
		last, err := tx.Protocol().Last(2026)
		if err != nil {
			return err
		}
		refs := map[string]bool{}
		for seq := uint64(1); seq <= last.Seq; seq++ {
			e, err := tx.Protocol().Get(protocol.Number{Year: 2026, Seq: seq})
			if err != nil {
				return fmt.Errorf("hole at %d of %d: %w", seq, last.Seq, err)
			}
			if e.Direction == protocol.Annulled {
				continue
			}
			if refs[e.Ref] {
				return fmt.Errorf("document %s registered twice", e.Ref)
			}
			refs[e.Ref] = true
			outgoing++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if outgoing != registered.Load() {
		t.Fatalf("%d registrations in the register, %d committed", outgoing, registered.Load())
	}
	t.Logf("%d registered, %d refused for the closed day, %d in the closed day", registered.Load(), closedOut.Load(), closing.Entries)
}
