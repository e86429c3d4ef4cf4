// Package limitstest is the suite every limits.Store implementation must
// pass, and an in-memory Store for the domain's own tests.
//
// An implementation's test calls Run with a function opening a new store
// and one reopening it (nil when the store keeps nothing across a close):
//
//	func TestStore(t *testing.T) { limitstest.Run(t, open, reopen) }
package limitstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/store"
)

// Memory is a Store in memory.
type Memory struct {
	mu     sync.Mutex
	daily  map[string]map[string]int // day → key → count
	alerts []limits.Alert
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory { return &Memory{daily: map[string]map[string]int{}} }

// Flush has nothing to write: a Memory store lives as long as its process.
func (m *Memory) Flush(context.Context) error { return nil }

func (m *Memory) TakeDaily(_ context.Context, day string, caps []limits.Cap) (int, []int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.daily[day]
	if d == nil {
		d = map[string]int{}
		m.daily[day] = d
	}
	counts := make([]int, len(caps))
	for i, c := range caps {
		counts[i] = d[c.Key]
		if counts[i] >= c.Max {
			return i, counts, nil
		}
	}
	for i, c := range caps {
		d[c.Key]++
		counts[i] = d[c.Key]
	}
	return -1, counts, nil
}

func (m *Memory) Raise(_ context.Context, a limits.Alert) (limits.Alert, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.alerts {
		if cur := &m.alerts[i]; cur.Open() && cur.Device == a.Device && cur.Kind == a.Kind {
			changed := limits.Merge(cur, a)
			return *cur, changed, nil
		}
	}
	a.ID = fmt.Sprintf("al-%06d", len(m.alerts)+1)
	m.alerts = append(m.alerts, a)
	return a, true, nil
}

func (m *Memory) Alerts(context.Context) ([]limits.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]limits.Alert, len(m.alerts))
	for i, a := range m.alerts {
		out[len(m.alerts)-1-i] = a
	}
	return out, nil
}

func (m *Memory) Close(_ context.Context, device string, r limits.Review) ([]limits.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []limits.Alert
	for i := range m.alerts {
		if a := &m.alerts[i]; a.Open() && a.Device == device {
			rv := r
			a.Review = &rv
			out = append(out, *a)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: device %s has no open alert", limits.ErrNotFound, device)
	}
	return out, nil
}

var _ limits.Store = (*Memory)(nil)

// Run runs the suite. open returns a new, empty store; reopen, when not
// nil, closes s and opens the same data again.
func Run(t *testing.T, open func(t *testing.T) limits.Store, reopen func(t *testing.T, s limits.Store) limits.Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

	t.Run("daily caps count together and refuse at the max", func(t *testing.T) {
		s := open(t)
		caps := []limits.Cap{{Key: "device:a", Max: 3}, {Key: "shop:s", Max: 4}}
		for i := 1; i <= 3; i++ {
			full, counts, err := s.TakeDaily(ctx, "2026-12-05", caps)
			if err != nil || full != -1 || counts[0] != i || counts[1] != i {
				t.Fatalf("take %d: full %d counts %v err %v", i, full, counts, err)
			}
		}
		full, counts, err := s.TakeDaily(ctx, "2026-12-05", caps)
		if err != nil || full != 0 || counts[0] != 3 {
			t.Fatalf("the fourth take: full %d counts %v err %v, want the device's cap full at 3", full, counts, err)
		}
		// Refused takes count nothing: the shop still has one left for
		// another device.
		full, counts, err = s.TakeDaily(ctx, "2026-12-05", []limits.Cap{{Key: "device:b", Max: 3}, {Key: "shop:s", Max: 4}})
		if err != nil || full != -1 || counts[1] != 4 {
			t.Fatalf("another device: full %d counts %v err %v, want the shop's fourth", full, counts, err)
		}
		full, _, _ = s.TakeDaily(ctx, "2026-12-05", []limits.Cap{{Key: "device:c", Max: 3}, {Key: "shop:s", Max: 4}})
		if full != 1 {
			t.Fatalf("the shop's fifth: full %d, want the shop's cap (index 1)", full)
		}
		// A new day starts from zero.
		if full, counts, _ := s.TakeDaily(ctx, "2026-12-06", caps); full != -1 || counts[0] != 1 {
			t.Fatalf("next day: full %d counts %v", full, counts)
		}
		if reopen != nil {
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			s = reopen(t, s)
			if full, counts, _ := s.TakeDaily(ctx, "2026-12-06", caps); full != -1 || counts[0] != 2 {
				t.Fatalf("after reopening: full %d counts %v, want the day's count kept (2)", full, counts)
			}
		}
	})

	t.Run("alerts: one open per device and kind, levels only upwards, closed by review", func(t *testing.T) {
		s := open(t)
		a := limits.Alert{Kind: limits.Flood, Level: limits.LevelAlert, Device: "dev-a", Shop: "op-1", Figure: 10, Threshold: 10, Window: 10, Raised: at, Updated: at}
		first, changed, err := s.Raise(ctx, a)
		if err != nil || !changed || first.ID == "" {
			t.Fatalf("first raise: %+v changed %v err %v", first, changed, err)
		}
		b := a
		b.Figure, b.Updated = 12, at.Add(time.Minute)
		again, changed, err := s.Raise(ctx, b)
		if err != nil || changed || again.ID != first.ID || again.Figure != 12 || !again.Raised.Equal(at) {
			t.Fatalf("the same level again: %+v changed %v err %v, want the same alert updated, not changed", again, changed, err)
		}
		c := b
		c.Level, c.Figure, c.Threshold = limits.LevelSuspend, 50, 50
		up, changed, err := s.Raise(ctx, c)
		if err != nil || !changed || up.ID != first.ID || up.Level != limits.LevelSuspend {
			t.Fatalf("escalation: %+v changed %v err %v", up, changed, err)
		}
		down := a
		down.Figure = 11
		if got, changed, _ := s.Raise(ctx, down); changed || got.Level != limits.LevelSuspend || got.Figure != 50 {
			t.Fatalf("a lower figure took the alert down: %+v changed %v", got, changed)
		}
		other := a
		other.Kind = limits.NightBurst
		if got, changed, _ := s.Raise(ctx, other); !changed || got.ID == first.ID {
			t.Fatalf("another kind shares the alert: %+v", got)
		}
		if reopen != nil {
			s = reopen(t, s)
		}
		all, err := s.Alerts(ctx)
		if err != nil || len(all) != 2 || all[0].Kind != limits.NightBurst || all[1].Level != limits.LevelSuspend {
			t.Fatalf("alerts: %+v err %v, want two, newest first", all, err)
		}
		if _, err := s.Close(ctx, "dev-nobody", limits.Review{At: at, By: "staff:x", Note: "n"}); !errors.Is(err, limits.ErrNotFound) {
			t.Fatalf("closing a device without alerts: %v, want ErrNotFound", err)
		}
		closed, err := s.Close(ctx, "dev-a", limits.Review{At: at.Add(time.Hour), By: "staff:rossi", Note: "shop called, test script stopped"})
		if err != nil || len(closed) != 2 {
			t.Fatalf("close: %+v err %v", closed, err)
		}
		all, _ = s.Alerts(ctx)
		for _, a := range all {
			if a.Open() || a.Review.By != "staff:rossi" {
				t.Fatalf("after review: %+v", a)
			}
		}
		// After the review a new breach is a new alert.
		if got, changed, _ := s.Raise(ctx, a); !changed || got.ID == first.ID {
			t.Fatalf("a breach after the review: %+v changed %v, want a new alert", got, changed)
		}
		all, _ = s.Alerts(ctx)
		ids := map[string]bool{}
		for _, a := range all {
			ids[a.ID] = true
		}
		if len(all) != 3 || len(ids) != 3 {
			t.Fatalf("ids are not unique: %+v", all)
		}
	})
}

// RunStore runs the suite on the limits of hub stores
// (store.Store.Limits): open opens a new, empty store; reopen closes one
// (which writes its counts behind) and opens its data again.
func RunStore(t *testing.T, open func(t *testing.T) store.Store, reopen func(t *testing.T, s store.Store) store.Store) {
	var mu sync.Mutex
	of := map[limits.Store]store.Store{}
	keep := func(s store.Store) limits.Store {
		l := s.Limits()
		mu.Lock()
		defer mu.Unlock()
		of[l] = s
		return l
	}
	Run(t, func(t *testing.T) limits.Store { return keep(open(t)) }, func(t *testing.T, l limits.Store) limits.Store {
		mu.Lock()
		s := of[l]
		mu.Unlock()
		return keep(reopen(t, s))
	})
}

// RunShared runs the checks of two hubs on the same data: second opens
// another Store on the data of first. The daily caps hold for the city,
// not per hub, and a device has one open alert of a kind whichever hub
// raised it.
func RunShared(t *testing.T, open func(t *testing.T) store.Store, second func(t *testing.T, first store.Store) store.Store) {
	ctx := context.Background()
	t.Run("two hubs count against one cap", func(t *testing.T) {
		a := open(t)
		hubs := []limits.Store{a.Limits(), second(t, a).Limits()}
		caps := []limits.Cap{{Key: "shop:s", Max: 10}}
		var wg sync.WaitGroup
		var mu sync.Mutex
		taken, refused := 0, 0
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				full, _, err := hubs[i%2].TakeDaily(ctx, "2026-12-05", caps)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Error(err)
				case full < 0:
					taken++
				default:
					refused++
				}
			}()
		}
		wg.Wait()
		if taken != 10 || refused != 6 {
			t.Fatalf("%d taken and %d refused by two hubs, want 10 and 6: the cap is the city's", taken, refused)
		}
	})
	t.Run("one open alert per device and kind across hubs", func(t *testing.T) {
		a := open(t)
		hubs := []limits.Store{a.Limits(), second(t, a).Limits()}
		at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		al := limits.Alert{Kind: limits.Flood, Level: limits.LevelAlert, Device: "dev-a", Shop: "op-1", Figure: 10, Threshold: 10, Window: 10, Raised: at, Updated: at}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := hubs[i%2].Raise(ctx, al); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		all, err := hubs[1].Alerts(ctx)
		if err != nil || len(all) != 1 {
			t.Fatalf("alerts after raises on two hubs: %+v, %v; want one", all, err)
		}
		closed, err := hubs[0].Close(ctx, "dev-a", limits.Review{At: at, By: "staff:rossi", Note: "ok"})
		if err != nil || len(closed) != 1 {
			t.Fatalf("close: %+v, %v", closed, err)
		}
		if all, _ := hubs[1].Alerts(ctx); len(all) != 1 || all[0].Open() {
			t.Errorf("hub B after hub A's review: %+v", all)
		}
	})
}
