package kiosk

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/receipt"
)

// Choose sets the subject, the certificates and the purpose and shows the
// fee lines for review.
func (f *Flow) Choose(c Choice) error {
	done, err := f.begin(StepChoose)
	if err != nil {
		return err
	}
	defer done()
	f.mu.Lock()
	p := f.v.Person
	f.mu.Unlock()
	c.SubjectCF = strings.ToUpper(strings.TrimSpace(c.SubjectCF))
	subject := ""
	switch {
	case p.Provisional != "":
		// Identified by the kiosk alone: for themselves only, of the
		// types every resident can have (offline.go).
		if c.SubjectCF != p.CF {
			return f.fail(problem("offline_self_only", "while the hub cannot be reached a new customer is served for themselves only", nil))
		}
		for _, t := range c.Types {
			if !slices.Contains(OfflineTypes(f.cfg.Types), t) {
				return f.fail(problem("offline_type_not_allowed", fmt.Sprintf("the %s certificate cannot be requested while the hub cannot be reached", t), nil, string(t)))
			}
		}
		subject = p.ProvisionalLabel()
	case c.SubjectCF == p.CF:
		subject = p.Name()
	default:
		for _, m := range p.Family {
			if m.CF == c.SubjectCF {
				subject = m.Name()
			}
		}
	}
	if subject == "" {
		if f.cfg.Mode == SelfService {
			return f.fail(problem("subject_not_family", "online, certificates are issued only for oneself and one's own family", nil))
		}
		// At the counter the operator may type another codice fiscale:
		// the hub decides, in the transaction that issues (the
		// requester's household only, unless the city's agreement
		// widens it as the law allows), and refuses with one reason
		// whoever the subject is.
		if err := codicefiscale.Validate(c.SubjectCF); err != nil {
			return f.fail(cfProblem(c.SubjectCF, err))
		}
		subject = c.SubjectCF
	}
	if len(c.Types) == 0 {
		return f.fail(problem("no_type", "choose at least one certificate", nil))
	}
	for _, t := range c.Types {
		if !slices.Contains(f.cfg.Types, t) {
			return f.fail(problem("type_not_offered", fmt.Sprintf("this kiosk does not issue %s certificates", t), nil, string(t)))
		}
	}
	c.Types = slices.Clone(c.Types)
	slices.Sort(c.Types)
	c.Types = slices.Compact(c.Types)
	if perr := f.checkChoice(p, c); perr != nil {
		return f.fail(perr)
	}
	if perr := f.checkAt(&c); perr != nil {
		return f.fail(perr)
	}
	svc := f.cfg.ServiceCents
	// A kiosk is never the registry office, so an exemption kept for
	// administrations there is refused here before the hub is asked.
	ch := certificate.Counter
	if f.cfg.Mode == SelfService {
		ch = certificate.SelfService
	}
	c.Contrassegno = ContrassegnoFromScan(c.Contrassegno)
	b, err := certificate.Fees(certificate.FeeRequest{Types: c.Types, Exemption: c.Exemption, ServiceCents: svc, Channel: ch, Contrassegno: c.Contrassegno, Use: c.Use}, f.cfg.Policy)
	if err == nil {
		if xerr := certificate.CheckExemption(c.Exemption, ch, certificate.RequesterOther); xerr != nil {
			r, _ := certificate.AsRefusal(xerr)
			return f.fail(problem("fee_"+r.Reason, r.Message, xerr))
		}
	}
	if err != nil {
		var fe *fees.Error
		if errors.As(err, &fe) {
			return f.fail(problem("fee_"+fe.Reason, fe.Message, err))
		}
		if r, ok := certificate.AsRefusal(err); ok {
			// The use's and the contrassegno's own checks.
			return f.fail(problem("fee_"+r.Reason, r.Message, err))
		}
		return f.fail(err)
	}
	key, err := newKey(f.deps.Rand)
	if err != nil {
		return f.fail(err)
	}
	f.update(func(v *View) {
		f.key = key
		v.Choice, v.Preview, v.Subject = c, &b, subject
		v.Step = StepReview
	})
	return nil
}

// checkChoice refuses, before any fee is shown, what the hub would refuse
// of the choice by the same rules the choose screen applies to its boxes:
// a type the hub said at the look-up this subject may not have (the
// reason is the hub's, shown from the catalogue), types that cannot share
// one certificate (certificate.CheckCombination), and "Esente da bollo"
// without the exemption's reason, which would otherwise preview, and
// charge, the bollo.
func (f *Flow) checkChoice(p *Person, c Choice) *Problem {
	if e := p.EligibilityOf(c.SubjectCF); e.Told {
		for _, t := range c.Types {
			if why := e.Why(t); why != "" {
				return problem("hub_"+why, fmt.Sprintf("the hub said at the look-up that %s cannot be issued about this person here (%s)", t, why), nil)
			}
		}
	}
	if err := certificate.CheckCombination(c.Types); err != nil {
		r, _ := certificate.AsRefusal(err)
		return problem("hub_"+r.Reason, r.Message, err)
	}
	if c.Exempt && c.Exemption.Code == 0 {
		return problem("exemption_reason_required", "exempt from bollo was chosen without the reason of the exemption", nil)
	}
	return nil
}

// channel is the channel this kiosk issues on.
func (f *Flow) channel() certificate.Channel {
	if f.cfg.Mode == SelfService {
		return certificate.SelfService
	}
	return certificate.Counter
}

// ContrassegnoFromScan reads a contrassegno's identifier as typed or as a
// USB barcode reader types it (a keyboard to the kiosk): it drops an AIM
// symbology identifier some readers put first ("]C0" for Code 128, whose
// digit is not the marca's), then everything but digits, such as spaces
// and the Enter the reader sends last. What remains is checked by the fee
// rules as the 14 digits printed under the marca's barcode; a reader
// whose barcode gives more digits than the identifier is refused there,
// and the clerk types the printed number instead (the barcode's content
// is not published by the Agenzia delle Entrate).
func ContrassegnoFromScan(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 3 && s[0] == ']' {
		s = s[3:]
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// checkAt reads the historical date of c and checks it as the hub will
// (certificate.CheckDate), so a missing, malformed, future or needless
// date is explained before anything is sent; the hub checks it again.
func (f *Flow) checkAt(c *Choice) *Problem {
	c.At = strings.TrimSpace(c.At)
	var at registry.Date
	if c.At != "" {
		d, err := ParseDay(c.At)
		if err != nil {
			return problem("date_invalid", err.Error(), err, c.At)
		}
		// The hub and the certificate take the ISO form.
		at, c.At = d, d.String()
	}
	if err := certificate.CheckDate(c.Types, at, f.deps.Clock.Now()); err != nil {
		r, _ := certificate.AsRefusal(err)
		return problem(r.Reason, r.Message, err)
	}
	return nil
}

// newKey is an idempotency key: random, so it names no person.
func newKey(r io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return "kiosk-" + hex.EncodeToString(b), nil
}

// Back returns from review to the choice, or from the choice to identification.
func (f *Flow) Back() error {
	done, err := f.begin(StepReview, StepChoose, StepPIN, StepSummary, StepClaim, StepPlaces)
	if err != nil {
		return err
	}
	defer done()
	f.mu.Lock()
	step := f.v.Step
	f.mu.Unlock()
	switch step {
	case StepReview:
		f.update(func(v *View) { v.Step, v.Preview = StepChoose, nil; f.key = "" })
	case StepSummary, StepClaim:
		f.update(func(v *View) {
			v.Summary, v.Claimed = nil, nil
			v.Step = StepIdentify
		})
	case StepPlaces:
		f.mu.Lock()
		f.reset(false)
		f.mu.Unlock()
		f.update(func(*View) {})
	default:
		f.mu.Lock()
		f.reset(false)
		f.mu.Unlock()
		f.update(func(*View) {})
	}
	return nil
}

// Confirm issues the reviewed request and prints the certificate and the
// receipt. The request is first written to the outbox with its
// Idempotency-Key, before the first byte goes to the hub; the hub's answer
// is committed together with the sale's print jobs; the jobs leave the
// spool only when the printer confirms them. A kiosk that stops anywhere
// in between finishes the sale when it starts again (Recover). When the
// hub cannot be reached the request stays in the outbox and the citizen
// gets a claim code.
func (f *Flow) Confirm(ctx context.Context) error {
	done, err := f.begin(StepReview)
	if err != nil {
		return err
	}
	defer done()
	f.mu.Lock()
	v := f.v
	key := f.key
	requester := cloneEvidence(f.requester)
	f.mu.Unlock()
	channel := certificate.Counter
	if f.cfg.Mode == SelfService {
		channel = certificate.SelfService
	}
	req := IssueRequest{Key: key, SubjectCF: v.Choice.SubjectCF, Types: v.Choice.Types, Exemption: v.Choice.Exemption,
		Requester: requester, Channel: channel, Contrassegno: v.Choice.Contrassegno, Use: v.Choice.Use}
	req.At = v.Choice.At
	staff := ""
	if v.Staff != nil {
		staff = v.Staff.ID
	}
	total := v.Preview.TotalCents
	if f.mustPay(total) {
		// Self-service: paid first, then sent (pay.go).
		return f.startPayment(ctx, req, v, staff)
	}
	return f.send(ctx, req, v, staff, total)
}

// send writes req to the outbox, sends it and prints what the hub issued,
// or the claim receipt when the hub cannot be reached; v is the reviewed
// view the request was confirmed on. Called within an action.
func (f *Flow) send(ctx context.Context, req IssueRequest, v View, staff string, total int64) error {
	key := req.Key
	f.progress(StepWorking, 0, 4, "progress_issuing")

	claim, err := f.deps.Outbox.Enqueue(ctx, req, total, false)
	if err != nil {
		// The offline limits bound what the kiosk takes while the hub is
		// away; if it answers now they do not apply.
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		online := f.deps.Hub.Ping(pctx) == nil
		cancel()
		if !online {
			f.noteHub(ErrOffline)
			f.update(func(v *View) { v.Step = StepReview; v.Progress = Progress{} })
			if p := limitProblem(err); p != nil {
				// The limit by name and value, in the operator's language.
				return f.fail(p)
			}
			return f.fail(problem("queue_refused", "the hub is offline and the request could not be queued: "+err.Error(), err))
		}
		if claim, err = f.deps.Outbox.Enqueue(ctx, req, total, true); err != nil {
			f.update(func(v *View) { v.Step = StepReview; v.Progress = Progress{} })
			return f.fail(problem("journal_failed", "the request could not be written to the kiosk's journal, so it was not sent: "+err.Error(), err))
		}
	}
	now := f.deps.Clock.Now()
	// The day's account has the sale from now on, as waiting for the hub
	// until its answer settles it.
	f.journal(Sale{Time: now, Staff: staff, Claim: claim, Types: typeNames(req.Types), Fees: v.Preview.Lines, Total: total})
	f.checkpoint("journal")

	hctx, cancel := f.ctx(ctx)
	d, err := f.deps.Outbox.Deliver(hctx, key, f.render(staff, v.Lang))
	cancel()
	f.noteHub(err)
	refusal, refused := api.Refused(err)
	switch {
	case refused:
		// Nothing was issued or charged. The operator has the hub's
		// reason on the screen; the outbox keeps only its code, and a
		// second try is a new request with a new key.
		if derr := f.deps.Outbox.Dismiss(ctx, key); derr != nil {
			f.deps.Log.Warn("a refused request could not be dismissed from the outbox", "claim", claim, "err", derr)
		}
		f.journal(Sale{Time: f.deps.Clock.Now(), Settles: claim, Refused: refusal.Reason, Void: true})
		if req.PaymentID != "" {
			// Paid, then refused: not back to "Conferma", which would
			// take a second payment. The payment stays paid and unused
			// at the hub, for the city to refund.
			f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
			return f.fail(problem("paid_refused", "the Comune refused the request after it was paid ("+hubProblem(err).Error()+"): the payment "+req.PaymentID+" is refunded by the Comune", err, req.PaymentID))
		}
		newKey, kerr := newKey(f.deps.Rand)
		f.update(func(v *View) {
			if kerr == nil {
				f.key = newKey
			}
			v.Step = StepReview
			v.Progress = Progress{}
		})
		return f.fail(hubProblem(err))
	case err != nil:
		// Not answered: the request waits in the outbox, whose sender
		// delivers it under the same key (the hub may even have issued
		// it already: it then answers the same certificate).
		f.deps.Log.Info("the request waits in the outbox", "claim", claim, "err", err)
		f.refreshQueue()
		cr := receipt.Claim{Shop: f.cfg.Shop, Address: f.cfg.Address, LegalName: f.cfg.LegalName, PartitaIVA: f.cfg.PartitaIVA, OperatorID: f.cfg.OperatorID, Time: now,
			Types: typeNames(req.Types), Fees: receiptFees(v.Preview.Lines), TotalCents: total, Code: claim, Lang: receipt.Lang(v.Lang)}
		// Paid at a self-service kiosk, then the hub went away: collected
		// here with the code and the card once issued (collect.go).
		cr.Collect, cr.Paid = req.PaymentID != "", req.PaymentID != ""
		cr.IdentityPending = v.Person != nil && v.Person.Provisional != ""
		f.update(func(v *View) {
			f.claim = &cr
			v.Result = &Result{Claim: claim, Paid: cr.Paid}
		})
		perr := f.printClaim(ctx, cr)
		f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
		if perr != nil {
			return f.fail(perr)
		}
		return nil
	}
	// Issued, and its certificate and receipt are in the spool: the sale
	// is final whatever happens to the paper.
	f.checkpoint("delivered")
	issued := d.Issued
	f.Settle(Claimed{Code: claim, State: ClaimIssued, Settled: f.deps.Clock.Now(), Issued: issued})
	f.refreshQueue()
	f.update(func(v *View) {
		f.jobs = d.Jobs
		v.Result = &Result{Issued: issued}
	})
	perr := f.printJobs(ctx, d.Jobs, true)
	f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
	if perr != nil {
		return f.fail(perr)
	}
	return nil
}

// render makes a sale's print jobs: the certificate, then its receipt.
func (f *Flow) render(staff string, lang Lang) Render {
	return func(is *Issued, pdf []byte) ([]printer.Job, error) {
		return f.deps.Printers.Jobs("certificato "+is.Protocol, pdf, f.receipt(is, staff, lang))
	}
}

// Render makes the print jobs of a request delivered after the citizen
// left with a claim code (the outbox's sender), in the kiosk's language.
func (f *Flow) Render() Render { return f.render("", f.cfg.Lang) }

func (f *Flow) checkpoint(step string) {
	if f.deps.Checkpoint != nil {
		f.deps.Checkpoint(step)
	}
}

// printJobs prints a sale's jobs from the spool, the certificate first,
// then the receipt. A job that fails stays in the spool and the others are
// still printed; the first failure is returned. With progress the screen
// follows along.
func (f *Flow) printJobs(ctx context.Context, ids []string, progress bool) error {
	var first error
	for i, id := range ids {
		stage, key := 2, "progress_printing_a4"
		fail, what := "print_a4_failed", "the certificate"
		if i > 0 {
			stage, key = 3, "progress_printing_receipt"
			fail, what = "print_receipt_failed", "the receipt"
		}
		if progress {
			f.progress(StepWorking, stage, 4, key)
		}
		pctx, cancel := f.ctx(ctx)
		err := f.deps.Printers.PrintJob(pctx, id)
		cancel()
		if err != nil && first == nil {
			first = problem(fail, what+" could not be printed: "+err.Error(), err)
		}
	}
	if first == nil && progress {
		f.update(func(v *View) { v.Progress = Progress{Done: 4, Total: 4, Key: "progress_printed"} })
	}
	return first
}

// PrintJobs prints the jobs of a request the outbox's sender delivered
// after the citizen left. The screen is not touched: another citizen may
// be using it.
func (f *Flow) PrintJobs(ctx context.Context, ids []string) error {
	return f.printJobs(ctx, ids, false)
}

func (f *Flow) progress(step Step, done, total int, key string) {
	f.update(func(v *View) {
		v.Step = step
		v.Progress = Progress{Done: done, Total: total, Key: key}
	})
}

// printClaim prints the claim receipt: the request is queued whatever
// happens to the paper, and the screen shows the code too.
func (f *Flow) printClaim(ctx context.Context, c receipt.Claim) error {
	f.progress(StepWorking, 1, 2, "progress_printing_claim")
	pctx, cancel := f.ctx(ctx)
	err := f.deps.Printers.PrintClaim(pctx, c)
	cancel()
	if err != nil {
		return problem("print_claim_failed", "the claim receipt could not be printed: "+err.Error(), err, c.Code)
	}
	f.update(func(v *View) { v.Progress = Progress{Done: 2, Total: 2, Key: "progress_printed"} })
	return nil
}

func (f *Flow) print(ctx context.Context, issued *Issued, pdf []byte, rc receipt.Receipt) error {
	f.progress(StepWorking, 2, 4, "progress_printing_a4")
	pctx, cancel := f.ctx(ctx)
	err := f.deps.Printers.PrintA4(pctx, "certificato "+issued.Protocol, pdf)
	cancel()
	if err != nil {
		return problem("print_a4_failed", "the certificate could not be printed: "+err.Error(), err)
	}
	f.progress(StepWorking, 3, 4, "progress_printing_receipt")
	pctx, cancel = f.ctx(ctx)
	err = f.deps.Printers.PrintReceipt(pctx, rc)
	cancel()
	if err != nil {
		return problem("print_receipt_failed", "the receipt could not be printed: "+err.Error(), err)
	}
	f.update(func(v *View) { v.Progress = Progress{Done: 4, Total: 4, Key: "progress_printed"} })
	return nil
}

// Reprint prints the last certificate and receipt again.
func (f *Flow) Reprint(ctx context.Context) error {
	done, err := f.begin(StepDone)
	if err != nil {
		return err
	}
	defer done()
	f.mu.Lock()
	res, pdf, rc, cr := f.v.Result, f.pdf, f.rcpt, f.claim
	f.mu.Unlock()
	if res != nil && res.Issued == nil && cr != nil {
		err := f.printClaim(ctx, *cr)
		f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
		if err != nil {
			return f.fail(err)
		}
		return nil
	}
	if res == nil || res.Issued == nil {
		return f.fail(problem("nothing_to_reprint", "there is no printed certificate to print again", nil))
	}
	if waiting := f.waitingJobs(); len(waiting) > 0 {
		// Not printed yet (the printer failed): these copies, not new ones.
		err := f.printJobs(ctx, waiting, true)
		f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
		if err != nil {
			return f.fail(err)
		}
		return nil
	}
	if f.cfg.Mode == SelfService {
		return f.reprintCopy(ctx, res.Issued) // one COPIA, never a second original (copy.go)
	}
	if pdf == nil {
		hctx, cancel := f.ctx(ctx)
		pdf, err = f.deps.Hub.PDF(hctx, res.Issued.ID)
		cancel()
		if err != nil {
			return f.fail(problem("pdf_unavailable", "the certificate could not be downloaded: "+err.Error(), err))
		}
		staff := ""
		if s := f.View().Staff; s != nil {
			staff = s.ID
		}
		r := f.receipt(res.Issued, staff, f.View().Lang)
		rc = &r
		f.mu.Lock()
		f.pdf, f.rcpt = pdf, rc
		f.mu.Unlock()
	}
	// The receipt of a reprint says COPIA: the citizen has the original.
	cp := *rc
	cp.Copy = true
	err = f.print(ctx, res.Issued, pdf, cp)
	f.update(func(v *View) { v.Step = StepDone })
	if err != nil {
		return f.fail(err)
	}
	return nil
}

// ReprintReceipt prints the last sale's receipt alone again, marked
// COPIA: a citizen who lost it, or wants one for their accounts, needs no
// second certificate. A receipt the printer never printed is printed from
// the spool as the original; a claim receipt is printed again as it was.
func (f *Flow) ReprintReceipt(ctx context.Context) error {
	done, err := f.begin(StepDone)
	if err != nil {
		return err
	}
	defer done()
	f.mu.Lock()
	res, rc, cr, jobs := f.v.Result, f.rcpt, f.claim, f.jobs
	lang := f.v.Lang
	staff := ""
	if f.v.Staff != nil {
		staff = f.v.Staff.ID
	}
	f.mu.Unlock()
	finish := func(err error) error {
		f.update(func(v *View) { v.Step = StepDone; v.Progress = Progress{} })
		if err != nil {
			return f.fail(err)
		}
		return nil
	}
	if res != nil && res.Issued == nil && cr != nil {
		return finish(f.printClaim(ctx, *cr))
	}
	if res == nil || res.Issued == nil {
		return f.fail(problem("nothing_to_reprint", "there is no printed receipt to print again", nil))
	}
	// The sale's jobs are the certificate, then its receipt.
	f.progress(StepWorking, 1, 2, "progress_printing_receipt")
	pctx, cancel := f.ctx(ctx)
	if len(jobs) > 1 && slices.Contains(f.waitingJobs(), jobs[len(jobs)-1]) {
		err = f.deps.Printers.PrintJob(pctx, jobs[len(jobs)-1])
	} else {
		r := f.receipt(res.Issued, staff, lang)
		if rc != nil {
			r = *rc
		}
		r.Copy = true
		err = f.deps.Printers.PrintReceipt(pctx, r)
	}
	cancel()
	if err != nil {
		return finish(problem("print_receipt_failed", "the receipt could not be printed: "+err.Error(), err))
	}
	return finish(nil)
}

// waitingJobs are the current sale's jobs the spool still holds, in order.
func (f *Flow) waitingJobs() []string {
	f.mu.Lock()
	ids := f.jobs
	f.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	spooled, err := f.deps.Printers.Spooled()
	if err != nil {
		return nil
	}
	var out []string
	for _, id := range ids {
		if slices.ContainsFunc(spooled, func(j printer.Job) bool { return j.ID == id }) {
			out = append(out, id)
		}
	}
	return out
}

// Next forgets the customer and goes back to the first screen (self-service)
// or to identification (operator).
func (f *Flow) Next() {
	f.act.Lock()
	defer f.act.Unlock()
	f.mu.Lock()
	f.reset(f.cfg.Mode == SelfService)
	f.mu.Unlock()
	f.changed()
}

// ShowSummary shows today's account (operator mode).
func (f *Flow) ShowSummary() error {
	done, err := f.begin(StepIdentify, StepDone)
	if err != nil {
		return err
	}
	defer done()
	if f.cfg.Mode != Operator {
		return f.fail(problem("wrong_step", "the day's summary is for the shop's staff", nil))
	}
	s, err := f.Summary()
	if err != nil {
		return f.fail(err)
	}
	f.mu.Lock()
	f.reset(false)
	f.mu.Unlock()
	f.update(func(v *View) { v.Summary = &s; v.Step = StepSummary })
	return nil
}

// Summary adds up today's sales from the journal. Queued sales the journal
// has no settlement for yet are looked up in the outbox, which knows what
// the hub made of them even when the app missed the news (it was closed, or
// crashed between the delivery and the journal); what it learns goes into
// the journal.
func (f *Flow) Summary() (Summary, error) {
	day := startOfDay(f.deps.Clock.Now())
	sales, err := f.deps.Journal.Since(day)
	if err != nil {
		return Summary{}, err
	}
	if f.deps.Outbox != nil {
		for _, code := range unsettled(sales) {
			c, err := f.deps.Outbox.Lookup(context.Background(), code)
			if err != nil {
				f.deps.Log.Warn("a queued sale's claim code is not in the outbox", "claim", code, "err", err)
				continue
			}
			if s, ok := f.settlement(c); ok {
				f.journal(s)
				sales = append(sales, s)
			}
		}
	}
	return Summarise(day, sales), nil
}

// settlement is the journal record of what the hub made of a claim, if it
// has decided.
func (f *Flow) settlement(c *Claimed) (Sale, bool) {
	at := c.Settled
	if at.IsZero() {
		at = f.deps.Clock.Now()
	}
	switch {
	case c.State == ClaimIssued && c.Issued != nil:
		return Sale{Time: at, Settles: c.Code, Protocol: c.Issued.Protocol, Types: c.Issued.Types, Fees: c.Issued.Fees, Total: c.Issued.TotalCents}, true
	case c.State == ClaimRefused:
		reason := c.Reason
		if reason == "" {
			reason = "refused"
		}
		return Sale{Time: at, Settles: c.Code, Refused: reason}, true
	}
	return Sale{}, false
}

// Settle records in the day's journal what the hub made of a queued
// request, as the outbox's sender reports it. Settling a claim twice is
// harmless: the summary reads the first settlement.
func (f *Flow) Settle(c Claimed) {
	if s, ok := f.settlement(&c); ok {
		f.journal(s)
		f.liveSummary()
	}
}

func (f *Flow) journal(s Sale) {
	if err := f.deps.Journal.Append(s); err != nil {
		f.deps.Log.Error("cannot record the sale in the journal", "err", err, "protocol", s.Protocol, "claim", s.Claim)
	}
}

// receipt maps the hub's fee lines to receipt lines.
func (f *Flow) receipt(is *Issued, staff string, lang Lang) receipt.Receipt {
	r := receipt.Receipt{Shop: f.cfg.Shop, Address: f.cfg.Address, LegalName: f.cfg.LegalName, PartitaIVA: f.cfg.PartitaIVA, OperatorID: f.cfg.OperatorID, Time: is.Issued,
		TotalCents: is.TotalCents, VerifyURL: is.VerifyURL, Lang: receipt.Lang(lang)}
	if r.Time.IsZero() {
		r.Time = f.deps.Clock.Now()
	}
	for _, t := range is.Types {
		r.Certificates = append(r.Certificates, receipt.Certificate{Type: t, Protocol: is.Protocol})
	}
	r.Fees = receiptFees(is.Fees)
	return r
}

// receiptFees maps fee lines to receipt lines.
func receiptFees(lines []fees.Line) []receipt.Fee {
	var out []receipt.Fee
	for _, l := range lines {
		switch {
		case l.Kind == fees.Bollo && l.Cents == 0:
			code := l.Note
			if code == "" {
				code = "esente"
			}
			out = append(out, receipt.Fee{Kind: receipt.Exemption, Code: code})
		case l.Kind == fees.Bollo:
			// The marca's number, when one paid it, as the certificate
			// states it (art. 15 DPR 642/1972).
			out = append(out, receipt.Fee{Kind: receipt.Bollo, Cents: l.Cents, Contrassegno: l.Contrassegno})
		case l.Kind == fees.Diritti:
			out = append(out, receipt.Fee{Kind: receipt.Diritti, Cents: l.Cents})
		case l.Kind == fees.Service:
			out = append(out, receipt.Fee{Kind: receipt.Service, Cents: l.Cents})
		default:
			out = append(out, receipt.Fee{Kind: receipt.Other, Cents: l.Cents, Label: l.Label})
		}
	}
	return out
}

func typeNames(ts []certificate.Type) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}
