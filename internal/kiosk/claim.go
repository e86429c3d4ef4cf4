package kiosk

import (
	"context"
	"errors"
	"strings"
)

// Redeem serves a citizen who comes back with a claim receipt: the operator
// types the claim code or scans its QR. A request the hub has issued is
// printed (certificate and receipt) and the screen shows it as done; one
// still queued or refused is shown with its state and, for a refusal, the
// hub's reason.
func (f *Flow) Redeem(ctx context.Context, code string) error {
	done, err := f.begin(StepIdentify)
	if err != nil {
		return err
	}
	defer done()
	if f.cfg.Mode != Operator {
		return f.fail(problem("wrong_step", "claim codes are redeemed at the counter", nil))
	}
	if f.deps.Outbox == nil {
		return f.fail(problem("claim_unknown", "this kiosk keeps no queue, so it knows no claim code", nil, strings.TrimSpace(code)))
	}
	c, err := f.deps.Outbox.Lookup(ctx, code)
	switch {
	case errors.Is(err, ErrClaimUnknown):
		return f.fail(problem("claim_unknown", err.Error(), err, strings.TrimSpace(code)))
	case err != nil:
		return f.fail(problem("claim_invalid", err.Error(), err))
	}
	f.Settle(*c)
	if c.State != ClaimIssued || c.Issued == nil || c.Issued.ID == "" {
		f.update(func(v *View) {
			v.Claimed = c
			v.Step = StepClaim
		})
		return nil
	}
	is := c.Issued
	staff := ""
	if s := f.View().Staff; s != nil {
		staff = s.ID
	}
	f.update(func(v *View) { v.Result = &Result{Issued: is, Claim: c.Code}; v.Claimed = c })
	f.progress(StepWorking, 1, 4, "progress_downloading")
	hctx, cancel := f.ctx(ctx)
	pdf, err := f.deps.Hub.PDF(hctx, is.ID)
	cancel()
	f.noteHub(err)
	if err != nil {
		f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
		return f.fail(problem("pdf_unavailable", "the certificate was issued but could not be downloaded; use reprint", err))
	}
	rc := f.receipt(is, staff, f.View().Lang)
	f.mu.Lock()
	f.pdf, f.rcpt = pdf, &rc
	f.mu.Unlock()
	perr := f.print(ctx, is, pdf, rc)
	f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
	if perr != nil {
		return f.fail(perr)
	}
	return nil
}
