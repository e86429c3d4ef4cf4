package ui

import (
	"context"
	"image/color"
	"reflect"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/kiosk"
)

// UI renders one flow in one window.
type UI struct {
	flow  *kiosk.Flow
	cat   *kiosk.Catalog
	app   fyne.App
	theme *Theme
	root  *fyne.Container

	// Inputs live across redraws so typed text survives a status update.
	staffPIN  *widget.Entry // the clerk's CIE PIN
	clerkCF   *widget.Entry
	clerkPass *widget.Entry
	clerkTOTP *widget.Entry
	cfEntry   *widget.Entry
	docEntry  *widget.Entry
	cardPIN   *widget.Entry
	otherCF   *widget.Entry
	exText    *widget.Entry
	marca     *widget.Entry   // the contrassegno's identifier: typed, or by a barcode reader that types like a keyboard
	at        *widget.Entry   // the date of a historical certificate
	atBox     *fyne.Container // at with its label, shown for historical types only
	claimCode *widget.Entry   // typed, or filled by a QR scanner that types like a keyboard
	tillCode  *widget.Entry   // a till payment's code (till.go), typed or scanned
	subject   string
	types     map[certificate.Type]bool
	exempt    bool
	exCode    int
	withMarca bool            // the bollo is paid with a contrassegno applied at the counter
	use       certificate.Use // the destination of use chosen
	deleg     *delegState     // the delegations screen's form (delegations.go)
	req       *reqForm        // the request screen's form (requests.go)
	lastStep  kiosk.Step
	ctx       context.Context

	// The frame, made once (see Refresh): the header, rebuilt only when
	// what it shows changes; the status bar and the banner, changed in
	// place; the page, which holds the step's body.
	frame       *fyne.Container // the border of header, status bar and page
	headerBox   *fyne.Container
	headerShown *hdrKey
	status      *statusBar
	banner      *banner
	bannerBox   *fyne.Container // lays the banner out at the top of the page
	page        *fyne.Container
	shown       *kiosk.View // screenKey of the body on the page
	force       bool        // rebuild the body at the next update (Refresh)
	drawCount   int         // bodies built, for the tests
	// The body's buttons that an action in progress disables (busyObjs),
	// those setBusy disabled (busyOff), whether the body was built while
	// busy and whether it shows busy now.
	busyObjs             []fyne.Disableable
	busyOff              []fyne.Disableable
	builtBusy, shownBusy bool
	live                 []func(kiosk.View) // the body's in-place updaters (onRefresh)
	// spawn runs an action off the UI goroutine (go fn()). Fyne's test
	// driver has no UI goroutine: its fyne.Do runs the update on the
	// action's own goroutine, beside the test's taps, so a test that taps
	// a button runs the action inline instead.
	spawn func(fn func())

	acc access // speech, text size, keys, countdown (access.go, keys.go)
}

// New makes the UI of flow; call Content for the window's content and
// Start to begin the status and idle timers.
func New(a fyne.App, flow *kiosk.Flow, cat *kiosk.Catalog) *UI {
	scale := float32(1.2)
	if flow.View().Mode == kiosk.SelfService {
		scale = 1.5
	}
	u := &UI{flow: flow, cat: cat, app: a, theme: &Theme{Scale: scale}, ctx: context.Background(), spawn: func(fn func()) { go fn() },
		types: map[certificate.Type]bool{}}
	a.Settings().SetTheme(u.theme)
	u.staffPIN = widget.NewPasswordEntry()
	u.clerkCF = widget.NewEntry()
	u.clerkPass = widget.NewPasswordEntry()
	u.clerkTOTP = widget.NewEntry()
	u.cfEntry = widget.NewEntry()
	u.docEntry = widget.NewEntry()
	u.cardPIN = widget.NewPasswordEntry()
	u.otherCF = widget.NewEntry()
	u.exText = widget.NewEntry()
	u.marca = widget.NewEntry()
	u.at = widget.NewEntry()
	u.claimCode = widget.NewEntry()
	u.tillCode = widget.NewEntry()
	u.headerBox = container.NewStack()
	u.status = newStatusBar()
	u.banner = newBanner()
	u.banner.Hide()
	u.page = container.NewStack()
	// The banner lies over the top of the page rather than above it, so a
	// problem appearing or going never moves the buttons under the user's
	// finger (issue 15, item 6).
	u.bannerBox = container.New(overTop{}, u.banner)
	u.frame = container.NewBorder(u.headerBox, u.status.box, nil, nil,
		container.NewPadded(container.NewStack(u.page, u.bannerBox)))
	u.root = container.NewStack(u.frame)
	flow.SetOnChange(func() { fyne.Do(u.update) })
	u.initAccess()
	u.update()
	return u
}

// Content is the window's content.
func (u *UI) Content() fyne.CanvasObject { return u.root }

// SetHighContrast switches the palette.
func (u *UI) SetHighContrast(on bool) {
	u.theme.HighContrast = on
	u.app.Settings().SetTheme(&Theme{Scale: u.theme.Scale, HighContrast: on})
	u.theme = u.app.Settings().Theme().(*Theme)
	// Screens may have taken colours from the old theme: draw them again.
	u.Refresh()
}

// Start polls the hub, printers and reader every few seconds and applies
// the idle timeout every second, until ctx ends.
func (u *UI) Start(ctx context.Context) {
	u.ctx = ctx
	go func() {
		u.flow.RefreshStatus(ctx)
		status := time.NewTicker(5 * time.Second)
		idle := time.NewTicker(time.Second)
		defer status.Stop()
		defer idle.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-status.C:
				u.flow.RefreshStatus(ctx)
			case <-idle.C:
				u.flow.Tick()
				u.flow.PollPayment(ctx) // when one is due, on the flow's clock
			}
		}
	}()
}

func (u *UI) t(v kiosk.View, key string, args ...any) string { return u.cat.T(v.Lang, key, args...) }

// run calls an action off the UI goroutine.
func (u *UI) run(fn func(ctx context.Context) error) {
	u.flow.Touch()
	ctx := u.ctx
	u.spawn(func() { fn(ctx) })
}

// Refresh rebuilds the window's body from the flow's view, for a change of
// the UI's own state that the body shows (the theme; inputs set by code).
// The flow's own changes, status polls included, come through update,
// which rebuilds only what changed. Must run on the UI goroutine.
func (u *UI) Refresh() {
	u.force = true
	u.update()
}

// update brings the window up to date with the flow's view; the flow's
// OnChange calls it (through fyne.Do, on the UI goroutine).
//
// The window is a frame that lives as long as the UI: the header, the
// status bar and the problem banner are built once and changed in place,
// and the step's body is rebuilt only when what it shows changes (see
// screenKey). A status poll every few seconds therefore leaves the body's
// widgets as they are: a list keeps its scroll position, an open drop-down
// stays open on the same Select, a half-typed field keeps its text, and a
// tap never lands on a widget that a rebuild has just taken out of the
// window (the nil canvas behind the crash in widget.NewPopUpMenu, issue 15).
func (u *UI) update() {
	v := u.flow.View()
	entered := v.Step != u.lastStep
	if entered {
		u.enter(v)
	}
	u.lastStep = v.Step
	if hk := headerKey(v, u.theme.HighContrast); u.headerShown == nil || *u.headerShown != hk {
		u.headerShown = &hk
		u.headerBox.Objects = []fyne.CanvasObject{u.header(v)}
		// The frame, not only the box: a header of another height moves
		// the page.
		u.frame.Refresh()
	}
	if u.updateStatus(v) {
		u.frame.Refresh()
	}
	u.updateBanner(v)
	key := screenKey(v)
	switch {
	case u.force || u.shown == nil || !reflect.DeepEqual(*u.shown, key) || (u.builtBusy && !v.Busy):
		u.build(v)
		u.shown, u.force = &key, false
	case v.Busy != u.shownBusy:
		u.setBusy(v.Busy)
	}
	for _, fn := range u.live {
		fn(v)
	}
	u.accessRefresh(v, entered)
}

// enter clears what the previous screen left in the inputs.
func (u *UI) enter(v kiosk.View) {
	u.staffPIN.SetText("")
	u.clerkPass.SetText("")
	u.clerkTOTP.SetText("")
	u.cardPIN.SetText("")
	switch v.Step {
	case kiosk.StepStart, kiosk.StepLogin, kiosk.StepIdentify:
		u.clerkCF.SetText("")
		u.cfEntry.SetText("")
		u.docEntry.SetText("")
		u.otherCF.SetText("")
		u.exText.SetText("")
		u.marca.SetText("")
		u.at.SetText("")
		u.claimCode.SetText("")
		u.tillCode.SetText("")
		u.types = map[certificate.Type]bool{}
		u.exempt, u.exCode, u.subject = false, 0, ""
		u.withMarca, u.use = false, certificate.UseOrdinary
	case kiosk.StepDelegations:
		u.deleg = nil
	case kiosk.StepRequests:
		u.req = nil
	case kiosk.StepChoose:
		if u.subject == "" && v.Person != nil {
			u.subject = v.Person.CF
		}
	}
}

// screenKey is the part of a view the body shows: two views with equal
// keys draw the same body, so the body is not rebuilt between them.
//
// Left out, because they change by themselves while someone is using the
// screen and are shown elsewhere or in place:
//   - Status (hub, queue, printers, reader: the status bar), but for
//     Suspended and Notice, which replace every step by the suspended screen;
//   - CardPresent (the status bar), AgreementAge and PlacesAge (they grow
//     with the clock; a screen that shows them registers a live updater);
//   - AgreementAsOf while the agreement is not a cached copy (the caches'
//     refresh restamps it every quarter of an hour and no screen shows it);
//   - Problem (the banner, see updateBanner);
//   - Busy (the buttons given to u.busy are disabled and enabled in place).
//
// Everything else (the step, the language, the person, the choice, the
// preview, the result, the progress, the pages, and any field a screen
// adds to kiosk.View) rebuilds the body when it changes. A screen that
// wants to show a status value must update its widget in place with
// u.onRefresh, never read it from the view it was built with.
func screenKey(v kiosk.View) kiosk.View {
	k := v
	k.Status = kiosk.Status{Suspended: v.Status.Suspended, Notice: v.Status.Notice}
	k.CardPresent = false
	k.AgreementAge, k.PlacesAge = 0, 0
	if !k.AgreementCached {
		k.AgreementAsOf = time.Time{}
	}
	k.Problem = nil
	k.Busy = false
	return k
}

// hdrKey is what the header shows.
type hdrKey struct {
	mode     kiosk.Mode
	lang     kiosk.Lang
	shop     string
	staff    kiosk.Staff
	loggedIn bool
	contrast bool
}

func headerKey(v kiosk.View, contrast bool) hdrKey {
	k := hdrKey{mode: v.Mode, lang: v.Lang, shop: v.Shop, contrast: contrast}
	if v.Staff != nil {
		k.staff, k.loggedIn = *v.Staff, true
	}
	return k
}

// build makes the step's body afresh, forgetting the previous one's
// buttons and live updaters.
func (u *UI) build(v kiosk.View) {
	u.busyObjs, u.busyOff, u.live = nil, nil, nil
	u.builtBusy, u.shownBusy = v.Busy, v.Busy
	u.drawCount++
	u.page.Objects = []fyne.CanvasObject{u.screen(v)}
	u.page.Refresh()
}

// onRefresh registers fn to run with every later view until the body is
// rebuilt: the way a screen keeps a status value it shows (an age, a
// state) current without being rebuilt. fn runs on the UI goroutine.
func (u *UI) onRefresh(fn func(v kiosk.View)) { u.live = append(u.live, fn) }

// setBusy disables the body's busy buttons while an action runs and gives
// back, when it ends, those it disabled (a button the screen disabled for
// its own reasons stays so).
func (u *UI) setBusy(busy bool) {
	u.shownBusy = busy
	if busy {
		for _, o := range u.busyObjs {
			if !o.Disabled() {
				o.Disable()
				u.busyOff = append(u.busyOff, o)
			}
		}
		return
	}
	for _, o := range u.busyOff {
		o.Enable()
	}
	u.busyOff = nil
}

func (u *UI) header(v kiosk.View) fyne.CanvasObject {
	mode := u.t(v, "mode_operator")
	if v.Mode == kiosk.SelfService {
		mode = u.t(v, "mode_self_service")
	}
	title := widget.NewLabelWithStyle(v.Shop+" · "+mode, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	var right []fyne.CanvasObject
	if v.Staff != nil {
		right = append(right, widget.NewLabel(v.Staff.Name))
		right = append(right, widget.NewButtonWithIcon(u.t(v, "logout_button"), theme.LogoutIcon(), func() { u.flow.Logout() }))
	}
	right = append(right, u.accessControls(v)...)
	hc := widget.NewCheck(u.t(v, "high_contrast"), u.SetHighContrast)
	hc.Checked = u.theme.HighContrast
	right = append(right, hc)
	// The title gives way to the controls (it truncates) when the text is large.
	title.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(right...), title), widget.NewSeparator())
}

// statusBar holds the status bar's widgets, made once and changed in
// place by updateStatus.
type statusBar struct {
	box, row                        *fyne.Container
	dot                             *canvas.Circle
	dotBox                          *fyne.Container
	hub, printer, reader, agreement *widget.Label
	seps                            [3]*widget.Separator
	spacer                          fyne.CanvasObject
	progress                        *widget.ProgressBar
	progressBox                     *fyne.Container
}

func newStatusBar() *statusBar {
	s := &statusBar{dot: canvas.NewCircle(color.Transparent), hub: widget.NewLabel(""), printer: widget.NewLabel(""),
		reader: widget.NewLabel(""), agreement: widget.NewLabel(""), spacer: layout.NewSpacer(), progress: widget.NewProgressBar()}
	for i := range s.seps {
		s.seps[i] = widget.NewSeparator()
	}
	s.dot.Resize(fyne.NewSize(12, 12))
	s.dotBox = container.NewGridWrap(fyne.NewSize(14, 14), s.dot)
	s.progressBox = container.NewGridWrap(fyne.NewSize(180, 24), s.progress)
	s.row = container.NewHBox()
	s.box = container.NewVBox(widget.NewSeparator(), s.row)
	return s
}

// arrange puts in the bar's row the items shown: the cached agreement's
// age and the progress bar only when there is one. It reports whether the
// row changed (and was laid out again).
func (s *statusBar) arrange(agreement, progress bool) bool {
	items := []fyne.CanvasObject{s.dotBox, s.hub, s.seps[0], s.printer, s.seps[1], s.reader}
	if agreement {
		items = append(items, s.seps[2], s.agreement)
	}
	if progress {
		items = append(items, s.spacer, s.progressBox)
	}
	if !slices.Equal(items, s.row.Objects) {
		s.row.Objects = items
		s.row.Refresh()
		return true
	}
	return false
}

// updateStatus shows v's status in the bar's widgets. It reports whether
// the bar's height may have changed (an item came or went).
func (u *UI) updateStatus(v kiosk.View) bool {
	s, st := u.status, v.Status
	hub := u.t(v, "status_hub_unknown")
	hubColor := theme.ColorNameForeground
	switch {
	case st.APIUnsupported:
		hub, hubColor = u.t(v, "hub_api_version_unsupported"), theme.ColorNameError
	case st.Suspended:
		hub, hubColor = u.t(v, "status_hub_suspended"), theme.ColorNameError
	case st.HubChecked && st.HubOnline:
		hub, hubColor = u.t(v, "status_hub_online"), theme.ColorNameSuccess
	case st.HubChecked:
		hub, hubColor = u.t(v, "status_hub_offline"), theme.ColorNameError
	}
	if st.Queued > 0 {
		hub += " · " + u.t(v, "status_queued", st.Queued)
	}
	if st.SetAside > 0 {
		hub += " · " + u.t(v, "status_set_aside", st.SetAside)
	}
	if !st.APISunset.IsZero() {
		hub += " · " + u.t(v, "api_version_sunset", st.APISunset.Format("02/01/2006"))
	}
	printerText := u.t(v, "status_printer_ok")
	if st.Printer != "" {
		printerText = u.t(v, "status_printer", st.Printer)
	}
	readerText := u.t(v, "status_reader_ok")
	switch {
	case st.Reader != "":
		readerText = u.t(v, "status_reader", st.Reader)
	case v.CardPresent:
		readerText = u.t(v, "status_reader_card")
	}
	if c := u.theme.Color(hubColor, theme.VariantLight); s.dot.FillColor != c {
		s.dot.FillColor = c
		s.dot.Refresh()
	}
	// A label whose text changed may be wider or narrower: the row lays
	// its items out again.
	changed := setText(s.hub, hub)
	changed = setText(s.printer, printerText) || changed
	changed = setText(s.reader, readerText) || changed
	if v.AgreementCached {
		changed = setText(s.agreement, u.t(v, "status_agreement_cached", age(v.AgreementAge))) || changed
	}
	arranged := s.arrange(v.AgreementCached, v.Progress.Total > 0)
	if !arranged && changed {
		s.row.Refresh()
	}
	if v.Progress.Total > 0 && (s.progress.Max != float64(v.Progress.Total) || s.progress.Value != float64(v.Progress.Done)) {
		s.progress.Max = float64(v.Progress.Total)
		s.progress.SetValue(float64(v.Progress.Done))
	}
	return arranged
}

// setText changes l's text if it differs, so an unchanged status costs no
// redraw, and reports whether it did.
func setText(l *widget.Label, s string) bool {
	if l.Text == s {
		return false
	}
	l.SetText(s)
	return true
}

func showIf(on bool, objs ...fyne.CanvasObject) {
	for _, o := range objs {
		if on && !o.Visible() {
			o.Show()
		} else if !on && o.Visible() {
			o.Hide()
		}
	}
}

// updateBanner shows the last problem in the banner, or hides it. The
// suspended screen says all there is to say: no banner over it.
func (u *UI) updateBanner(v kiosk.View) {
	text := ""
	if v.Problem != nil && !v.Status.Suspended {
		text = u.cat.Problem(v.Lang, v.Problem)
	}
	if text == u.banner.Text() && u.banner.Visible() == (text != "") {
		return
	}
	u.banner.SetText(text)
	showIf(text != "", u.banner)
	// A new sentence may take another number of lines.
	u.bannerBox.Refresh()
}

// screen is the step's own content, below the report of a restart.
func (u *UI) screen(v kiosk.View) fyne.CanvasObject {
	if v.Status.Suspended {
		return u.suspendedScreen(v)
	}
	var body fyne.CanvasObject
	switch v.Step {
	case kiosk.StepStart:
		body = u.startScreen(v)
	case kiosk.StepLogin:
		body = u.loginScreen(v)
	case kiosk.StepIdentify:
		body = u.identifyScreen(v)
	case kiosk.StepPIN:
		body = u.pinScreen(v)
	case kiosk.StepChoose:
		body = u.chooseScreen(v)
	case kiosk.StepReview:
		body = u.reviewScreen(v)
	case kiosk.StepWorking:
		body = u.workingScreen(v)
	case kiosk.StepDone:
		body = u.doneScreen(v)
	case kiosk.StepSummary:
		body = u.summaryScreen(v)
	case kiosk.StepClaim:
		body = u.claimScreen(v)
	case kiosk.StepPlaces:
		body = u.placesScreen(v)
	case kiosk.StepPay:
		body = u.payScreen(v)
	case kiosk.StepCollect:
		body = u.collectScreen(v)
	case kiosk.StepAccessLog:
		body = u.accessLogScreen(v)
	case kiosk.StepTill:
		body = u.tillScreen(v)
	case kiosk.StepDossier:
		body = u.dossierScreen(v)
	case kiosk.StepDelegations:
		body = u.delegationsScreen(v)
	case kiosk.StepRequests:
		body = u.requestsScreen(v)
	case kiosk.StepRequestFiled:
		body = u.requestFiledScreen(v)
	default:
		body = widget.NewLabel(string(v.Step))
	}
	if v.Recovered == nil {
		return body
	}
	return container.NewBorder(u.recovered(v), nil, nil, nil, body)
}

// recovered is the report of a restart: what the kiosk found unfinished
// from its last run and what became of it, above whatever screen is on
// until the operator has read it.
func (u *UI) recovered(v kiosk.View) fyne.CanvasObject {
	r := v.Recovered
	line := func(importance widget.Importance, key string, args ...any) *widget.Label {
		l := widget.NewLabel(u.t(v, key, args...))
		l.Wrapping = fyne.TextWrapWord
		l.Importance = importance
		return l
	}
	items := []fyne.CanvasObject{heading(u.t(v, "recovered_title"))}
	for _, s := range r.Issued {
		items = append(items, line(widget.SuccessImportance, "recovered_issued", s.Claim, s.Protocol))
	}
	for _, s := range r.Refused {
		items = append(items, line(widget.WarningImportance, "recovered_refused", s.Claim, u.cat.HubReason(v.Lang, s.Reason, "")))
	}
	for _, c := range r.Queued {
		items = append(items, line(widget.MediumImportance, "recovered_queued", c))
	}
	for _, n := range r.Printed {
		items = append(items, line(widget.MediumImportance, "recovered_printed", n))
	}
	for _, n := range r.Uncertain {
		items = append(items, line(widget.DangerImportance, "recovered_uncertain", n))
	}
	for _, n := range r.Waiting {
		items = append(items, line(widget.WarningImportance, "recovered_waiting", n))
	}
	ok := widget.NewButton(u.t(v, "recovered_ok"), func() { u.flow.DismissRecovered() })
	items = append(items, container.NewHBox(ok), widget.NewSeparator())
	return container.NewVBox(items...)
}

func heading(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// big is a large, high-importance button: a touch target.
func big(label string, fn func()) *widget.Button {
	b := widget.NewButton(label, fn)
	b.Importance = widget.HighImportance
	return b
}

// busy disables objs while an action runs: now if one is running, and in
// place when one starts on this body (see setBusy).
func (u *UI) busy(v kiosk.View, objs ...fyne.Disableable) {
	u.busyObjs = append(u.busyObjs, objs...)
	if !v.Busy {
		return
	}
	for _, o := range objs {
		o.Disable()
	}
}
