package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/sportello/sportello/internal/kiosk"
)

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
	// A request queued while the hub was away is collected here.
	collect := widget.NewButtonWithIcon(u.t(v, "collect_button"), theme.DocumentPrintIcon(), func() { u.flow.StartCollect() })
	u.busy(v, collect)
	box.Add(collect)
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
	u.staffPIN.SetPlaceHolder(u.t(v, "cie_pin_placeholder"))
	login := func() {
		pin := u.staffPIN.Text
		u.staffPIN.SetText("")
		u.run(func(ctx context.Context) error { return u.flow.LoginCard(ctx, pin) })
	}
	u.staffPIN.OnSubmitted = func(string) { login() }
	btn := big(u.t(v, "login_button"), login)
	u.clerkCF.SetPlaceHolder(u.t(v, "cf_placeholder"))
	u.clerkTOTP.SetPlaceHolder(u.t(v, "login_totp_placeholder"))
	pwLogin := func() {
		cf, pw, code := u.clerkCF.Text, u.clerkPass.Text, u.clerkTOTP.Text
		u.clerkPass.SetText("")
		u.clerkTOTP.SetText("")
		u.run(func(ctx context.Context) error { return u.flow.LoginPassword(ctx, cf, pw, code) })
	}
	u.onEnter(pwLogin, u.clerkCF, u.clerkPass, u.clerkTOTP)
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
	u.cfEntry.SetPlaceHolder(u.t(v, "cf_placeholder"))
	u.docEntry.SetPlaceHolder(u.t(v, "identify_document_placeholder"))
	identify := func() {
		cf, doc := u.cfEntry.Text, u.docEntry.Text
		u.run(func(ctx context.Context) error { return u.flow.IdentifyByCF(ctx, cf, doc) })
	}
	u.onEnter(identify, u.cfEntry, u.docEntry)
	ident := widget.NewButton(u.t(v, "identify_button"), identify)
	summary := widget.NewButtonWithIcon(u.t(v, "summary_button"), theme.ListIcon(), func() { u.run(func(context.Context) error { return u.flow.ShowSummary() }) })
	redeem := func() {
		code := u.claimCode.Text
		u.run(func(ctx context.Context) error { return u.flow.Redeem(ctx, code) })
	}
	u.claimCode.SetPlaceHolder(u.t(v, "identify_claim_placeholder"))
	u.claimCode.OnSubmitted = func(string) { redeem() }
	claim := widget.NewButtonWithIcon(u.t(v, "claim_button"), theme.DocumentPrintIcon(), redeem)
	u.busy(v, tap, ident, summary, claim)
	form := widget.NewForm(widget.NewFormItem(u.t(v, "identify_cf"), u.cfEntry), widget.NewFormItem(u.t(v, "identify_document"), u.docEntry))
	return container.NewVBox(heading(u.t(v, "identify_title")),
		widget.NewLabel(u.t(v, "identify_tap")), tap, widget.NewSeparator(),
		widget.NewLabel(u.t(v, "identify_or")), form, container.NewHBox(ident),
		widget.NewSeparator(), widget.NewLabel(u.t(v, "identify_claim")),
		container.NewBorder(nil, nil, nil, claim, u.claimCode),
		layout.NewSpacer(), container.NewHBox(u.identifyButtons(v, summary)...))
}

// identifyButtons are the identification screen's bottom row: the day's
// summary, the till payments when the counter confirms them, the
// directory.
func (u *UI) identifyButtons(v kiosk.View, summary *widget.Button) []fyne.CanvasObject {
	bs := u.placesButton(v, summary)
	if v.HasTill {
		bs = append([]fyne.CanvasObject{bs[0], u.tillButton(v)}, bs[1:]...)
	}
	return bs
}

func (u *UI) pinScreen(v kiosk.View) fyne.CanvasObject {
	submit := func() {
		pin := u.cardPIN.Text
		u.cardPIN.SetText("")
		u.run(func(ctx context.Context) error { return u.flow.EnterPIN(ctx, pin) })
	}
	u.cardPIN.OnSubmitted = func(string) { submit() }
	u.cardPIN.SetPlaceHolder(u.t(v, "cie_pin_placeholder"))
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
