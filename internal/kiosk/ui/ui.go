package ui

import (
	"context"
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
	subject   string
	types     map[certificate.Type]bool
	exempt    bool
	exCode    int
	withMarca bool            // the bollo is paid with a contrassegno applied at the counter
	use       certificate.Use // the destination of use chosen
	lastStep  kiosk.Step
	ctx       context.Context
	drawCount int
}

// New makes the UI of flow; call Content for the window's content and
// Start to begin the status and idle timers.
func New(a fyne.App, flow *kiosk.Flow, cat *kiosk.Catalog) *UI {
	scale := float32(1.2)
	if flow.View().Mode == kiosk.SelfService {
		scale = 1.5
	}
	u := &UI{flow: flow, cat: cat, app: a, theme: &Theme{Scale: scale}, ctx: context.Background(),
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
	u.root = container.NewStack()
	flow.OnChange = func() { fyne.Do(u.Refresh) }
	u.Refresh()
	return u
}

// Content is the window's content.
func (u *UI) Content() fyne.CanvasObject { return u.root }

// SetHighContrast switches the palette.
func (u *UI) SetHighContrast(on bool) {
	u.theme.HighContrast = on
	u.app.Settings().SetTheme(&Theme{Scale: u.theme.Scale, HighContrast: on})
	u.theme = u.app.Settings().Theme().(*Theme)
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
			}
		}
	}()
}

func (u *UI) t(v kiosk.View, key string, args ...any) string { return u.cat.T(v.Lang, key, args...) }

// run calls an action off the UI goroutine.
func (u *UI) run(fn func(ctx context.Context) error) {
	u.flow.Touch()
	go fn(u.ctx)
}

// Refresh redraws the current screen from the flow's view. Must run on the
// UI goroutine.
func (u *UI) Refresh() {
	v := u.flow.View()
	if v.Step != u.lastStep {
		u.enter(v)
	}
	u.lastStep = v.Step
	u.drawCount++
	u.root.Objects = []fyne.CanvasObject{container.NewBorder(u.header(v), u.statusBar(v), nil, nil, container.NewPadded(u.screen(v)))}
	u.root.Refresh()
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
		u.types = map[certificate.Type]bool{}
		u.exempt, u.exCode, u.subject = false, 0, ""
		u.withMarca, u.use = false, certificate.UseOrdinary
	case kiosk.StepChoose:
		if u.subject == "" && v.Person != nil {
			u.subject = v.Person.CF
		}
	}
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
	hc := widget.NewCheck(u.t(v, "high_contrast"), u.SetHighContrast)
	hc.Checked = u.theme.HighContrast
	right = append(right, hc)
	return container.NewVBox(container.NewHBox(title, layout.NewSpacer(), container.NewHBox(right...)), widget.NewSeparator())
}

func (u *UI) statusBar(v kiosk.View) fyne.CanvasObject {
	st := v.Status
	hub := u.t(v, "status_hub_unknown")
	hubColor := theme.ColorNameForeground
	switch {
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
	dot := canvas.NewCircle(u.theme.Color(hubColor, theme.VariantLight))
	dot.Resize(fyne.NewSize(12, 12))
	items := []fyne.CanvasObject{container.NewGridWrap(fyne.NewSize(14, 14), dot), widget.NewLabel(hub), widget.NewSeparator(),
		widget.NewLabel(printerText), widget.NewSeparator(), widget.NewLabel(readerText)}
	if v.AgreementCached {
		items = append(items, widget.NewSeparator(), widget.NewLabel(u.t(v, "status_agreement_cached", age(v.AgreementAge))))
	}
	if v.Progress.Total > 0 {
		pb := widget.NewProgressBar()
		pb.Max = float64(v.Progress.Total)
		pb.SetValue(float64(v.Progress.Done))
		items = append(items, layout.NewSpacer(), container.NewGridWrap(fyne.NewSize(180, 24), pb))
	}
	return container.NewVBox(widget.NewSeparator(), container.NewHBox(items...))
}

// screen is the step's own content, with the last problem above it.
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
	case kiosk.StepAccessLog:
		body = u.accessLogScreen(v)
	default:
		body = widget.NewLabel(string(v.Step))
	}
	var top []fyne.CanvasObject
	if v.Recovered != nil {
		top = append(top, u.recovered(v))
	}
	if v.Problem != nil {
		msg := widget.NewLabel(u.cat.Problem(v.Lang, v.Problem))
		msg.Importance = widget.DangerImportance
		msg.Wrapping = fyne.TextWrapWord
		msg.TextStyle.Bold = true
		top = append(top, msg)
	}
	if len(top) == 0 {
		return body
	}
	return container.NewBorder(container.NewVBox(top...), nil, nil, nil, body)
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
		items = append(items, line(widget.WarningImportance, "recovered_refused", s.Claim, s.Reason))
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

func (u *UI) busy(v kiosk.View, objs ...fyne.Disableable) {
	if !v.Busy {
		return
	}
	for _, o := range objs {
		o.Disable()
	}
}
