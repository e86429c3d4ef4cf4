package kiosk

import (
	"context"
	"errors"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// StepAccessLog shows the citizen their own access log: who read their data
// and which certificates were issued about them in the last 12 months.
const StepAccessLog Step = "access_log"

// AccessLog is one page of the citizen's access log, as the hub answers it.
// The flow never changes a page it has shown: it replaces it, so a View may
// keep the pointer.
type AccessLog = api.AccessLog

// AccessLogHub is a Hub that can fetch the citizen's access log.
type AccessLogHub interface {
	AccessLog(ctx context.Context, req api.AccessLogRequest) (*AccessLog, error)
}

// AccessLog implements AccessLogHub.
func (h *ClientHub) AccessLog(ctx context.Context, req api.AccessLogRequest) (*AccessLog, error) {
	l, err := h.C.AccessLog(ctx, req)
	if err != nil {
		return nil, clientErr(err)
	}
	return l, nil
}

// AccessLogPageSize is how many lines a screen shows.
const AccessLogPageSize = 8

// ShowAccessLog asks the hub for the identified citizen's own access log
// ("Chi ha consultato i miei dati") and shows its first page. At the
// self-service kiosk it needs the CIE tap with the PIN proved; at a counter
// the evidence the clerk took, for printing at the citizen's request. The
// hub verifies the evidence itself and records the look-up.
func (f *Flow) ShowAccessLog(ctx context.Context) error {
	return f.accessLogPage(ctx, 1, StepChoose)
}

// AccessLogPage shows another page of the log on screen.
func (f *Flow) AccessLogPage(ctx context.Context, page int) error {
	return f.accessLogPage(ctx, page, StepAccessLog)
}

func (f *Flow) accessLogPage(ctx context.Context, page int, from Step) error {
	done, err := f.begin(from)
	if err != nil {
		return err
	}
	defer done()
	h, ok := f.deps.Hub.(AccessLogHub)
	if !ok {
		return f.fail(problem("access_log_unavailable", "this kiosk's hub connection cannot fetch the access log", nil))
	}
	f.mu.Lock()
	ev := cloneEvidence(f.requester)
	f.mu.Unlock()
	channel := api.ChannelCounter
	if f.cfg.Mode == SelfService {
		channel = api.ChannelSelfService
	}
	if ev == nil || (channel == api.ChannelSelfService && !ev.PINProved) {
		return f.fail(problem("access_log_identify", "the access log is shown only after the citizen's CIE and PIN", nil))
	}
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	l, err := h.AccessLog(hctx, api.AccessLogRequest{Requester: *ev, Channel: channel, Page: page, PageSize: AccessLogPageSize})
	wipeEvidence(ev)
	f.noteHub(err)
	if err != nil {
		if errors.Is(err, ErrOffline) && !rateLimited(err) {
			// Nothing to queue: the log is read live or not at all.
			return f.fail(problem("access_log_offline", "the hub cannot be reached, and the access log is kept only there", err))
		}
		return f.fail(hubProblem(err))
	}
	f.update(func(v *View) { v.Step, v.AccessLog = StepAccessLog, l })
	return nil
}

// CloseAccessLog goes back to the citizen's choices.
func (f *Flow) CloseAccessLog() error {
	done, err := f.begin(StepAccessLog)
	if err != nil {
		return err
	}
	defer done()
	f.update(func(v *View) { v.Step, v.AccessLog = StepChoose, nil })
	return nil
}

// PrintAccessLog prints the page on screen and the rest of the log on the
// A4 printer, at the citizen's request: operator mode only, since a
// self-service kiosk prints nothing a passer-by could pick up.
func (f *Flow) PrintAccessLog(ctx context.Context, render func(l *AccessLog, lang Lang, at time.Time) ([]byte, error)) error {
	done, err := f.begin(StepAccessLog)
	if err != nil {
		return err
	}
	defer done()
	if f.cfg.Mode != Operator {
		return f.fail(problem("access_log_print_counter", "the access log is printed only at a counter, by the clerk", nil))
	}
	h, ok := f.deps.Hub.(AccessLogHub)
	if !ok {
		return f.fail(problem("access_log_unavailable", "this kiosk's hub connection cannot fetch the access log", nil))
	}
	f.mu.Lock()
	ev := cloneEvidence(f.requester)
	lang := f.v.Lang
	f.mu.Unlock()
	if ev == nil {
		return f.fail(problem("access_log_identify", "the access log is shown only after the citizen's CIE and PIN", nil))
	}
	defer wipeEvidence(ev)
	// The whole year on paper, not just the page on screen: one page of
	// the largest size the hub gives.
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	all, err := h.AccessLog(hctx, api.AccessLogRequest{Requester: *ev, Channel: api.ChannelCounter, Page: 1, PageSize: 100})
	f.noteHub(err)
	if err != nil {
		return f.fail(hubProblem(err))
	}
	pdf, err := render(all, lang, f.deps.Clock.Now())
	if err != nil {
		return f.fail(problem("access_log_print_failed", err.Error(), err))
	}
	pctx, pcancel := f.ctx(ctx)
	defer pcancel()
	if err := f.deps.Printers.PrintA4(pctx, "registro-accessi-"+all.CF, pdf); err != nil {
		return f.fail(problem("access_log_print_failed", err.Error(), err))
	}
	return nil
}
