package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
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
	u.at.SetPlaceHolder("2015-03-31")
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

func (u *UI) startScreen(v kiosk.View) fyne.CanvasObject {
	title := heading(u.t(v, "start_title"))
	title.Alignment = fyne.TextAlignCenter
	sub := widget.NewLabelWithStyle(u.t(v, "start_subtitle"), fyne.TextAlignCenter, fyne.TextStyle{})
	var langs []fyne.CanvasObject
	for _, l := range kiosk.Langs {
		l := l
		b := widget.NewButton(u.t(v, "lang_"+string(l)), func() { u.flow.SetLang(l) })
		if l == v.Lang {
			b.Importance = widget.HighImportance
		}
		langs = append(langs, b)
	}
	tap := widget.NewLabelWithStyle(u.t(v, "start_tap"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	tap.SizeName = theme.SizeNameSubHeadingText
	icon := widget.NewIcon(theme.AccountIcon())
	btn := big(u.t(v, "start_button"), func() { u.run(u.flow.TapCard) })
	u.busy(v, btn)
	box := container.NewVBox(title, sub,
		container.NewGridWithColumns(len(langs), langs...),
		container.NewCenter(container.NewGridWrap(fyne.NewSize(96, 96), icon)), tap, btn)
	if v.HasPlaces {
		places := widget.NewButtonWithIcon(u.t(v, "places_button"), theme.SearchIcon(), func() { u.run(u.flow.ShowPlaces) })
		u.busy(v, places)
		box.Add(places)
	}
	return container.NewCenter(box)
}

// loginScreen is the clerk's log-in: their own CIE and its PIN, or, at a
// shop without a reader, codice fiscale, password and the app's code.
func (u *UI) loginScreen(v kiosk.View) fyne.CanvasObject {
	u.staffPIN.SetPlaceHolder("••••••••")
	login := func() {
		pin := u.staffPIN.Text
		u.staffPIN.SetText("")
		u.run(func(ctx context.Context) error { return u.flow.LoginCard(ctx, pin) })
	}
	u.staffPIN.OnSubmitted = func(string) { login() }
	btn := big(u.t(v, "login_button"), login)
	u.clerkCF.SetPlaceHolder("RSSMRA50B17A558W")
	u.clerkTOTP.SetPlaceHolder("123456")
	pwLogin := func() {
		cf, pw, code := u.clerkCF.Text, u.clerkPass.Text, u.clerkTOTP.Text
		u.clerkPass.SetText("")
		u.clerkTOTP.SetText("")
		u.run(func(ctx context.Context) error { return u.flow.LoginPassword(ctx, cf, pw, code) })
	}
	u.clerkTOTP.OnSubmitted = func(string) { pwLogin() }
	pwBtn := widget.NewButton(u.t(v, "login_password_button"), pwLogin)
	u.busy(v, btn, pwBtn)
	hint := widget.NewLabel(u.t(v, "login_card_hint"))
	hint.Wrapping = fyne.TextWrapWord
	card := widget.NewForm(widget.NewFormItem(u.t(v, "login_pin"), u.staffPIN))
	pw := widget.NewForm(widget.NewFormItem(u.t(v, "login_cf"), u.clerkCF), widget.NewFormItem(u.t(v, "login_password"), u.clerkPass),
		widget.NewFormItem(u.t(v, "login_totp"), u.clerkTOTP))
	box := container.NewVBox(heading(u.t(v, "login_title")), hint, card, btn, widget.NewSeparator(),
		widget.NewLabel(u.t(v, "login_password_title")), pw, container.NewHBox(pwBtn))
	// As tall as the form needs at this width, so a report above it (after
	// a restart) pushes it down rather than under it.
	const width = 560
	box.Resize(fyne.NewSize(width, box.MinSize().Height))
	h := float32(0)
	for _, o := range box.Objects {
		h += o.MinSize().Height + theme.Padding()
	}
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(width, h), box))
}

func (u *UI) identifyScreen(v kiosk.View) fyne.CanvasObject {
	tap := big(u.t(v, "identify_tap_button"), func() { u.run(u.flow.TapCard) })
	u.cfEntry.SetPlaceHolder("RSSMRA50B17A558W")
	u.docEntry.SetPlaceHolder("CA12345AB")
	ident := widget.NewButton(u.t(v, "identify_button"), func() {
		cf, doc := u.cfEntry.Text, u.docEntry.Text
		u.run(func(ctx context.Context) error { return u.flow.IdentifyByCF(ctx, cf, doc) })
	})
	summary := widget.NewButtonWithIcon(u.t(v, "summary_button"), theme.ListIcon(), func() { u.run(func(context.Context) error { return u.flow.ShowSummary() }) })
	redeem := func() {
		code := u.claimCode.Text
		u.run(func(ctx context.Context) error { return u.flow.Redeem(ctx, code) })
	}
	u.claimCode.SetPlaceHolder("ABC-DEF-GHJ")
	u.claimCode.OnSubmitted = func(string) { redeem() }
	claim := widget.NewButtonWithIcon(u.t(v, "claim_button"), theme.DocumentPrintIcon(), redeem)
	u.busy(v, tap, ident, summary, claim)
	form := widget.NewForm(widget.NewFormItem(u.t(v, "identify_cf"), u.cfEntry), widget.NewFormItem(u.t(v, "identify_document"), u.docEntry))
	return container.NewVBox(heading(u.t(v, "identify_title")),
		widget.NewLabel(u.t(v, "identify_tap")), tap, widget.NewSeparator(),
		widget.NewLabel(u.t(v, "identify_or")), form, container.NewHBox(ident),
		widget.NewSeparator(), widget.NewLabel(u.t(v, "identify_claim")),
		container.NewBorder(nil, nil, nil, claim, u.claimCode),
		layout.NewSpacer(), container.NewHBox(u.placesButton(v, summary)...))
}

func (u *UI) pinScreen(v kiosk.View) fyne.CanvasObject {
	submit := func() {
		pin := u.cardPIN.Text
		u.cardPIN.SetText("")
		u.run(func(ctx context.Context) error { return u.flow.EnterPIN(ctx, pin) })
	}
	u.cardPIN.OnSubmitted = func(string) { submit() }
	u.cardPIN.SetPlaceHolder("••••••••")
	// A keypad: a touch screen has no keyboard.
	var keys []fyne.CanvasObject
	for _, k := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"} {
		k := k
		var b *widget.Button
		switch k {
		case "⌫":
			b = widget.NewButton(k, func() {
				if t := u.cardPIN.Text; t != "" {
					u.cardPIN.SetText(t[:len(t)-1])
				}
				u.flow.Touch()
			})
		case "OK":
			b = big(u.t(v, "pin_button"), submit)
		default:
			b = widget.NewButton(k, func() {
				if len(u.cardPIN.Text) < 8 {
					u.cardPIN.SetText(u.cardPIN.Text + k)
				}
				u.flow.Touch()
			})
		}
		u.busy(v, b)
		keys = append(keys, container.NewGridWrap(fyne.NewSize(140, 64), b))
	}
	back := widget.NewButton(u.t(v, "cancel_button"), func() { u.flow.Back() })
	hint := widget.NewLabel(u.t(v, "pin_hint"))
	hint.Wrapping = fyne.TextWrapWord
	return container.NewBorder(container.NewVBox(heading(u.t(v, "pin_title")), hint), container.NewHBox(back), nil, nil,
		container.NewCenter(container.NewVBox(container.NewGridWrap(fyne.NewSize(440, 56), u.cardPIN), container.NewGridWithColumns(3, keys...))))
}

func (u *UI) typeLabel(v kiosk.View, t certificate.Type) string { return u.t(v, "type_"+string(t)) }

func (u *UI) chooseScreen(v kiosk.View) fyne.CanvasObject {
	p := v.Person
	hello := heading(u.t(v, "choose_hello", p.Name()))
	// Subject: oneself, the family, and at the counter anyone else by CF.
	selfKey := "choose_self"
	if v.Mode == kiosk.Operator {
		selfKey = "choose_requester"
	}
	labels := []string{u.t(v, selfKey, p.Name())}
	cfs := []string{p.CF}
	for _, m := range p.Family {
		labels = append(labels, fmt.Sprintf("%s (%s)", m.Name(), m.BirthDate))
		cfs = append(cfs, m.CF)
	}
	other := "—"
	if v.Mode == kiosk.Operator {
		other = u.t(v, "identify_cf") + "…"
		labels = append(labels, other)
		cfs = append(cfs, "")
	}
	subj := widget.NewRadioGroup(labels, func(s string) {
		for i, l := range labels {
			if l == s {
				u.subject = cfs[i]
			}
		}
		u.flow.Touch()
	})
	subj.Required = true
	for i, cf := range cfs {
		if cf == u.subject && cf != "" {
			subj.Selected = labels[i]
		}
	}
	if u.subject == "" && v.Mode == kiosk.Operator {
		subj.Selected = other
	}
	var typeLabels []string
	byLabel := map[string]certificate.Type{}
	var sel []string
	for _, t := range v.Types {
		l := u.typeLabel(v, t)
		typeLabels = append(typeLabels, l)
		byLabel[l] = t
		if u.types[t] {
			sel = append(sel, l)
		}
	}
	// The date field shows while a historical type is ticked: only those
	// take one (certificate.CheckDate).
	atBox := container.NewVBox(widget.NewLabel(u.t(v, "choose_at")), u.at)
	u.atBox = atBox
	showAt := func() {
		for t := range u.types {
			if t.Historical() {
				atBox.Show()
				return
			}
		}
		atBox.Hide()
	}
	types := widget.NewCheckGroup(typeLabels, func(s []string) {
		u.types = map[certificate.Type]bool{}
		for _, l := range s {
			u.types[byLabel[l]] = true
		}
		showAt()
		u.flow.Touch()
	})
	types.Selected = sel
	showAt()
	// Purpose: bollo, or an exemption from ANPR table 39.
	var exLabels []string
	for _, r := range v.Exempt {
		exLabels = append(exLabels, fmt.Sprintf("%d · %s", r.Code, r.Label))
	}
	exSel := widget.NewSelect(exLabels, func(s string) {
		code, _, _ := strings.Cut(s, " ")
		u.exCode, _ = strconv.Atoi(code)
	})
	for _, l := range exLabels {
		if strings.HasPrefix(l, strconv.Itoa(u.exCode)+" ") {
			exSel.Selected = l
		}
	}
	purposes := []string{u.t(v, "purpose_bollo"), u.t(v, "purpose_exempt")}
	if v.Mode == kiosk.Operator {
		// Only a shop's counter sells and applies a marca da bollo; a
		// self-service kiosk pays the bollo virtually.
		purposes = append(purposes, u.t(v, "purpose_contrassegno"))
	}
	exBox := container.NewVBox(widget.NewLabel(u.t(v, "exemption_code")), exSel, widget.NewLabel(u.t(v, "exemption_text")), u.exText)
	marcaBox := container.NewVBox(widget.NewLabel(u.t(v, "contrassegno_label")), u.marca)
	show := func() {
		exBox.Hidden = !u.exempt
		marcaBox.Hidden = !u.withMarca
		exBox.Refresh()
		marcaBox.Refresh()
	}
	show()
	purpose := widget.NewRadioGroup(purposes, func(s string) {
		u.exempt = s == purposes[1]
		u.withMarca = len(purposes) > 2 && s == purposes[2]
		show()
	})
	purpose.Required = true
	purpose.Selected = purposes[0]
	switch {
	case u.exempt:
		purpose.Selected = purposes[1]
	case u.withMarca && len(purposes) > 2:
		purpose.Selected = purposes[2]
	}
	// Destination of use (ANPR's paEstera): its wording replaces the art.
	// 40 sentence on the certificate.
	var useLabels []string
	byUse := map[string]certificate.Use{}
	for _, us := range certificate.Uses() {
		l := u.t(v, "use_"+us.String())
		useLabels = append(useLabels, l)
		byUse[l] = us
	}
	useSel := widget.NewSelect(useLabels, func(s string) { u.use = byUse[s] })
	useSel.Selected = u.t(v, "use_"+u.use.String())
	next := big(u.t(v, "choose_button"), func() {
		c := kiosk.Choice{SubjectCF: u.subject}
		if c.SubjectCF == "" {
			c.SubjectCF = u.otherCF.Text
		}
		for _, t := range v.Types {
			if u.types[t] {
				c.Types = append(c.Types, t)
			}
		}
		if u.exempt {
			c.Exemption = fees.Exemption{Code: u.exCode, Text: strings.TrimSpace(u.exText.Text)}
		}
		if u.withMarca && v.Mode == kiosk.Operator {
			c.Contrassegno = u.marca.Text
		}
		c.Use = string(u.use)
		if atBox.Visible() {
			c.At = strings.TrimSpace(u.at.Text)
		}
		u.run(func(context.Context) error { return u.flow.Choose(c) })
	})
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	u.busy(v, next, back)
	left := container.NewVBox(widget.NewLabelWithStyle(u.t(v, "choose_subject"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), subj)
	if v.Mode == kiosk.Operator {
		left.Add(u.otherCF)
	}
	left.Add(widget.NewLabelWithStyle(u.t(v, "choose_purpose"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	left.Add(purpose)
	left.Add(exBox)
	left.Add(marcaBox)
	right := container.NewVBox(widget.NewLabelWithStyle(u.t(v, "choose_types"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), types, atBox,
		widget.NewLabelWithStyle(u.t(v, "choose_use"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), useSel)
	return container.NewBorder(hello, container.NewHBox(back, u.accessLogButton(v), layout.NewSpacer(), next), nil, nil,
		container.NewGridWithColumns(2, container.NewScroll(left), container.NewScroll(right)))
}

// feeLabel is a fee line in the screen's language: the kind's name, or the
// hub's own label for a kind this kiosk does not know.
func (u *UI) feeLabel(v kiosk.View, l fees.Line) string {
	if u.cat.Has(v.Lang, "fee_"+string(l.Kind)) {
		return u.t(v, "fee_"+string(l.Kind))
	}
	return l.Label
}

func (u *UI) amount(v kiosk.View, l fees.Line) string {
	if l.Cents == 0 {
		return u.t(v, "fee_exempt")
	}
	return fees.Euro(l.Cents)
}

func (u *UI) feeTable(v kiosk.View, lines []fees.Line, total int64) fyne.CanvasObject {
	g := container.New(layout.NewFormLayout())
	for _, l := range lines {
		g.Add(widget.NewLabel(u.feeLabel(v, l)))
		g.Add(widget.NewLabelWithStyle(u.amount(v, l), fyne.TextAlignTrailing, fyne.TextStyle{Monospace: true}))
	}
	g.Add(widget.NewLabelWithStyle(u.t(v, "review_total"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	tot := widget.NewLabelWithStyle(fees.Euro(total), fyne.TextAlignTrailing, fyne.TextStyle{Bold: true, Monospace: true})
	tot.SizeName = theme.SizeNameSubHeadingText
	g.Add(tot)
	return g
}

func (u *UI) reviewScreen(v kiosk.View) fyne.CanvasObject {
	var names []string
	for _, t := range v.Choice.Types {
		names = append(names, u.typeLabel(v, t))
	}
	info := widget.NewForm(
		widget.NewFormItem(u.t(v, "review_subject"), widget.NewLabel(v.Subject)),
		widget.NewFormItem(u.t(v, "review_certificates"), widget.NewLabel(strings.Join(names, "\n"))))
	if us := certificate.Use(v.Choice.Use); us != certificate.UseOrdinary {
		info.Append(u.t(v, "review_use"), widget.NewLabel(u.t(v, "use_"+us.String())))
	}
	if v.Choice.Contrassegno != "" {
		info.Append(u.t(v, "review_contrassegno"), widget.NewLabel(v.Choice.Contrassegno))
	}
	if v.Choice.At != "" {
		info.Append(u.t(v, "review_at"), widget.NewLabel(v.Choice.At))
	}
	confirm := big(u.t(v, "confirm_button"), func() { u.run(u.flow.Confirm) })
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	u.busy(v, confirm, back)
	body := container.NewVBox(info, widget.NewSeparator(), u.feeTable(v, v.Preview.Lines, v.Preview.TotalCents))
	if v.AgreementCached {
		note := widget.NewLabel(u.t(v, "review_fees_cached", v.AgreementAsOf.In(protocol.Rome).Format("02/01/2006 15:04"), age(v.AgreementAge)))
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		body.Add(note)
	}
	return container.NewBorder(heading(u.t(v, "review_title")), container.NewHBox(back, layout.NewSpacer(), confirm), nil, nil, body)
}

func (u *UI) workingScreen(v kiosk.View) fyne.CanvasObject {
	pb := widget.NewProgressBar()
	if v.Progress.Total > 0 {
		pb.Max = float64(v.Progress.Total)
		pb.SetValue(float64(v.Progress.Done))
	}
	stage := widget.NewLabelWithStyle(u.t(v, v.Progress.Key), fyne.TextAlignCenter, fyne.TextStyle{})
	return container.NewCenter(container.NewVBox(heading(u.t(v, "working_title")), container.NewGridWrap(fyne.NewSize(420, 36), pb), stage))
}

func (u *UI) doneScreen(v kiosk.View) fyne.CanvasObject {
	nextLabel := u.t(v, "next_button")
	if v.Mode == kiosk.SelfService {
		nextLabel = u.t(v, "finish_button")
	}
	next := big(nextLabel, func() { u.flow.Next() })
	if v.Result == nil {
		return container.NewCenter(next)
	}
	if v.Result.Issued == nil {
		claim := heading(u.t(v, "done_claim", v.Result.Claim))
		msg := widget.NewLabel(u.t(v, "done_queued"))
		msg.Wrapping = fyne.TextWrapWord
		give := widget.NewLabel(u.t(v, "done_claim_printed"))
		give.Wrapping = fyne.TextWrapWord
		reprint := widget.NewButtonWithIcon(u.t(v, "reprint_button"), theme.DocumentPrintIcon(), func() { u.run(u.flow.Reprint) })
		u.busy(v, reprint, next)
		return container.NewBorder(heading(u.t(v, "done_queued_title")), container.NewHBox(reprint, layout.NewSpacer(), next), nil, nil,
			container.NewVBox(msg, claim, give))
	}
	is := v.Result.Issued
	reprint := widget.NewButtonWithIcon(u.t(v, "reprint_button"), theme.DocumentPrintIcon(), func() { u.run(u.flow.Reprint) })
	u.busy(v, reprint, next)
	prot := widget.NewLabelWithStyle(u.t(v, "done_protocol", is.Protocol), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	prot.SizeName = theme.SizeNameSubHeadingText
	title := widget.NewLabel(is.Title)
	title.Wrapping = fyne.TextWrapWord
	return container.NewBorder(heading(u.t(v, "done_title")), container.NewHBox(reprint, layout.NewSpacer(), next), nil, nil,
		container.NewVBox(prot, title, widget.NewLabel(v.Subject), widget.NewSeparator(), u.feeTable(v, is.Fees, is.TotalCents)))
}

func (u *UI) summaryScreen(v kiosk.View) fyne.CanvasObject {
	s := v.Summary
	day := s.Day.In(protocol.Rome).Format("02/01/2006")
	f := container.New(layout.NewFormLayout())
	row := func(label, value string, bold bool) {
		f.Add(widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: bold}))
		f.Add(widget.NewLabelWithStyle(value, fyne.TextAlignTrailing, fyne.TextStyle{Bold: bold, Monospace: true}))
	}
	row(u.t(v, "summary_transactions"), strconv.Itoa(s.Transactions), false)
	row(u.t(v, "summary_certificates"), strconv.Itoa(s.Certificates), false)
	for _, t := range s.TypesSorted() {
		row("   "+u.typeLabel(v, certificate.Type(t)), strconv.Itoa(s.ByType[t]), false)
	}
	if s.Queued > 0 {
		row(u.t(v, "summary_queued"), strconv.Itoa(s.Queued), false)
	}
	if s.Refused > 0 {
		row(u.t(v, "summary_refused"), fmt.Sprintf("%d · %s", s.Refused, fees.Euro(s.RefusedCents)), false)
	}
	row(u.t(v, "summary_collected"), fees.Euro(s.Collected), true)
	if s.QueuedCents > 0 {
		row("   "+u.t(v, "summary_queued_cents"), fees.Euro(s.QueuedCents), false)
	}
	row(u.t(v, "summary_state"), fees.Euro(s.State), false)
	row(u.t(v, "summary_city"), fees.Euro(s.City), false)
	row(u.t(v, "summary_shop"), fees.Euro(s.Shop), false)
	if s.Contrassegno > 0 {
		row(u.t(v, "summary_contrassegno"), fees.Euro(s.Contrassegno), false)
	}
	if len(s.Protocols) > 0 {
		prot := widget.NewLabel(strings.Join(s.Protocols, ", "))
		prot.Wrapping = fyne.TextWrapWord
		f.Add(widget.NewLabel(u.t(v, "summary_protocols")))
		f.Add(prot)
	}
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	return container.NewBorder(heading(u.t(v, "summary_title", day)), container.NewHBox(back), nil, nil, container.NewVScroll(f))
}

// claimScreen tells the operator what became of a returning citizen's
// request that could not be printed now: still queued, refused and why, or
// issued without a copy this kiosk can fetch.
func (u *UI) claimScreen(v kiosk.View) fyne.CanvasObject {
	c := v.Claimed
	when := c.Queued.In(protocol.Rome).Format("02/01/2006 15:04")
	var lines []string
	switch c.State {
	case kiosk.ClaimQueued:
		lines = append(lines, u.t(v, "claim_queued", when))
		if c.Attempts > 0 {
			lines = append(lines, u.t(v, "claim_attempts", c.Attempts, c.LastError))
		}
	case kiosk.ClaimRefused:
		why := c.Message
		if why == "" {
			why = c.Reason
		}
		lines = append(lines, u.t(v, "claim_refused", when, why, fees.Euro(c.AmountCents)))
	default:
		prot := ""
		if c.Issued != nil {
			prot = c.Issued.Protocol
		}
		lines = append(lines, u.t(v, "claim_issued_no_copy", prot))
	}
	body := container.NewVBox()
	for _, l := range lines {
		lab := widget.NewLabel(l)
		lab.Wrapping = fyne.TextWrapWord
		body.Add(lab)
	}
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	return container.NewBorder(heading(u.t(v, "claim_title", c.Code)), container.NewHBox(back), nil, nil, body)
}

// placesButton puts the directory's button beside the others when the
// kiosk has a directory.
func (u *UI) placesButton(v kiosk.View, others ...fyne.CanvasObject) []fyne.CanvasObject {
	if !v.HasPlaces {
		return others
	}
	b := widget.NewButtonWithIcon(u.t(v, "places_button"), theme.SearchIcon(), func() { u.run(u.flow.ShowPlaces) })
	u.busy(v, b)
	return append(others, b)
}

// placesScreen lists the nearest points of service, saying how old the
// list is when it is the kept copy.
func (u *UI) placesScreen(v kiosk.View) fyne.CanvasObject {
	d := v.Places
	list := container.NewVBox()
	if d.Cached {
		note := widget.NewLabel(u.t(v, "places_cached", d.Fetched.In(protocol.Rome).Format("02/01/2006 15:04"), age(v.PlacesAge)))
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		list.Add(note)
	}
	for _, p := range d.Places {
		state := u.t(v, "places_closed")
		if p.Open {
			state = u.t(v, "places_open")
		}
		name := widget.NewLabelWithStyle(fmt.Sprintf("%s · %s", p.Name, state), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		detail := fmt.Sprintf("%s · %s · %d m", p.Category, p.Address, p.DistanceM)
		if p.Transit != "" {
			detail += " · " + p.Transit
		}
		if len(p.Spans) > 0 {
			detail += " · " + u.t(v, "places_today", strings.Join(p.Spans, ", "))
		}
		dl := widget.NewLabel(detail)
		dl.Wrapping = fyne.TextWrapWord
		list.Add(name)
		list.Add(dl)
	}
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	return container.NewBorder(heading(u.t(v, "places_title")), container.NewHBox(back), nil, nil, container.NewVScroll(list))
}

// age says how old a copy is, in the units an operator reads at a glance.
func age(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
