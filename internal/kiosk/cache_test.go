package kiosk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/outbox"
)

func TestCacheAgreement(t *testing.T) {
	fresh := &Agreement{OperatorName: "Edicola", FeeCents: 200, Types: []certificate.Type{certificate.Residenza}, MayIssue: true, Fetched: testNow}
	offline := fmt.Errorf("%w: dial refused", ErrOffline)
	refused := &Refusal{Status: 403, Reason: "key_revoked", Message: "revoked"}
	tests := []struct {
		name    string
		seed    bool   // a first answer was kept
		damage  string // written over the cache file before asking
		err     error  // what the hub answers now
		wantFee int64
		cached  bool
		wantErr error
	}{
		{"the hub answers", false, "", nil, 200, false, nil},
		{"offline, with a copy", true, "", offline, 200, true, nil},
		{"offline, no copy", false, "", offline, 0, false, ErrNoCopy},
		{"offline, the copy damaged", true, "{not json", offline, 0, false, ErrNoCopy},
		{"refused: the copy does not hide it", true, "", refused, 0, false, refused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Cache{Path: filepath.Join(t.TempDir(), "cache.json")}
			if tt.seed {
				if _, err := c.Agreement(ctx, func(context.Context) (*Agreement, error) { a := *fresh; return &a, nil }); err != nil {
					t.Fatal(err)
				}
			}
			if tt.damage != "" {
				os.WriteFile(c.Path, []byte(tt.damage), 0o600)
			}
			a, err := c.Agreement(ctx, func(context.Context) (*Agreement, error) {
				if tt.err != nil {
					return nil, tt.err
				}
				a := *fresh
				return &a, nil
			})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.FeeCents != tt.wantFee || a.Cached != tt.cached || !a.Fetched.Equal(testNow) || len(a.Types) != 1 {
				t.Errorf("agreement %+v, want fee %d cached %v fetched %s", a, tt.wantFee, tt.cached, testNow)
			}
			if fi, err := os.Stat(c.Path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("cache file: %v %v", fi, err)
			}
		})
	}
}

func TestCacheDirectoryKeepsAgreement(t *testing.T) {
	c := &Cache{Path: filepath.Join(t.TempDir(), "cache.json")}
	c.Agreement(ctx, func(context.Context) (*Agreement, error) { return &Agreement{FeeCents: 150, Fetched: testNow}, nil })
	d := &Directory{Places: []Place{{Name: "Tabacchi Loreto", DistanceM: 450, Open: true}}, Fetched: testNow.Add(time.Hour)}
	if _, err := c.Directory(ctx, func(context.Context) (*Directory, error) { return d, nil }); err != nil {
		t.Fatal(err)
	}
	down := func(context.Context) (*Directory, error) { return nil, ErrOffline }
	got, err := c.Directory(ctx, down)
	if err != nil || !got.Cached || len(got.Places) != 1 || got.Places[0].Name != "Tabacchi Loreto" || !got.Fetched.Equal(d.Fetched) {
		t.Fatalf("cached directory %+v, %v", got, err)
	}
	a, err := c.Agreement(ctx, func(context.Context) (*Agreement, error) { return nil, ErrOffline })
	if err != nil || a.FeeCents != 150 {
		t.Errorf("saving the directory lost the agreement: %+v %v", a, err)
	}
}

func TestBacklogReporter(t *testing.T) {
	clock := &fakeClock{t: testNow}
	oldest := testNow.Add(-time.Hour)
	st := outbox.Stats{Pending: 2, AmountCents: 3604, Oldest: oldest, OldestAge: time.Hour}
	var sent []hubclient.Backlog
	fail := false
	r := &BacklogReporter{Stats: func() (outbox.Stats, error) { return st, nil }, Every: 5 * time.Minute, Now: clock.Now,
		Send: func(_ context.Context, b hubclient.Backlog) error {
			if fail {
				return ErrOffline
			}
			sent = append(sent, b)
			return nil
		}}
	steps := []struct {
		name   string
		change func()
		want   int // reports sent so far
		last   hubclient.Backlog
	}{
		{"first contact", func() {}, 1, hubclient.Backlog{Pending: 2, OldestAgeSeconds: 3600, AmountCents: 3604}},
		{"nothing new a poll later", func() { clock.Add(5 * time.Second); st.OldestAge += 5 * time.Second }, 1, hubclient.Backlog{}},
		{"one more queued", func() { st.Pending, st.AmountCents = 3, 5406 }, 2, hubclient.Backlog{Pending: 3, OldestAgeSeconds: 3605, AmountCents: 5406}},
		{"the hub fails: nothing recorded", func() { fail = true; st.Pending, st.AmountCents = 0, 0; st.Oldest, st.OldestAge = time.Time{}, 0 }, 2, hubclient.Backlog{}},
		{"drained, sent at the next contact", func() { fail = false }, 3, hubclient.Backlog{}},
		{"unchanged after Every: sent again", func() { clock.Add(5 * time.Minute) }, 4, hubclient.Backlog{}},
	}
	for _, s := range steps {
		s.change()
		err := r.Report(ctx)
		if fail != (err != nil) {
			t.Fatalf("%s: Report = %v", s.name, err)
		}
		if len(sent) != s.want {
			t.Fatalf("%s: %d reports sent, want %d", s.name, len(sent), s.want)
		}
		if got := sent[len(sent)-1]; got != s.last && s.last != (hubclient.Backlog{}) {
			t.Errorf("%s: sent %+v, want %+v", s.name, got, s.last)
		}
	}
	if got := sent[len(sent)-1]; got != (hubclient.Backlog{}) {
		t.Errorf("an empty queue reported as %+v", got)
	}
}

func TestThrottle(t *testing.T) {
	clock := &fakeClock{t: testNow}
	n, fail := 0, false
	fn := Throttle(time.Minute, clock.Now, func(context.Context) error {
		n++
		if fail {
			return ErrOffline
		}
		return nil
	})
	for _, s := range []struct {
		after time.Duration
		fail  bool
		want  int
	}{{0, false, 1}, {30 * time.Second, false, 1}, {30 * time.Second, true, 2}, {time.Second, false, 3}, {time.Second, false, 3}} {
		clock.Add(s.after)
		fail = s.fail
		fn(ctx)
		if n != s.want {
			t.Fatalf("after %s: ran %d times, want %d", s.after, n, s.want)
		}
	}
}
