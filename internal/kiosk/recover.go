package kiosk

import (
	"context"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// Recovered is what a kiosk found unfinished when it started again after a
// stop (a crash, a power cut, a killed process) and what it did about
// each, for the operator's screen.
type Recovered struct {
	// Issued are requests written before the stop that the hub has now
	// answered with their certificate: the one it had already issued, if
	// it had, since the request went again under the same key. Nothing
	// is issued or charged twice.
	Issued []RecoveredSale
	// Refused are requests written before the stop that the hub refused:
	// nothing was charged.
	Refused []RecoveredSale
	// Queued are the claim codes of requests still waiting for the hub;
	// they are delivered and printed as soon as it answers.
	Queued []string
	// Printed names the documents printed now that the stop had left in
	// the spool.
	Printed []string
	// Uncertain names documents the kiosk was printing when it stopped:
	// they may be on paper or not, so they are not printed again by
	// themselves. They wait in the spool for the operator to check the
	// printer and reprint what is missing.
	Uncertain []string
	// Waiting names documents that could not be printed, now or before
	// the stop; they wait in the spool for a reprint.
	Waiting []string
}

// RecoveredSale is one request a restart finished.
type RecoveredSale struct {
	Claim    string
	Protocol string // issued
	Reason   string // refused: the hub's reason code
}

// Empty says there was nothing to finish.
func (r *Recovered) Empty() bool {
	return len(r.Issued)+len(r.Refused)+len(r.Queued)+len(r.Printed)+len(r.Uncertain)+len(r.Waiting) == 0
}

// Recover finishes what a stop left unfinished, once, when the kiosk starts:
// every request written to the outbox that the hub has not answered is
// sent again under its own key, in order, until the hub fails to answer
// (the rest wait for the outbox's sender); the print jobs in the spool are
// printed, except those the kiosk was printing when it stopped, which may
// be on paper and wait for the operator. The view then says what was
// finished. No sale runs meanwhile: it holds the flow's action lock.
func (f *Flow) Recover(ctx context.Context) (Recovered, error) {
	f.act.Lock()
	defer f.act.Unlock()
	f.update(func(v *View) { v.Busy = true })
	defer f.update(func(v *View) { v.Busy = false })

	var rec Recovered
	unfinished, err := f.deps.Outbox.Unfinished(ctx)
	if err != nil {
		return rec, err
	}
	f.backfill(unfinished)
	render := f.Render()
	if f.cfg.Mode == SelfService {
		// Nobody is at a self-service kiosk that starts again: what was
		// queued is sent by the outbox's sender, which prints nothing and
		// keeps each request for its collection here (collect.go).
		for _, u := range unfinished {
			rec.Queued = append(rec.Queued, u.Claim)
		}
		unfinished = nil
	}
	for i, u := range unfinished {
		hctx, cancel := f.ctx(ctx)
		d, err := f.deps.Outbox.Deliver(hctx, u.Key, render)
		cancel()
		r, refused := api.Refused(err)
		switch {
		case refused:
			f.Settle(Claimed{Code: u.Claim, State: ClaimRefused, Settled: f.deps.Clock.Now(), Reason: r.Reason, Message: r.Message})
			rec.Refused = append(rec.Refused, RecoveredSale{Claim: u.Claim, Reason: r.Reason})
			continue
		case err != nil:
			f.noteHub(err)
			for _, w := range unfinished[i:] {
				rec.Queued = append(rec.Queued, w.Claim)
			}
		default:
			f.noteHub(nil)
			f.Settle(Claimed{Code: u.Claim, State: ClaimIssued, Settled: f.deps.Clock.Now(), Issued: d.Issued})
			rec.Issued = append(rec.Issued, RecoveredSale{Claim: u.Claim, Protocol: d.Issued.Protocol})
			continue
		}
		break
	}

	// A job that cannot be read does not keep the others from printing.
	jobs, jerr := f.deps.Printers.Spooled()
	if jerr != nil {
		f.deps.Log.Error("the print spool holds jobs that cannot be read", "err", jerr)
	}
	for _, j := range jobs {
		switch {
		case !j.Started.IsZero():
			rec.Uncertain = append(rec.Uncertain, j.Name)
		case j.Attempts > 0 || f.cfg.Mode == SelfService:
			// A self-service kiosk never prints by itself into an
			// unattended tray (issue 15, item 5): the job waits for a
			// reprint by whoever checks the kiosk.
			rec.Waiting = append(rec.Waiting, j.Name)
		default:
			pctx, cancel := f.ctx(ctx)
			err := f.deps.Printers.PrintJob(pctx, j.ID)
			cancel()
			if err != nil {
				f.deps.Log.Warn("a spooled job did not print after the restart", "job", j.ID, "err", err)
				rec.Waiting = append(rec.Waiting, j.Name)
				continue
			}
			rec.Printed = append(rec.Printed, j.Name)
		}
	}
	f.setRecovered(rec)
	f.refreshQueue()
	return rec, jerr
}

func (f *Flow) setRecovered(rec Recovered) {
	if rec.Empty() {
		return
	}
	f.deps.Log.Warn("the kiosk finished what its last run left unfinished", "issued", len(rec.Issued), "refused", len(rec.Refused),
		"queued", len(rec.Queued), "printed", len(rec.Printed), "uncertain", len(rec.Uncertain), "waiting", len(rec.Waiting))
	f.update(func(v *View) { v.Recovered = &rec })
}

// DismissRecovered hides the restart's report once the operator has read it.
func (f *Flow) DismissRecovered() {
	f.Touch()
	f.update(func(v *View) { v.Recovered = nil })
}

// backfill adds to the day's account the requests a stop cut off between
// their writing and their line in the journal, as waiting for the hub; the
// hub's answer settles them as for any other.
func (f *Flow) backfill(unfinished []Unfinished) {
	if len(unfinished) == 0 {
		return
	}
	since := unfinished[0].Queued
	for _, u := range unfinished {
		if u.Queued.Before(since) {
			since = u.Queued
		}
	}
	sales, err := f.deps.Journal.Since(since.Add(-time.Minute))
	if err != nil {
		f.deps.Log.Warn("the sales journal cannot be read", "err", err)
		return
	}
	known := map[string]bool{}
	for _, s := range sales {
		if s.Claim != "" {
			known[s.Claim] = true
		}
	}
	for _, u := range unfinished {
		if !known[u.Claim] {
			f.journal(Sale{Time: u.Queued, Claim: u.Claim, Types: u.Types, Total: u.AmountCents})
		}
	}
}
