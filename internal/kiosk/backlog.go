package kiosk

import (
	"context"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/outbox"
)

// BacklogReporter tells the hub what the kiosk's outbox holds (pending
// operations, the oldest one's age, the amount) after a successful contact,
// so city staff see kiosks sitting on requests the hub has not had. The
// status bar polls every few seconds: unchanged figures are sent again only
// every Every, since each report costs the hub a disk write.
type BacklogReporter struct {
	Stats func() (outbox.Stats, error)
	Send  func(context.Context, hubclient.Backlog) error
	Every time.Duration // default 5 minutes
	Now   func() time.Time

	mu   sync.Mutex
	last backlogKey
	sent time.Time // zero until a report went through
}

// backlogKey is what makes a report news: the oldest operation's instant,
// not its age, which grows by itself.
type backlogKey struct {
	pending, refused int
	amount           int64
	oldest           time.Time
}

// Report sends the figures if they changed or the last report is older
// than Every. A failed send is tried again at the next contact.
func (r *BacklogReporter) Report(ctx context.Context) error {
	st, err := r.Stats()
	if err != nil {
		return err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	every := r.Every
	if every <= 0 {
		every = 5 * time.Minute
	}
	k := backlogKey{st.Pending, st.Refused, st.AmountCents, st.Oldest}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := now()
	if !r.sent.IsZero() && k == r.last && t.Sub(r.sent) < every {
		return nil
	}
	b := hubclient.Backlog{Pending: st.Pending, Refused: st.Refused, AmountCents: st.AmountCents}
	if st.Pending > 0 {
		b.OldestAgeSeconds = int64(max(st.OldestAge, 0) / time.Second)
	} else {
		b.AmountCents = 0
	}
	if err := r.Send(ctx, b); err != nil {
		return err
	}
	r.last, r.sent = k, t
	return nil
}

// Throttle runs fn at most once every d (at the first call, then when d has
// passed), for work that needs the hub but not at every status poll.
func Throttle(d time.Duration, now func() time.Time, fn func(context.Context) error) func(context.Context) error {
	var mu sync.Mutex
	var last time.Time
	return func(ctx context.Context) error {
		mu.Lock()
		t := now()
		if !last.IsZero() && t.Sub(last) < d {
			mu.Unlock()
			return nil
		}
		last = t
		mu.Unlock()
		err := fn(ctx)
		if err != nil { // try again at the next call
			mu.Lock()
			last = time.Time{}
			mu.Unlock()
		}
		return err
	}
}
