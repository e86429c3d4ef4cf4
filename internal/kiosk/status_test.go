package kiosk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// pollHub is the fake hub with what a status poll also asks: the device's
// standing, and a hook run as the health check is answered.
type pollHub struct {
	*fakeHub
	mu       sync.Mutex
	standing error
	onPing   func()
}

func (h *pollHub) Ping(ctx context.Context) error {
	h.mu.Lock()
	hook := h.onPing
	h.onPing = nil
	h.mu.Unlock()
	if hook != nil {
		hook()
	}
	return h.fakeHub.Ping(ctx)
}

func (h *pollHub) Standing(context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.standing
}

func (h *pollHub) setStanding(err error) {
	h.mu.Lock()
	h.standing = err
	h.mu.Unlock()
}

// statusDevices are the fake printers and reader with a state to report.
type statusPrinters struct {
	*fakePrinters
	state string
}

func (p *statusPrinters) Status(context.Context) string { return p.state }

type statusReader struct {
	*fakeReader
	state string
}

func (r *statusReader) Status(context.Context) string { return r.state }

// pollRig is a rig whose hub, printers and reader a poll can see change.
func pollRig(t *testing.T, mode Mode) (*rig, *pollHub, *statusPrinters, *statusReader) {
	t.Helper()
	r := newRig(t, mode)
	h := &pollHub{fakeHub: r.hub}
	p := &statusPrinters{fakePrinters: r.prn}
	rd := &statusReader{fakeReader: r.reader}
	cfg := Config{Mode: mode, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150}
	f, err := New(cfg, Deps{Hub: h, Reader: rd, Printers: p, Outbox: r.out, Journal: r.journal, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	r.flow = f
	return r, h, p, rd
}

func problemKey(f *Flow) string {
	if p := f.View().Problem; p != nil {
		return p.Key
	}
	return ""
}

// TestOfflineProblemClearsWhenTheHubAnswers: "the city cannot be reached"
// stays while the polls find the hub away and goes at the first poll that
// reaches it; a refusal the hub gave is not a connection problem and
// stays; nor does a poll clear a problem that arose while it ran.
func TestOfflineProblemClearsWhenTheHubAnswers(t *testing.T) {
	r, h, _, _ := pollRig(t, Operator)
	r.hub.offline = true
	if err := r.flow.LoginCard(ctx, "12345678"); err == nil {
		t.Fatal("a clerk logged in with the hub away")
	}
	if got := problemKey(r.flow); got != "clerk_offline" {
		t.Fatalf("problem %q, want clerk_offline", got)
	}
	if st := r.flow.RefreshStatus(ctx); st.HubOnline {
		t.Fatal("an offline hub polled online")
	}
	if got := problemKey(r.flow); got != "clerk_offline" {
		t.Fatalf("the problem went while the hub was still away (now %q)", got)
	}
	r.hub.offline = false
	if st := r.flow.RefreshStatus(ctx); !st.HubOnline {
		t.Fatal("the hub answered but the status says offline")
	}
	if got := problemKey(r.flow); got != "" {
		t.Errorf("the offline problem stays after the hub answered (%q)", got)
	}

	// A hub that went away while the poll ran: the problem raised then is
	// newer than the poll's answer.
	h.mu.Lock()
	h.onPing = func() { r.flow.fail(problem("hub_offline", "the hub cannot be reached; try again in a moment", nil)) }
	h.mu.Unlock()
	r.flow.RefreshStatus(ctx)
	if got := problemKey(r.flow); got != "hub_offline" {
		t.Errorf("a poll cleared a problem raised while it ran (now %q)", got)
	}

	// A refusal stays, whatever the hub's state.
	r.flow.fail(problem("hub_not_resident", "the subject is not resident", nil))
	r.flow.RefreshStatus(ctx)
	if got := problemKey(r.flow); got != "hub_not_resident" {
		t.Errorf("a poll cleared the hub's refusal (now %q)", got)
	}
}

// TestPrinterProblemClearsWhenThePrinterIsReady: a certificate that did not
// print leaves its problem up while the printers report the fault, and it
// goes when they report ready again; a failure the printers never reported
// stays (nothing says it is over).
func TestPrinterProblemClearsWhenThePrinterIsReady(t *testing.T) {
	r, _, p, _ := pollRig(t, Operator)
	reviewed(r)
	r.prn.a4Err = errors.New("paper out")
	r.flow.Confirm(ctx)
	r.step(t, StepDone)
	if got := problemKey(r.flow); got != "print_a4_failed" {
		t.Fatalf("problem %q, want print_a4_failed", got)
	}
	r.flow.RefreshStatus(ctx)
	if got := problemKey(r.flow); got != "print_a4_failed" {
		t.Fatalf("the printer problem went though the printers never said they failed (now %q)", got)
	}
	p.state = "carta esaurita"
	r.flow.RefreshStatus(ctx)
	if got := problemKey(r.flow); got != "print_a4_failed" {
		t.Fatalf("the printer problem went while the printer is out of paper (now %q)", got)
	}
	p.state = ""
	if st := r.flow.RefreshStatus(ctx); st.Printer != "" {
		t.Fatalf("printer state %q", st.Printer)
	}
	if got := problemKey(r.flow); got != "" {
		t.Errorf("the printer problem stays after the printer is ready again (%q)", got)
	}
}

// TestReaderProblemClearsWhenTheReaderIsBack: an unreadable card while the
// reader reports a fault goes when it is ready again.
func TestReaderProblemClearsWhenTheReaderIsBack(t *testing.T) {
	r, _, _, rd := pollRig(t, SelfService)
	rd.state = "non collegato"
	r.flow.RefreshStatus(ctx)
	r.flow.fail(problem("card_unreadable", "the card could not be read: no reader", nil))
	r.flow.RefreshStatus(ctx)
	if got := problemKey(r.flow); got != "card_unreadable" {
		t.Fatalf("the reader problem went while the reader is away (now %q)", got)
	}
	rd.state = ""
	r.flow.RefreshStatus(ctx)
	if got := problemKey(r.flow); got != "" {
		t.Errorf("the reader problem stays after the reader came back (%q)", got)
	}
}

// TestStatusTellsSuspendedAndOffline: the status is online only when the
// device's own call gets through, suspended from the hub's answer, and
// still suspended while the hub cannot be reached afterwards; the city's
// reinstatement, heard at a poll, ends it.
func TestStatusTellsSuspendedAndOffline(t *testing.T) {
	r, h, _, _ := pollRig(t, Operator)
	if st := r.flow.RefreshStatus(ctx); !st.HubOnline || st.Suspended {
		t.Fatalf("status %+v, want online", st)
	}
	// The health check answers, the device's signed call does not.
	h.setStanding(fmt.Errorf("%w: 503", ErrOffline))
	if st := r.flow.RefreshStatus(ctx); st.HubOnline {
		t.Errorf("status %+v: online though the device's call failed", st)
	}
	h.setStanding(&Refusal{Status: 403, Reason: ReasonSuspended, Notice: "canone non versato"})
	st := r.flow.RefreshStatus(ctx)
	if !st.Suspended || st.Notice != "canone non versato" {
		t.Fatalf("status %+v, want suspended with the notice", st)
	}
	r.hub.offline = true
	st = r.flow.RefreshStatus(ctx)
	if st.HubOnline || !st.Suspended || st.Notice != "canone non versato" {
		t.Errorf("status %+v: the suspension must hold while the hub is away", st)
	}
	r.hub.offline = false
	h.setStanding(nil)
	if st := r.flow.RefreshStatus(ctx); st.Suspended || !st.HubOnline {
		t.Errorf("status %+v after the city reinstated the device", st)
	}
}

// TestSetOnChangeWhileRunning: the window hooks itself on a flow whose
// card watcher is already feeding it events (cmd/kiosk starts the watcher
// and the sender before the window); under the race detector this is the
// check that the hook is handed over safely, and every change after it
// reaches the new hook.
func TestSetOnChangeWhileRunning(t *testing.T) {
	r := newRig(t, Operator)
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	events, started := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		r.flow.CardEvent(c, false)
		close(started)
		for {
			select {
			case <-c.Done():
				return
			case <-events:
				r.flow.CardEvent(c, true)
			default:
				r.flow.CardEvent(c, false)
			}
		}
	}()
	<-started
	got := make(chan struct{}, 1)
	r.flow.SetOnChange(func() {
		select {
		case got <- struct{}{}:
		default:
		}
	})
	events <- struct{}{}
	<-got
	cancel()
	<-done
}

// versionHub is pollHub whose hub states, like hubclient after its
// answers, whether it retires or no longer serves this kiosk's version.
type versionHub struct {
	*pollHub
	pingErr error
	sunset  time.Time
}

func (h *versionHub) Ping(ctx context.Context) error {
	if h.pingErr != nil {
		return h.pingErr
	}
	return h.pollHub.Ping(ctx)
}

func (h *versionHub) APISunset() (time.Time, bool) { return h.sunset, !h.sunset.IsZero() }

// TestStatusTellsAPIVersion: the status carries the sunset of a version
// being retired, and a hub that no longer serves the kiosk's version is
// told as such (not as a hub merely away), from the health call or the
// device's signed call.
func TestStatusTellsAPIVersion(t *testing.T) {
	r, h, _, _ := pollRig(t, Operator)
	vh := &versionHub{pollHub: h}
	r.flow.deps.Hub = vh
	if st := r.flow.RefreshStatus(ctx); !st.HubOnline || st.APIUnsupported || !st.APISunset.IsZero() {
		t.Fatalf("status %+v", st)
	}
	vh.sunset = time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	if st := r.flow.RefreshStatus(ctx); !st.HubOnline || !st.APISunset.Equal(vh.sunset) {
		t.Errorf("status %+v, want the sunset", st)
	}
	refusal := &api.Refusal{Status: 404, Reason: api.ReasonAPIVersionUnsupported}
	vh.pingErr = fmt.Errorf("%w: %w", ErrOffline, refusal)
	if st := r.flow.RefreshStatus(ctx); st.HubOnline || !st.APIUnsupported {
		t.Errorf("status %+v, want the version refused", st)
	}
	vh.pingErr = nil
	h.setStanding(refusal)
	if st := r.flow.RefreshStatus(ctx); st.HubOnline || !st.APIUnsupported {
		t.Errorf("status %+v, want the version refused by the signed call", st)
	}
	h.setStanding(nil)
	if st := r.flow.RefreshStatus(ctx); !st.HubOnline || st.APIUnsupported {
		t.Errorf("status %+v once the kiosk speaks the hub's version", st)
	}
}
