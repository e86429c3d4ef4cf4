package kiosk

import (
	"context"
)

// A self-service reprint is one copy marked "COPIA", never a second
// original (issue 15, item 4): a kiosk with nobody watching must not hand
// out originals of one paid certificate as often as it is asked. The
// certificate's copy is the hub's (its PDF says COPIA on every page) and
// the receipt says COPIA too. At the counter the operator reprints as
// before: the shop sees who takes the paper.

// CopyHub is a Hub that serves the "COPIA" PDF of an issued certificate.
type CopyHub interface {
	CopyPDF(ctx context.Context, id string) ([]byte, error)
}

// reprintCopy prints the one copy a self-service citizen may have of the
// certificate just issued. Called by Reprint within its action.
func (f *Flow) reprintCopy(ctx context.Context, is *Issued) error {
	f.mu.Lock()
	copies := f.copies
	lang := f.v.Lang
	f.mu.Unlock()
	if copies > 0 {
		return f.fail(problem("reprint_once", "a certificate is reprinted once, as a copy: for another original, ask for a new certificate", nil))
	}
	ch, ok := f.deps.Hub.(CopyHub)
	if !ok {
		return f.fail(problem("reprint_once", "this kiosk cannot print a copy, and never prints a second original", nil))
	}
	f.progress(StepWorking, 1, 4, "progress_downloading")
	hctx, cancel := f.ctx(ctx)
	pdf, err := ch.CopyPDF(hctx, is.ID)
	cancel()
	f.noteHub(err)
	if err != nil {
		f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
		return f.fail(problem("pdf_unavailable", "the copy could not be downloaded: "+err.Error(), err))
	}
	rc := f.receipt(is, "", lang)
	rc.Copy = true
	perr := f.print(ctx, is, pdf, rc)
	f.mu.Lock()
	f.copies++ // once sent to the printer, whatever became of the paper
	f.mu.Unlock()
	clear(pdf)
	f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
	if perr != nil {
		return f.fail(perr)
	}
	return nil
}
