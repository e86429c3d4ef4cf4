package kiosk

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
)

func TestCardEvent(t *testing.T) {
	tests := []struct {
		name   string
		mode   Mode
		setup  func(r *rig)
		placed bool
		want   Step
		reads  bool // the card was read
	}{
		{"self-service start: the flow begins", SelfService, func(*rig) {}, true, StepPIN, true},
		{"operator identifying: the citizen is read", Operator, login, true, StepChoose, true},
		{"operator not logged in: nothing", Operator, func(*rig) {}, true, StepLogin, false},
		{"operator choosing: shown only", Operator, identified, true, StepChoose, false},
		{"self-service on the PIN screen: shown only", SelfService, func(r *rig) { r.flow.TapCard(ctx) }, true, StepPIN, false},
		{"card taken off the start screen", SelfService, func(*rig) {}, false, StepStart, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.mode)
			tt.setup(r)
			reads := 0
			r.reader.onRead = func() { reads++ }
			if err := r.flow.CardEvent(ctx, tt.placed); err != nil {
				t.Fatal(err)
			}
			r.step(t, tt.want)
			if v := r.flow.View(); v.CardPresent != tt.placed {
				t.Errorf("card present %v, want %v", v.CardPresent, tt.placed)
			}
			if (reads > 0) != tt.reads {
				t.Errorf("card read %d times, want read=%v", reads, tt.reads)
			}
		})
	}
}

// TestWatchCards drives the flow from a reader's events: the self-service
// start screen starts on insertion, and the card's presence follows
// removal; a failing reader is watched again.
func TestWatchCards(t *testing.T) {
	r := newRig(t, SelfService)
	w := &chanWatcher{events: make(chan bool), fails: 1}
	changed := make(chan struct{}, 64)
	r.flow.OnChange = func() { changed <- struct{}{} }
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.flow.WatchCards(c, w, time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	waitFor := func(what string, ok func(View) bool) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for !ok(r.flow.View()) {
			select {
			case <-changed:
			case <-deadline:
				t.Fatalf("%s: never happened; view %+v", what, r.flow.View())
			}
		}
	}
	w.events <- true // blocks until the second watch, after the failed first, takes it
	waitFor("insertion starts the flow", func(v View) bool { return v.Step == StepPIN && v.CardPresent })
	w.events <- false
	waitFor("removal is shown", func(v View) bool { return !v.CardPresent })
	if w.calls() != 2 {
		t.Errorf("the watcher was called %d times; want a failure followed by another watch", w.calls())
	}
}

// chanWatcher fails its first fails watches, then reports what events carries.
type chanWatcher struct {
	events chan bool
	mu     sync.Mutex
	n      int
	fails  int
}

func (w *chanWatcher) WatchCards(ctx context.Context, fn func(bool)) error {
	w.mu.Lock()
	w.n++
	fail := w.n <= w.fails
	w.mu.Unlock()
	if fail {
		return errors.New("reader unplugged")
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case placed := <-w.events:
			fn(placed)
		}
	}
}

func (w *chanWatcher) calls() int { w.mu.Lock(); defer w.mu.Unlock(); return w.n }

// TestCIEReaderWatchCards: a card already on the reader is reported as
// placed, through the card reader provider.
func TestCIEReaderWatchCards(t *testing.T) {
	for _, tt := range []struct {
		name   string
		reader string
	}{{"any reader", ""}, {"the configured reader", "virtual"}} {
		t.Run(tt.name, func(t *testing.T) {
			rd := &CIEReader{Provider: cardreader.NewInProcess("virtual", dummyCard{}), Reader: tt.reader}
			c, cancel := context.WithCancel(ctx)
			var got []bool
			err := rd.WatchCards(c, func(placed bool) { got = append(got, placed); cancel() })
			if !errors.Is(err, context.Canceled) || len(got) != 1 || !got[0] {
				t.Errorf("WatchCards = %v, events %v; want one placement", err, got)
			}
		})
	}
}

type dummyCard struct{}

func (dummyCard) Process([]byte) []byte { return []byte{0x6a, 0x82} }
func (dummyCard) ATR() []byte           { return []byte{0x3b} }
func (dummyCard) Reset()                {}
