package kiosk

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/outbox"
)

// holdRig is a counter whose sales go through the real outbox Queue and
// its deliverer to the real signed client, against a front that answers
// in the hub's place; look-ups come from the fake hub, so the citizen is
// identified as in the other flow tests.
type holdRig struct {
	*rig
	real *realHub
	ob   *outbox.Outbox
}

// splitHub looks people up in the fake hub and sends sales to the real
// client.
type splitHub struct {
	*fakeHub
	real *ClientHub
}

func (s splitHub) Issue(ctx context.Context, req IssueRequest) (*Issued, error) {
	return s.real.Issue(ctx, req)
}
func (s splitHub) PDF(ctx context.Context, id string) ([]byte, error) { return s.real.PDF(ctx, id) }
func (s splitHub) Ping(ctx context.Context) error                     { return s.real.Ping(ctx) }

func newHoldRig(t *testing.T) *holdRig {
	t.Helper()
	r := newRig(t, Operator)
	real := newRealHub(t)
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	cfg := Config{Mode: Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150}
	hub := splitHub{r.hub, real.hub}
	r.flow, err = New(cfg, Deps{Hub: hub, Reader: r.reader, Printers: r.prn, Outbox: &Queue{Outbox: ob, Hub: hub}, Journal: r.journal, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	return &holdRig{rig: r, real: real, ob: ob}
}

// TestSuspendedDeviceSaleIsRefusedNotQueued: the hub answers a sale with a
// signed 403 key_suspended (the device was suspended past the limits'
// second threshold). The sale at the counter is refused with the hub's
// reason in Italian, nothing is charged, and nothing waits in the outbox
// to be issued once the device is reinstated. Before the fix the Hold came
// back from the outbox as a plain retryable error and the citizen got a
// claim code for a sale the hub would not hear.
func TestSuspendedDeviceSaleIsRefusedNotQueued(t *testing.T) {
	for _, reason := range []string{"key_suspended", "device_suspended", "key_revoked"} {
		t.Run(reason, func(t *testing.T) {
			h := newHoldRig(t)
			h.real.answer(h.real.hubSign, 403, `{"reason":"`+reason+`","message":"this device may not send requests now"}`)
			reviewed(h.rig)
			err := h.flow.Confirm(context.Background())
			var p *Problem
			if !errors.As(err, &p) || p.Key != "hub_"+reason {
				t.Fatalf("Confirm: %v, want the hub's refusal hub_%s", err, reason)
			}
			v := h.flow.View()
			if v.Result != nil && v.Result.Claim != "" {
				t.Fatalf("the citizen got claim code %s for a sale the hub will not hear", v.Result.Claim)
			}
			if v.Step != StepReview || !v.Status.HubOnline {
				t.Errorf("after the refusal: step %s, hub online %v; want the review screen, hub online (it answered)", v.Step, v.Status.HubOnline)
			}
			cat, err := LoadCatalog(assets.FS, "i18n")
			if err != nil {
				t.Fatal(err)
			}
			if s := cat.Problem(Italian, p); !strings.Contains(s, "sospes") && !strings.Contains(s, "revocat") {
				t.Errorf("the operator reads %q: not the Italian sentence for %s", s, reason)
			}
			if st, _ := h.ob.Stats(); st.Pending != 0 {
				t.Errorf("the refused sale waits in the outbox: %+v", st)
			}
			sales, _ := h.journal.Since(testNow.Add(-24 * 3600e9))
			if s := Summarise(testNow, sales); s.Collected != 0 || s.Queued != 0 {
				t.Errorf("the day's account after the refusal: collected %d cents, %d queued; want nothing", s.Collected, s.Queued)
			}
		})
	}
}

// TestUnavailableHubQueuesAndShowsOffline: a 503 from the hub is the hub
// away: the sale is queued with a claim code and the status bar says the
// hub cannot be reached. Before the fix the 503 lost ErrOffline on its way
// through the outbox and the bar stayed "online".
func TestUnavailableHubQueuesAndShowsOffline(t *testing.T) {
	h := newHoldRig(t)
	h.real.answer(h.real.hubSign, 503, `{"reason":"unavailable","message":"the hub could not decide now"}`)
	reviewed(h.rig)
	if err := h.flow.Confirm(context.Background()); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	v := h.flow.View()
	if v.Result == nil || v.Result.Claim == "" {
		t.Fatalf("result %+v, want a claim code", v.Result)
	}
	if v.Status.HubOnline {
		t.Error("the status bar says the hub is online after a 503")
	}
	if st, _ := h.ob.Stats(); st.Pending != 1 {
		t.Errorf("outbox %+v, want the sale pending", st)
	}
}

// TestRateLimitedIsNotOffline: a 429 rate_limited is the hub answering
// "slow down", not the hub away. At the look-up the clerk reads the
// limit's sentence and the status bar stays "online"; a sale over the rate
// waits in the outbox for the Retry-After (as the limits decided) with the
// bar still online. Before the fix both said the hub could not be reached.
func TestRateLimitedIsNotOffline(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, Operator)
	if err := r.flow.LoginCard(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	r.hub.lookupErr = clientErr(&hubclient.APIError{Status: 429, Reason: "rate_limited", Message: "too many requests", RetryAfter: 30 * time.Second})
	err := r.flow.TapCard(ctx)
	var p *Problem
	if !errors.As(err, &p) || p.Key != "hub_rate_limited" {
		t.Fatalf("TapCard: %v, want hub_rate_limited", err)
	}
	if v := r.flow.View(); !v.Status.HubOnline || !v.Status.HubChecked {
		t.Errorf("after a 429 look-up the status bar says online=%v checked=%v; want online", v.Status.HubOnline, v.Status.HubChecked)
	}

	h := newHoldRig(t)
	h.real.answer(h.real.hubSign, 429, `{"reason":"rate_limited","message":"too many requests"}`)
	reviewed(h.rig)
	if err := h.flow.Confirm(ctx); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	if v := h.flow.View(); !v.Status.HubOnline {
		t.Error("after a 429 sale the status bar says the hub cannot be reached")
	}
}
