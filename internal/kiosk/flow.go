package kiosk

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/receipt"
)

// Step is the screen a flow is on.
type Step string

const (
	StepStart    Step = "start"    // self-service: language choice and "tap your card"
	StepLogin    Step = "login"    // operator: the clerk's own CIE and PIN (or password and code)
	StepIdentify Step = "identify" // operator: CIE tap, or codice fiscale and document
	StepPIN      Step = "pin"      // self-service: the CIE PIN
	StepChoose   Step = "choose"   // subject, certificates, purpose
	StepReview   Step = "review"   // fee lines and total, confirm
	StepWorking  Step = "working"  // issuing and printing, with progress
	StepDone     Step = "done"     // printed (or queued), reprint, next
	StepSummary  Step = "summary"  // operator: end-of-day account
	StepClaim    Step = "claim"    // operator: a claim code's request, still queued or refused
	StepPlaces   Step = "places"   // the nearest other points of service, from the hub or the cached copy
)

// Config is what a flow needs to know of its kiosk.
type Config struct {
	Mode       Mode
	Shop       string // printed on receipts
	Address    string
	OperatorID string
	// ServiceCents is the shop's service fee from its agreement; it is
	// shown in the preview, the hub charges it.
	ServiceCents int64
	Policy       certificate.Policy
	// Types the kiosk offers; every type when empty.
	Types []certificate.Type
	// IdleTimeout wipes a self-service session (default 60 s) and logs an
	// operator out (OperatorIdle, default 15 min).
	IdleTimeout  time.Duration
	OperatorIdle time.Duration
	Lang         Lang // the start language; Italian when empty
	// Timeout bounds each call to the hub, card or printer (default 20 s).
	Timeout time.Duration
	// AgreementAsOf is when the hub stated ServiceCents and Types;
	// AgreementCached says they come from the profile's copy because the
	// hub could not be reached at start. The screens say how old it is.
	AgreementAsOf   time.Time
	AgreementCached bool
}

// Deps are the flow's connections to the world. Journal may be nil (the
// day's sales are then kept in memory).
type Deps struct {
	Hub      Hub
	Reader   CardReader
	Printers Printers
	Outbox   Outbox
	Journal  Journal
	Clock    Clock
	Rand     io.Reader // idempotency keys; crypto/rand when nil
	Log      *slog.Logger
	// Places lists the nearest points of service (Cache.Directory); nil
	// hides the directory.
	Places func(ctx context.Context) (Directory, error)
	// OnContact runs after each status poll that reached the hub: the
	// backlog report and the caches' refresh. May be nil.
	OnContact func(ctx context.Context)
	// Checkpoint, when set, is called at the steps of a sale the flow
	// itself takes, by name: "journal" (the request is written, nothing
	// sent) and "delivered" (the hub's answer and the print jobs are
	// committed, nothing printed). It is a test hook: the kiosk's crash
	// test stops the process there (see cmd/kiosk, SPORTELLO_CRASH_AT).
	Checkpoint func(step string)
}

// Progress is how far issuing and printing have got.
type Progress struct {
	Done, Total int
	Key         string // translation key of the current stage
}

// Status is what the status bar shows.
type Status struct {
	HubOnline  bool
	HubChecked bool // false until the first Ping answered or failed
	Queued     int
	// SetAside counts the sales the hub refused, or failed on again and
	// again, waiting for the operator (kiosk outbox list shows them).
	SetAside int
	Printer  string // "" when ready, else a short state
	Reader   string
	// Suspended is true while the hub refuses this device's key because
	// city staff suspended or revoked it, or its shop; Notice is the
	// reason they gave, when the hub told it.
	Suspended bool
	Notice    string
}

// Choice is what the citizen asks for.
type Choice struct {
	SubjectCF string
	Types     []certificate.Type
	Exemption fees.Exemption
	// Contrassegno is the 14-digit identifier of the marca da bollo the
	// counter applies (typed or read from its barcode); empty for virtual
	// bollo.
	Contrassegno string
	// Use is the destination of use the requester declares (see
	// certificate.Use); empty for the ordinary use.
	Use string
	// At is the date a historical certificate is about (residenza storica,
	// stato di famiglia storico), YYYY-MM-DD; empty otherwise.
	At string
}

// Result is what the hub (or the outbox) made of a confirmed request.
type Result struct {
	Issued *Issued // nil when queued
	Claim  string  // the claim code when queued
}

// View is a snapshot of a flow for a screen to render. It shares nothing
// with the flow, so a renderer can keep it while the flow moves on.
type View struct {
	Mode     Mode
	Step     Step
	Lang     Lang
	Staff    *Staff // the clerk logged in (operator mode)
	Person   *Person
	Choice   Choice
	Preview  *fees.Breakdown
	Result   *Result
	Progress Progress
	Status   Status
	Problem  *Problem // the last refusal or failure, shown on the current screen
	// Recovered says what the kiosk found unfinished when it started
	// again after a stop, and what it did about it; shown until the
	// operator dismisses it.
	Recovered *Recovered
	Summary   *Summary
	Claimed   *Claimed   // StepClaim: the request a returning citizen's claim code names
	Places    *Directory // StepPlaces
	AccessLog *AccessLog // StepAccessLog: the page shown
	// PlacesAge and AgreementAge are how old the directory shown and the
	// fees previewed are, when they come from the cached copy (else 0).
	PlacesAge       time.Duration
	AgreementAsOf   time.Time
	AgreementCached bool
	AgreementAge    time.Duration
	HasPlaces       bool // the directory can be shown
	CardPresent     bool // a card is on the reader (with a CardWatcher running)
	Busy            bool // an action is running
	Types           []certificate.Type
	Exempt          []fees.Reason // ANPR table 39, for the purpose choice
	Shop            string
	Subject         string // the chosen subject's name
}

// Flow is one kiosk's state machine. Its actions may be called from any
// goroutine; they run one at a time, and OnChange is called after every
// change of the view.
type Flow struct {
	cfg  Config
	deps Deps

	// OnChange is called (without locks held) after the view changed.
	OnChange func()

	act sync.Mutex // one action at a time

	mu    sync.Mutex
	v     View
	last  time.Time // last citizen or operator activity
	pdf   []byte    // last certificate, kept for reprint until the next customer
	rcpt  *receipt.Receipt
	jobs  []string       // the last sale's print jobs, printed from the spool while it holds them
	claim *receipt.Claim // last claim receipt, kept for reprint until the next customer
	key   string         // idempotency key of the request under review
	// requester is how the citizen of this visit was identified (the CIE
	// tap, or codice fiscale and document), sent with the look-up and
	// with every request, and forgotten with the customer.
	requester *api.RequesterEvidence
}

// New makes a flow on its first screen.
func New(cfg Config, deps Deps) (*Flow, error) {
	if cfg.Mode != Operator && cfg.Mode != SelfService {
		return nil, fmt.Errorf("mode %q is neither operator nor self-service", cfg.Mode)
	}
	if deps.Hub == nil || deps.Reader == nil || deps.Printers == nil || deps.Outbox == nil {
		return nil, errors.New("a kiosk flow needs a hub, a card reader, printers and an outbox (every sale is written there before it is sent)")
	}
	if cfg.Shop == "" {
		return nil, errors.New("the kiosk needs the shop's name for its receipts")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.OperatorIdle <= 0 {
		cfg.OperatorIdle = 15 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.Lang == "" {
		cfg.Lang = Italian
	}
	if len(cfg.Types) == 0 {
		cfg.Types = certificate.Types()
	}
	if deps.Clock == nil {
		deps.Clock = ClockFunc(time.Now)
	}
	if deps.Rand == nil {
		deps.Rand = rand.Reader
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Journal == nil {
		deps.Journal = &MemJournal{}
	}
	f := &Flow{cfg: cfg, deps: deps}
	f.reset(true)
	return f, nil
}

// reset returns to the first screen and forgets the customer; full also
// forgets the operator and the language.
func (f *Flow) reset(full bool) {
	st, card := f.v.Status, f.v.CardPresent
	staff, lang := f.v.Staff, f.v.Lang
	if full {
		f.endSession()
		staff, lang = nil, f.cfg.Lang
	}
	for i := range f.pdf {
		f.pdf[i] = 0
	}
	rec := f.v.Recovered
	wipeEvidence(f.requester)
	f.pdf, f.rcpt, f.jobs, f.claim, f.key, f.requester = nil, nil, nil, nil, "", nil
	f.v = View{Mode: f.cfg.Mode, Lang: lang, Staff: staff, Status: st, Types: f.cfg.Types, Exempt: certificate.ExemptionsOn(f.channel()), Shop: f.cfg.Shop, Recovered: rec,
		AgreementAsOf: f.cfg.AgreementAsOf, AgreementCached: f.cfg.AgreementCached, HasPlaces: f.deps.Places != nil, CardPresent: card}
	switch {
	case f.cfg.Mode == SelfService:
		f.v.Step = StepStart
	case staff == nil:
		f.v.Step = StepLogin
	default:
		f.v.Step = StepIdentify
	}
	f.last = f.deps.Clock.Now()
}

// wipeEvidence overwrites what a tap read, as the certificate's PDF is, so
// a session's card data do not outlive it in memory longer than the GC
// takes.
func wipeEvidence(ev *api.RequesterEvidence) {
	if ev == nil {
		return
	}
	for _, b := range [][]byte{ev.Kpub, ev.SOD, ev.TapNonce, ev.Response} {
		clear(b)
	}
	*ev = api.RequesterEvidence{}
}

// cloneEvidence is a copy sharing no bytes with ev, for a request that
// outlives the visit (the outbox keeps it until the hub answers).
func cloneEvidence(ev *api.RequesterEvidence) *api.RequesterEvidence {
	if ev == nil {
		return nil
	}
	c := *ev
	c.Kpub, c.SOD, c.TapNonce, c.Response = bytes.Clone(ev.Kpub), bytes.Clone(ev.SOD), bytes.Clone(ev.TapNonce), bytes.Clone(ev.Response)
	return &c
}

// View returns a snapshot for rendering.
func (f *Flow) View() View {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.v
	if v.Person != nil {
		p := *v.Person
		p.Family = slices.Clone(p.Family)
		v.Person = &p
	}
	v.Choice.Types = slices.Clone(v.Choice.Types)
	if v.Claimed != nil {
		c := *v.Claimed
		v.Claimed = &c
	}
	now := f.deps.Clock.Now()
	if v.AgreementCached {
		v.AgreementAge = now.Sub(v.AgreementAsOf)
	}
	if v.Places != nil {
		d := *v.Places
		d.Places = slices.Clone(d.Places)
		v.Places = &d
		if d.Cached {
			v.PlacesAge = now.Sub(d.Fetched)
		}
	}
	if v.Preview != nil {
		b := *v.Preview
		b.Lines = slices.Clone(b.Lines)
		v.Preview = &b
	}
	return v
}

// update changes the view under the lock and tells the renderer.
func (f *Flow) update(fn func(v *View)) {
	f.mu.Lock()
	fn(&f.v)
	f.mu.Unlock()
	if f.OnChange != nil {
		f.OnChange()
	}
}

// begin starts an action: it waits for the previous one, checks the step,
// records activity and clears the last problem.
func (f *Flow) begin(steps ...Step) (func(), error) {
	f.act.Lock()
	f.mu.Lock()
	if !slices.Contains(steps, f.v.Step) {
		step := f.v.Step
		f.mu.Unlock()
		f.act.Unlock()
		return nil, problem("wrong_step", fmt.Sprintf("this action is not available on the %s screen", step), nil)
	}
	f.last = f.deps.Clock.Now()
	f.v.Problem = nil
	f.v.Busy = true
	f.mu.Unlock()
	return func() {
		f.update(func(v *View) { v.Busy = false })
		f.act.Unlock()
	}, nil
}

// fail shows err on the current screen and returns it.
func (f *Flow) fail(err error) error {
	var p *Problem
	if !errors.As(err, &p) {
		p = problem("unexpected", err.Error(), err)
	}
	f.deps.Log.Info("kiosk action refused", "key", p.Key, "err", p.Error())
	f.update(func(v *View) {
		if f.cfg.Mode == Operator && v.Staff != nil && slices.Contains(clerkSessionEnds, strings.TrimPrefix(p.Key, "hub_")) {
			// The hub no longer takes this clerk's session (ended,
			// suspended, enablement over): back to the log-in screen.
			f.reset(true)
		}
		v.Problem = p
	})
	return p
}

func (f *Flow) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, f.cfg.Timeout)
}

// Touch records activity (a key press, a scroll) so the idle timer restarts.
func (f *Flow) Touch() {
	f.mu.Lock()
	f.last = f.deps.Clock.Now()
	f.mu.Unlock()
}

// Tick applies the idle timeouts; the UI calls it every second or so. It
// reports whether the session was wiped.
func (f *Flow) Tick() bool {
	if !f.act.TryLock() { // an action is running: it is not idle
		return false
	}
	defer f.act.Unlock()
	f.mu.Lock()
	idle := f.deps.Clock.Now().Sub(f.last)
	wipe := false
	switch f.cfg.Mode {
	case SelfService:
		wipe = f.v.Step != StepStart && idle >= f.cfg.IdleTimeout
		if wipe {
			f.reset(true)
		}
	case Operator:
		wipe = f.v.Staff != nil && idle >= f.cfg.OperatorIdle
		if wipe {
			f.reset(true)
		}
	}
	f.mu.Unlock()
	if wipe && f.OnChange != nil {
		f.OnChange()
	}
	return wipe
}

// SetLang changes the language of the screens (self-service's start screen,
// or the operator's choice at any time).
func (f *Flow) SetLang(l Lang) error {
	if !slices.Contains(Langs, l) {
		return problem("unknown_lang", fmt.Sprintf("language %q is not offered", l), nil)
	}
	f.Touch()
	f.update(func(v *View) { v.Lang = l })
	return nil
}

// Logout ends the operator's session.
func (f *Flow) Logout() {
	f.act.Lock()
	defer f.act.Unlock()
	f.mu.Lock()
	f.reset(true)
	f.mu.Unlock()
	if f.OnChange != nil {
		f.OnChange()
	}
}

// TapCard reads the citizen's CIE. In operator mode the verified NIS
// identifies the citizen at once; in self-service the PIN comes next.
func (f *Flow) TapCard(ctx context.Context) error {
	done, err := f.begin(StepStart, StepIdentify)
	if err != nil {
		return err
	}
	defer done()
	rctx, cancel := f.ctx(ctx)
	defer cancel()
	ev, err := f.deps.Reader.ReadCard(rctx)
	if err != nil {
		return f.fail(cardProblem(err))
	}
	if f.cfg.Mode == SelfService {
		f.update(func(v *View) {
			wipeEvidence(f.requester)
			f.requester = ev
			v.Step = StepPIN
		})
		return nil
	}
	return f.lookup(ctx, ev, certificate.Counter)
}

func cardProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return problem("card_timeout", "no card was presented in time", err)
	}
	return problem("card_unreadable", "the card could not be read: "+err.Error(), err)
}

// pinFormat refuses what cannot be a CIE PIN before it reaches the card, so a
// typo never costs one of the card's tries; the citizen's and the clerk's
// PIN are the same kind.
func pinFormat(pin string) *Problem {
	if len(pin) != 8 || strings.Trim(pin, "0123456789") != "" {
		return problem("cie_pin_format", "the CIE PIN is 8 digits", nil)
	}
	return nil
}

// EnterPIN checks the self-service citizen's CIE PIN, then identifies them.
func (f *Flow) EnterPIN(ctx context.Context, pin string) error {
	done, err := f.begin(StepPIN)
	if err != nil {
		return err
	}
	defer done()
	if p := pinFormat(pin); p != nil {
		return f.fail(p)
	}
	rctx, cancel := f.ctx(ctx)
	defer cancel()
	if err := f.deps.Reader.VerifyPIN(rctx, pin); err != nil {
		var pe *PINError
		switch {
		case errors.As(err, &pe) && pe.Blocked:
			f.mu.Lock()
			f.reset(true)
			f.mu.Unlock()
			return f.fail(problem("cie_pin_blocked", pe.Error(), err))
		case errors.As(err, &pe):
			return f.fail(problem("cie_pin_wrong", pe.Error(), err, pe.TriesLeft))
		}
		return f.fail(cardProblem(err))
	}
	// The card took the PIN: the tap is the citizen's own, which the hub
	// requires of self-service.
	f.mu.Lock()
	ev := f.requester
	if ev != nil {
		ev.PINProved = true
	}
	f.mu.Unlock()
	if ev == nil {
		return f.fail(problem("card_unreadable", "tap the card again before typing the PIN", nil))
	}
	return f.lookup(ctx, ev, certificate.SelfService)
}

// IdentifyByCF identifies the citizen at the counter by codice fiscale and
// the number of the document the operator has checked.
func (f *Flow) IdentifyByCF(ctx context.Context, cf, document string) error {
	done, err := f.begin(StepIdentify)
	if err != nil {
		return err
	}
	defer done()
	if f.cfg.Mode != Operator {
		return f.fail(problem("wrong_step", "self-service identifies citizens by CIE and PIN only", nil))
	}
	cf = strings.ToUpper(strings.TrimSpace(cf))
	document = strings.ToUpper(strings.TrimSpace(document))
	if err := codicefiscale.Validate(cf); err != nil {
		return f.fail(problem("cf_invalid", fmt.Sprintf("%q is not a valid codice fiscale: %v", cf, err), err, cf))
	}
	if len(document) < 5 {
		return f.fail(problem("document_missing", "type the number of the identity document the citizen shows", nil))
	}
	return f.lookup(ctx, &api.RequesterEvidence{Method: api.EvidenceDocument, CF: cf, Document: document}, certificate.Counter)
}

// lookup identifies the citizen at the hub with ev and, when the hub knows
// them, keeps ev as this visit's requester.
func (f *Flow) lookup(ctx context.Context, ev *api.RequesterEvidence, channel certificate.Channel) error {
	hctx, cancel := f.ctx(ctx)
	defer cancel()
	p, err := f.deps.Hub.LookupPerson(hctx, PersonQuery{Requester: *cloneEvidence(ev), Channel: channel})
	if err != nil {
		f.noteHub(err)
		return f.fail(hubProblem(err))
	}
	f.noteHub(nil)
	f.update(func(v *View) {
		if f.requester != ev {
			wipeEvidence(f.requester)
		}
		f.requester = ev
		v.Person = p
		v.Choice = Choice{SubjectCF: p.CF}
		v.Subject = p.Name()
		v.Step = StepChoose
	})
	return nil
}

func hubProblem(err error) *Problem {
	var r *Refusal
	switch {
	case errors.As(err, &r):
		return problem("hub_"+r.Reason, r.Message, err)
	case rateLimited(err):
		return problem("hub_rate_limited", "the hub asks this device to slow down: try again in a moment", err)
	case errors.Is(err, ErrOffline):
		return problem("hub_offline", "the hub cannot be reached; try again in a moment", err)
	}
	return problem("hub_error", err.Error(), err)
}

// noteHub keeps the status bar's hub light in step with the last call.
func (f *Flow) noteHub(err error) {
	online := err == nil || !errors.Is(err, ErrOffline) || rateLimited(err)
	f.update(func(v *View) { v.Status.HubOnline, v.Status.HubChecked = online, true })
}

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
			return f.fail(problem("cf_invalid", fmt.Sprintf("%q is not a valid codice fiscale: %v", c.SubjectCF, err), err, c.SubjectCF))
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
		d, err := registry.ParseDate(c.At)
		if err != nil {
			return problem("date_invalid", err.Error(), err, c.At)
		}
		at = d
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
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
		// Nothing was issued or charged. The operator has the hub's
		// reason on the screen; the outbox keeps only its code, and a
		// second try is a new request with a new key.
		if derr := f.deps.Outbox.Dismiss(ctx, key); derr != nil {
			f.deps.Log.Warn("a refused request could not be dismissed from the outbox", "claim", claim, "err", derr)
		}
		f.journal(Sale{Time: f.deps.Clock.Now(), Settles: claim, Refused: refusal.Reason, Void: true})
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
		cr := receipt.Claim{Shop: f.cfg.Shop, Address: f.cfg.Address, OperatorID: f.cfg.OperatorID, Time: now,
			Types: typeNames(req.Types), Fees: receiptFees(v.Preview.Lines), TotalCents: total, Code: claim, Lang: receipt.Lang(v.Lang)}
		f.update(func(v *View) {
			f.claim = &cr
			v.Result = &Result{Claim: claim}
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
	err = f.print(ctx, res.Issued, pdf, *rc)
	f.update(func(v *View) { v.Step = StepDone })
	if err != nil {
		return f.fail(err)
	}
	return nil
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
	if f.OnChange != nil {
		f.OnChange()
	}
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
	}
}

func (f *Flow) journal(s Sale) {
	if err := f.deps.Journal.Append(s); err != nil {
		f.deps.Log.Error("cannot record the sale in the journal", "err", err, "protocol", s.Protocol, "claim", s.Claim)
	}
}

// receipt maps the hub's fee lines to receipt lines.
func (f *Flow) receipt(is *Issued, staff string, lang Lang) receipt.Receipt {
	r := receipt.Receipt{Shop: f.cfg.Shop, Address: f.cfg.Address, OperatorID: f.cfg.OperatorID, Time: is.Issued,
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
			out = append(out, receipt.Fee{Kind: receipt.Bollo, Cents: l.Cents})
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

// RefreshStatus asks the hub, the outbox, the printers and the reader how
// they are, for the status bar. The UI calls it every few seconds.
func (f *Flow) RefreshStatus(ctx context.Context) Status {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var st Status
	st.HubChecked = true
	st.HubOnline = f.deps.Hub.Ping(ctx) == nil
	if sc, ok := f.deps.Hub.(standingChecker); ok && st.HubOnline {
		st.Suspended, st.Notice = suspension(sc.Standing(ctx))
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
	f.update(func(v *View) { v.Status = st })
	return st
}

func (f *Flow) refreshQueue() {
	if n, err := f.deps.Outbox.Pending(); err == nil {
		f.update(func(v *View) { v.Status.Queued = n })
	}
}

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

// CardEvent tells the flow a card was placed on the reader or taken off.
// On the self-service start screen and on the operator's identification
// screen a placed card is read at once, as the button would; elsewhere (a
// card left on the reader while the citizen chooses) it is only shown.
func (f *Flow) CardEvent(ctx context.Context, placed bool) error {
	f.mu.Lock()
	f.v.CardPresent = placed
	step, busy, staff := f.v.Step, f.v.Busy, f.v.Staff
	f.mu.Unlock()
	if f.OnChange != nil {
		f.OnChange()
	}
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
	if f.OnChange != nil {
		f.OnChange()
	}
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
	var r *Refusal
	if errors.As(err, &r) && (r.Reason == ReasonSuspended || r.Reason == ReasonRevoked) {
		return true, r.Notice
	}
	return false, ""
}
