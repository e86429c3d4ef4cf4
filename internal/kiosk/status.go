package kiosk

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// RefreshStatus asks the hub, the outbox, the printers and the reader how
// they are, for the status bar. The UI calls it every few seconds.
//
// The bar says what the last poll found (issue 15, item 6): the hub is
// online only when it answered this poll, both its health check and this
// device's signed standing call; suspended when it said so, and still
// suspended while it cannot be reached (the city's last word stands until
// the hub says otherwise; a kiosk going offline is not reinstated by it).
// A problem shown whose cause this poll saw end is cleared: see ended.
func (f *Flow) RefreshStatus(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	f.mu.Lock()
	prev, shown := f.v.Status, f.v.Problem
	f.mu.Unlock()
	var st Status
	st.HubChecked = true
	pingErr := f.deps.Hub.Ping(ctx)
	st.HubOnline = pingErr == nil
	st.APIUnsupported = versionRefused(pingErr)
	if sc, ok := f.deps.Hub.(standingChecker); ok && st.HubOnline {
		err := sc.Standing(ctx)
		if versionRefused(err) {
			st.APIUnsupported, st.HubOnline = true, false
		}
		suspended, notice := suspension(err)
		switch {
		case suspended:
			st.Suspended, st.Notice = true, notice
		case errors.Is(err, ErrOffline) && !rateLimited(err):
			// The health check answered but this device's own call did
			// not get through: the hub cannot be used from here.
			st.HubOnline = false
		}
	}
	if vr, ok := f.deps.Hub.(versionReporter); ok {
		st.APISunset, _ = vr.APISunset()
	}
	if !st.HubOnline && prev.Suspended {
		st.Suspended, st.Notice = true, prev.Notice
	}
	if st.HubOnline && f.deps.OnContact != nil {
		f.deps.OnContact(ctx)
	}
	if f.deps.Outbox != nil {
		if n, err := f.deps.Outbox.Pending(); err == nil {
			st.Queued = n
		}
		if c, ok := f.deps.Outbox.(setAsideCounter); ok {
			if n, err := c.SetAside(); err == nil {
				st.SetAside = n
			}
		}
	}
	st.Printer = f.deps.Printers.Status(ctx)
	st.Reader = f.deps.Reader.Status(ctx)
	till, tillOK := 0, false
	if st.HubOnline {
		till, tillOK = f.refreshTill(ctx)
	}
	f.update(func(v *View) {
		if !tillOK && f.tillReady() {
			// Not asked (the hub away, another screen): the last count.
			till = v.Status.TillPending
		}
		st.TillPending = till
		v.Status = st
		// Only the problem shown when the poll began: one an action
		// raised meanwhile may be newer than what the poll saw.
		if v.Problem != nil && v.Problem == shown && ended(v.Problem.Key, prev, st) {
			v.Problem = nil
		}
	})
	f.liveSummary()
	return st
}

// The problems whose cause a status poll can see end, by key.
var (
	// The hub could not be reached: over once it answers a poll.
	hubAwayProblems = []string{"hub_offline", "clerk_offline", "access_log_offline", "offline_no_types"}
	// A printer failed: over once a poll sees the printers report a fault
	// and then ready again. A failure the printers never reported (the
	// spooler said ready all along) stays until the next action: nothing
	// says it is over, and the sentence tells to reprint.
	printerProblems = []string{"print_a4_failed", "print_receipt_failed", "print_claim_failed", "access_log_print_failed"}
	// The reader failed: likewise, once it reported a fault and is ready.
	readerProblems = []string{"card_unreadable"}
)

// ended tells whether the cause of the problem with key went between the
// poll before (prev) and this one (now).
func ended(key string, prev, now Status) bool {
	switch {
	case slices.Contains(hubAwayProblems, key):
		return now.HubOnline
	case slices.Contains(printerProblems, key):
		return prev.Printer != "" && now.Printer == ""
	case slices.Contains(readerProblems, key):
		return prev.Reader != "" && now.Reader == ""
	}
	return false
}

func (f *Flow) refreshQueue() {
	if n, err := f.deps.Outbox.Pending(); err == nil {
		f.update(func(v *View) { v.Status.Queued = n })
	}
}

// CardEvent tells the flow a card was placed on the reader or taken off.
// On the self-service start screen and on the operator's identification
// screen a placed card is read at once, as the button would; elsewhere (a
// card left on the reader while the citizen chooses) it is only shown.
func (f *Flow) CardEvent(ctx context.Context, placed bool) error {
	f.mu.Lock()
	f.v.CardPresent = placed
	step, busy, staff := f.v.Step, f.v.Busy, f.v.Staff
	f.mu.Unlock()
	f.changed()
	if !placed || busy {
		return nil
	}
	switch {
	case step == StepStart && f.cfg.Mode == SelfService, step == StepIdentify && staff != nil:
		f.Touch()
		return f.TapCard(ctx)
	}
	return nil
}

// WatchCards feeds w's card events to the flow until ctx ends, watching
// again after retry (default 2 s) when the reader fails or is unplugged.
func (f *Flow) WatchCards(ctx context.Context, w CardWatcher, retry time.Duration) {
	if retry <= 0 {
		retry = 2 * time.Second
	}
	// Events are applied in order, off the watcher's goroutine, so a card
	// being read does not hold up the reader's own event loop.
	events := make(chan bool, 8)
	defer close(events)
	go func() {
		for placed := range events {
			f.CardEvent(ctx, placed)
		}
	}()
	for ctx.Err() == nil {
		err := w.WatchCards(ctx, func(placed bool) {
			select {
			case events <- placed:
			case <-ctx.Done():
			}
		})
		if ctx.Err() != nil {
			return
		}
		f.deps.Log.Info("watching the card reader failed; trying again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// ShowPlaces shows the nearest other points of service: from the hub, or
// from the copy kept when it last answered, with its age.
func (f *Flow) ShowPlaces(ctx context.Context) error {
	done, err := f.begin(StepIdentify, StepStart)
	if err != nil {
		return err
	}
	defer done()
	if f.deps.Places == nil {
		return f.fail(problem("places_unavailable", "this kiosk has no directory of points of service", nil))
	}
	hctx, cancel := f.ctx(ctx)
	d, err := f.deps.Places(hctx)
	cancel()
	if err != nil {
		return f.fail(problem("places_unavailable", "the directory cannot be shown: "+err.Error(), err))
	}
	f.update(func(v *View) { v.Places, v.Step = &d, StepPlaces })
	return nil
}

// SetAgreement applies what the hub now says of the shop's agreement (the
// caches' refresh calls it): the fee and fee policy previewed and the
// types offered from the next customer on.
func (f *Flow) SetAgreement(a Agreement) {
	f.act.Lock()
	defer f.act.Unlock()
	f.mu.Lock()
	f.cfg.ServiceCents = a.FeeCents
	f.cfg.Policy = a.Policy(f.cfg.Policy)
	if len(a.Types) > 0 {
		f.cfg.Types = slices.Clone(a.Types)
	}
	f.cfg.AgreementAsOf, f.cfg.AgreementCached = a.Fetched, a.Cached
	f.v.AgreementAsOf, f.v.AgreementCached = a.Fetched, a.Cached
	if f.v.Step == StepStart || f.v.Step == StepLogin || f.v.Step == StepIdentify {
		f.v.Types = f.cfg.Types
	}
	f.mu.Unlock()
	f.changed()
}

// versionReporter is a Hub that tells the sunset of this kiosk's API
// version, as the hub last stated it (ClientHub.APISunset).
type versionReporter interface {
	APISunset() (time.Time, bool)
}

// versionRefused tells a hub that does not serve this kiosk's API version.
func versionRefused(err error) bool {
	var r *api.Refusal
	return errors.As(err, &r) && r.Reason == api.ReasonAPIVersionUnsupported
}

// standingChecker is a Hub that can ask whether the hub still hears this
// device (ClientHub.Standing).
type standingChecker interface {
	Standing(ctx context.Context) error
}

// Reasons of a hub that no longer hears this device's key
// (internal/httpsig's key_suspended and key_revoked).
const (
	ReasonSuspended = "key_suspended"
	ReasonRevoked   = "key_revoked"
)

// suspension reads Standing's answer: whether the device is suspended (or
// revoked), and the city's notice. Any other failure says nothing about it.
func suspension(err error) (bool, string) {
	if r, ok := api.Refused(err); ok && (r.Reason == ReasonSuspended || r.Reason == ReasonRevoked) {
		return true, r.Notice
	}
	return false, ""
}
