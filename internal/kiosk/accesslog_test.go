package kiosk

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// logHub is the fake hub with the access log: two pages of lines, or
// offline.
type logHub struct {
	*fakeHub
	asked []api.AccessLogRequest
}

func (h *logHub) AccessLog(_ context.Context, req api.AccessLogRequest) (*AccessLog, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.offline {
		return nil, fmt.Errorf("%w: dial refused", ErrOffline)
	}
	h.asked = append(h.asked, req)
	if req.Requester.NIS != nisMario || (req.Channel == api.ChannelSelfService && !req.Requester.PINProved) {
		return nil, &Refusal{Status: 403, Reason: api.ReasonIdentificationFailed, Message: "identification failed"}
	}
	const total = 11
	l := &AccessLog{CF: cfMario, Name: "ROSSI MARIO", From: "2025-11-23", To: "2026-11-23", Page: req.Page, Total: total,
		Pages: (total + req.PageSize - 1) / req.PageSize}
	for i := (req.Page - 1) * req.PageSize; i < min(total, req.Page*req.PageSize); i++ {
		l.Lines = append(l.Lines, api.AccessLine{Time: testNow.Add(-time.Duration(i) * time.Hour), Kind: "read", Place: "Edicola Centrale",
			What: "nome", Why: "identificazione"})
	}
	return l, nil
}

func newLogRig(t *testing.T, mode Mode) (*rig, *logHub) {
	t.Helper()
	r := newRig(t, mode)
	lh := &logHub{fakeHub: r.hub}
	cfg := Config{Mode: mode, Shop: "Edicola Centrale", OperatorID: "op-1"}
	f, err := New(cfg, Deps{Hub: lh, Reader: r.reader, Printers: r.prn, Outbox: r.out, Journal: r.journal, Clock: r.clock})
	if err != nil {
		t.Fatal(err)
	}
	r.flow = f
	return r, lh
}

// At the self-service kiosk, after the CIE and its PIN, the citizen opens
// their access log: the hub gets the tap with the PIN proved, the screen
// pages through it and closes back to the choice; an idle kiosk forgets it.
func TestSelfServiceAccessLog(t *testing.T) {
	ctx := context.Background()
	r, lh := newLogRig(t, SelfService)
	if err := r.flow.ShowAccessLog(ctx); err == nil {
		t.Fatal("the access log opened before anyone was identified")
	}
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepChoose)
	if err := r.flow.ShowAccessLog(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepAccessLog)
	v := r.flow.View()
	if v.AccessLog == nil || v.AccessLog.Pages != 2 || len(v.AccessLog.Lines) != AccessLogPageSize {
		t.Fatalf("first page %+v", v.AccessLog)
	}
	req := lh.asked[0]
	if req.Channel != api.ChannelSelfService || !req.Requester.PINProved || req.Requester.NIS != nisMario || len(req.Requester.Response) == 0 {
		t.Fatalf("the hub was asked with %+v", req)
	}
	if err := r.flow.AccessLogPage(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if v := r.flow.View(); v.AccessLog.Page != 2 || len(v.AccessLog.Lines) != 11-AccessLogPageSize {
		t.Fatalf("second page %+v", v.AccessLog)
	}
	// Self-service prints nothing.
	if err := r.flow.PrintAccessLog(ctx, func(*AccessLog, Lang, time.Time) ([]byte, error) { return []byte("%PDF"), nil }); err == nil || len(r.prn.a4) != 0 {
		t.Fatalf("self-service printed the access log: %v", err)
	}
	if err := r.flow.CloseAccessLog(); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepChoose)
	if r.flow.View().AccessLog != nil {
		t.Fatal("the log stays in the view after closing")
	}
	// Offline: said so, nothing queued.
	lh.mu.Lock()
	lh.offline = true
	lh.mu.Unlock()
	if err := r.flow.ShowAccessLog(ctx); err == nil || r.flow.View().Problem.Key != "access_log_offline" {
		t.Fatalf("offline: %v", err)
	}
	r.step(t, StepChoose)
	lh.offline = false
	r.flow.ShowAccessLog(ctx)
	r.step(t, StepAccessLog)
	r.clock.Add(2 * time.Minute)
	r.flow.Tick()
	r.step(t, StepStart)
	if r.flow.View().AccessLog != nil {
		t.Fatal("an idle kiosk still shows the citizen's log")
	}
}

// At a counter, the clerk prints the whole log on A4 at the citizen's
// request.
func TestCounterPrintsAccessLog(t *testing.T) {
	ctx := context.Background()
	r, lh := newLogRig(t, Operator)
	if err := r.logIn(); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	r.step(t, StepChoose)
	if err := r.flow.ShowAccessLog(ctx); err != nil {
		t.Fatal(err)
	}
	var printed *AccessLog
	err := r.flow.PrintAccessLog(ctx, func(l *AccessLog, lang Lang, at time.Time) ([]byte, error) {
		printed = l
		return []byte("%PDF-1.7 access log"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if printed == nil || len(printed.Lines) != 11 || len(r.prn.a4) != 1 || !bytes.HasPrefix(r.prn.a4[0], []byte("%PDF")) {
		t.Fatalf("printed %+v, %d A4 jobs", printed, len(r.prn.a4))
	}
	if last := lh.asked[len(lh.asked)-1]; last.Channel != api.ChannelCounter {
		t.Errorf("the counter asked as %q", last.Channel)
	}
	r.step(t, StepAccessLog)
}
