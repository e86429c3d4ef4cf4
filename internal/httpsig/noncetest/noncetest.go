// Package noncetest is the suite every hub store's nonces
// (store.Store.Nonces, the signed API's httpsig.NonceStore) pass.
//
// A backend's test calls Run with a function opening a new, empty store
// and one reopening its data (a restart), and, for a backend several hubs
// share, RunShared with a function opening a second Store on the data of
// the first: a nonce one hub accepted is a replay to the other.
package noncetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/store"
)

// Open returns a new, empty store.
type Open func(t *testing.T) store.Store

// Reopen closes s and opens its data again, as a restarted hub does.
type Reopen func(t *testing.T, s store.Store) store.Store

var (
	ctx = context.Background()
	now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
)

// use records one nonce valid for five minutes from at.
func use(t *testing.T, s store.Store, key, nonce string, at time.Time) bool {
	t.Helper()
	fresh, err := s.Nonces().Use(ctx, key, nonce, at, at.Add(5*time.Minute))
	if err != nil {
		t.Fatalf("Use(%s, %s): %v", key, nonce, err)
	}
	return fresh
}

// Run runs the suite.
func Run(t *testing.T, open Open, reopen Reopen) {
	t.Run("a nonce is fresh once per key until it expires", func(t *testing.T) {
		s := open(t)
		if !use(t, s, "dev-a", "n1", now) {
			t.Fatal("a new nonce is not fresh")
		}
		if use(t, s, "dev-a", "n1", now.Add(time.Second)) {
			t.Fatal("a replay was fresh")
		}
		if !use(t, s, "dev-b", "n1", now) {
			t.Error("another key's same nonce is not fresh")
		}
		if !use(t, s, "dev-a", "n2", now) {
			t.Error("the key's next nonce is not fresh")
		}
		if use(t, s, "dev-a", "n1", now.Add(5*time.Minute-time.Second)) {
			t.Error("a replay just before expiry was fresh")
		}
		// Once its signature can no longer be presented, the nonce may be
		// forgotten, and a new signature may carry it again.
		if !use(t, s, "dev-a", "n1", now.Add(5*time.Minute+time.Second)) {
			t.Error("an expired nonce is still refused")
		}
	})

	t.Run("concurrent uses of one nonce: exactly one is fresh", func(t *testing.T) {
		s := open(t)
		concurrent(t, []store.Store{s})
	})

	t.Run("a replay after a restart is refused", func(t *testing.T) {
		s := open(t)
		for i := range 20 {
			use(t, s, "dev-a", fmt.Sprintf("n%d", i), now)
		}
		s = reopen(t, s)
		for i := range 20 {
			if use(t, s, "dev-a", fmt.Sprintf("n%d", i), now.Add(time.Minute)) {
				t.Fatalf("nonce n%d was fresh again after the restart", i)
			}
		}
		if !use(t, s, "dev-a", "n20", now.Add(time.Minute)) {
			t.Error("a new nonce after the restart is not fresh")
		}
	})

	t.Run("expired nonces are purged", func(t *testing.T) {
		s := open(t)
		for i := range 50 {
			use(t, s, "dev-a", fmt.Sprintf("old%d", i), now)
		}
		// Well past their expiry, later requests clean up as they go.
		later := now.Add(time.Hour)
		for i := range 50 {
			use(t, s, "dev-a", fmt.Sprintf("new%d", i), later.Add(time.Duration(i)*time.Second))
		}
		var n int
		var err error
		switch st := s.Nonces().(type) {
		case interface {
			Stored(context.Context) (int, error)
		}:
			n, err = st.Stored(ctx)
		case interface{ Stored() (int, error) }:
			n, err = st.Stored()
		default:
			t.Skip("the store does not count its records")
		}
		if err != nil {
			t.Fatal(err)
		}
		if n >= 100 {
			t.Errorf("%d records after the old ones expired, want them purged", n)
		}
	})
}

// concurrent has many goroutines spread over stores use the same nonces
// at once: each nonce must be fresh exactly once.
func concurrent(t *testing.T, stores []store.Store) {
	t.Helper()
	const nonces, tries = 20, 8
	var fresh [nonces]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, nonces*tries)
	for n := range nonces {
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := stores[(n+i)%len(stores)]
				ok, err := s.Nonces().Use(ctx, "dev-a", fmt.Sprintf("n%d", n), now, now.Add(5*time.Minute))
				if err != nil {
					errs <- err
					return
				}
				if ok {
					fresh[n].Add(1)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for n := range nonces {
		if got := fresh[n].Load(); got != 1 {
			t.Errorf("nonce n%d was fresh %d times, want once", n, got)
		}
	}
}

// RunShared runs the checks of two hubs on the same data: second opens
// another Store on the data of first.
func RunShared(t *testing.T, open Open, second func(t *testing.T, first store.Store) store.Store) {
	t.Run("a replay to another hub is refused", func(t *testing.T) {
		a := open(t)
		b := second(t, a)
		if !use(t, a, "dev-a", "n1", now) {
			t.Fatal("a new nonce is not fresh on hub A")
		}
		if use(t, b, "dev-a", "n1", now.Add(time.Second)) {
			t.Fatal("hub B accepted the nonce hub A accepted: a replay to another hub went through")
		}
		if !use(t, b, "dev-a", "n2", now) || use(t, a, "dev-a", "n2", now) {
			t.Error("a nonce first used on hub B is not refused by hub A")
		}
	})
	t.Run("concurrent uses on two hubs: exactly one is fresh", func(t *testing.T) {
		a := open(t)
		concurrent(t, []store.Store{a, second(t, a)})
	})
}
