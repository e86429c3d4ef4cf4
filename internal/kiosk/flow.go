package kiosk

import (
	"bytes"
	"context"
	"crypto/rand"
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
	"github.com/sportello/sportello/internal/fees"
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
	Mode    Mode
	Shop    string // printed on receipts
	Address string
	// LegalName and PartitaIVA are the shop's operator as the agreement
	// registered it (ShopConfig, from api.DeviceShop), printed on every
	// receipt under the sign.
	LegalName  string
	PartitaIVA string
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

	// IdleWarning is how long before either timeout the screen asks "Ti
	// serve più tempo?" with the seconds left, any key or touch keeping
	// the session (default 20 s: WCAG 2.2 success criterion 2.2.1, which
	// EN 301 549 clause 11.2.2.1 adopts, asks for a warning and at least
	// 20 seconds to extend with a simple action).
	IdleWarning time.Duration
	// PayMethods are the payment methods a self-service kiosk offers, in
	// order (api.PayAtTill, api.PayPagoPA); DefaultPayMethods when empty.
	// PayPoll is how often the pay screen asks the hub, PayIdle its idle
	// wipe (DefaultPayPoll, DefaultPayIdle).
	PayMethods []string
	PayPoll    time.Duration
	PayIdle    time.Duration
}

// Deps are the flow's connections to the world. Journal may be nil (the
// day's sales are then kept in memory).
type Deps struct {
	Hub      Hub
	Reader   CardReader
	Printers Printers
	Outbox   Outbox
	Journal  Journal
	// Payments takes payment in self-service and confirms till payments
	// at the counter; nil where the kiosk takes none (a self-service
	// kiosk without it prints nothing that costs money).
	Payments Payments
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
	// TillPending is how many till payments of the shop's self-service
	// kiosks wait for this counter (till.go); 0 where none are taken.
	TillPending int
	// APIUnsupported is true while the hub states it does not serve the
	// API version this kiosk speaks (api_version_unsupported): nothing is
	// sent, the outbox keeps its queue, the kiosk must be updated.
	// APISunset is the day the hub stops serving it, while it is retiring
	// it (RFC 8594 Sunset); zero otherwise.
	APIUnsupported bool
	APISunset      time.Time
}

// Choice is what the citizen asks for.
type Choice struct {
	SubjectCF string
	Types     []certificate.Type
	Exemption fees.Exemption
	// Exempt says the citizen chose "Esente da bollo": Choose then
	// refuses until Exemption names the reason (table 39), rather than
	// preview, and charge, the bollo. An Exemption with a code is exempt
	// whatever Exempt says.
	Exempt bool
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
	// Paid: a self-service request queued after it was paid (the hub
	// went away meanwhile); it is collected here with the claim code.
	Paid bool
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
	Claimed   *Claimed     // StepClaim: the request a returning citizen's claim code names
	Places    *Directory   // StepPlaces
	Payment   *api.Payment // StepPay: how to pay, as the hub last said
	AccessLog *AccessLog   // StepAccessLog: the page shown
	// Delegations and Dossier are the citizen's own records
	// (StepDelegations, StepDossier; delegation.go).
	Delegations *api.Delegations
	Dossier     *api.Dossier
	Filed       *api.Request // StepRequestFiled: the request just filed (requests.go)
	Till        *Till        // StepTill: the till payments waiting
	// PlacesAge and AgreementAge are how old the directory shown and the
	// fees previewed are, when they come from the cached copy (else 0).
	PlacesAge       time.Duration
	AgreementAsOf   time.Time
	AgreementCached bool
	AgreementAge    time.Duration
	HasPlaces       bool // the directory can be shown
	HasTill         bool // the counter confirms its self-service kiosks' till payments (till.go)
	CardPresent     bool // a card is on the reader (with a CardWatcher running)
	Busy            bool // an action is running
	Types           []certificate.Type
	Exempt          []fees.Reason // ANPR table 39, for the purpose choice
	Shop            string
	Subject         string // the chosen subject's name

	// Greeting is the catalogue key of the greeting for the hour now in
	// Rome ("Buongiorno", "Buon pomeriggio", "Buonasera", GreetingKey).
	Greeting string

	// IdleLeft is the time left before the idle timeout wipes the
	// session, while the "need more time?" countdown shows (else 0).
	IdleLeft time.Duration
	// Visit counts the sessions: it changes when the customer (or, at the
	// counter, the clerk) is forgotten, so a screen resets what one
	// citizen chose for themselves (speech, text size) for the next.
	Visit int
}

// Flow is one kiosk's state machine. Its actions may be called from any
// goroutine; they run one at a time, and OnChange is called after every
// change of the view.
type Flow struct {
	cfg  Config
	deps Deps

	// OnChange is called (without locks held) after the view changed.
	// Set it before the flow's goroutines start, or with SetOnChange.
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
	visit int            // View.Visit
	// requester is how the citizen of this visit was identified (the CIE
	// tap, or codice fiscale and document), sent with the look-up and
	// with every request, and forgotten with the customer.
	requester *api.RequesterEvidence
	pay       *payState   // StepPay: the payment awaited and its request (pay.go)
	collect   *collecting // StepCollect: the claim being collected (collect.go)
	copies    int         // self-service: copies of this visit's certificate reprinted (copy.go)
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
	if cfg.IdleWarning <= 0 {
		cfg.IdleWarning = 20 * time.Second
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
		f.visit++
	}
	for i := range f.pdf {
		f.pdf[i] = 0
	}
	rec := f.v.Recovered
	wipeEvidence(f.requester)
	f.pdf, f.rcpt, f.jobs, f.claim, f.key, f.requester = nil, nil, nil, nil, "", nil
	f.pay, f.copies = nil, 0
	if f.collect != nil {
		wipeEvidence(f.collect.req.Requester)
		f.collect = nil
	}
	f.v = View{Mode: f.cfg.Mode, Lang: lang, Staff: staff, Status: st, Types: f.cfg.Types, Exempt: certificate.ExemptionsOn(f.channel()), Shop: f.cfg.Shop, Recovered: rec,
		AgreementAsOf: f.cfg.AgreementAsOf, AgreementCached: f.cfg.AgreementCached, HasPlaces: f.deps.Places != nil, HasTill: f.cfg.Mode == Operator && f.deps.Payments != nil, CardPresent: card, Visit: f.visit}
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
	v.Greeting = GreetingKey(now)
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
	f.changed()
}

// SetOnChange sets OnChange while the flow may already be running: the
// kiosk starts its sender and card watcher before the window exists, and
// either may change the view while the window's UI hooks itself on.
func (f *Flow) SetOnChange(fn func()) {
	f.mu.Lock()
	f.OnChange = fn
	f.mu.Unlock()
}

// changed calls OnChange, read under the lock SetOnChange writes it under.
func (f *Flow) changed() {
	f.mu.Lock()
	on := f.OnChange
	f.mu.Unlock()
	if on != nil {
		on()
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
	f.v.IdleLeft = 0
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

// Touch records activity (a key press, a scroll) so the idle timer
// restarts; it ends the "need more time?" countdown if it shows ("Sì,
// altro tempo" and any key call it).
func (f *Flow) Touch() {
	f.mu.Lock()
	f.last = f.deps.Clock.Now()
	warned := f.v.IdleLeft > 0
	f.v.IdleLeft = 0
	f.mu.Unlock()
	if warned {
		f.changed()
	}
}

// Tick applies the idle timeouts; the UI calls it every second or so. In
// the last IdleWarning before a timeout it shows the countdown (View.IdleLeft,
// changed at each tick); at the timeout it wipes the session. It reports
// whether the session was wiped.
func (f *Flow) Tick() bool {
	if !f.act.TryLock() { // an action is running: it is not idle
		return false
	}
	defer f.act.Unlock()
	f.mu.Lock()
	idle := f.deps.Clock.Now().Sub(f.last)
	var limit time.Duration
	switch {
	case f.cfg.Mode == SelfService && f.v.Step != StepStart:
		limit = f.idleTimeout(f.v.Step) // longer on the pay screen (pay.go)
	case f.cfg.Mode == Operator && f.v.Staff != nil:
		limit = f.cfg.OperatorIdle
	}
	wipe := limit > 0 && idle >= limit
	before := f.v.IdleLeft
	var paying *payState
	switch {
	case wipe:
		paying = f.pay
		f.reset(true)
	case limit > 0 && limit-idle <= min(f.cfg.IdleWarning, limit/2):
		f.v.IdleLeft = limit - idle
	default:
		f.v.IdleLeft = 0
	}
	changed := wipe || f.v.IdleLeft != before
	f.mu.Unlock()
	f.payWiped(paying) // a wiped session's payment is cancelled
	if changed {
		f.changed()
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
	f.changed()
}
