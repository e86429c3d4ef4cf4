package ui

import (
	"context"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/skip2/go-qrcode"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

// payScreen shows how to pay a self-service request (issue 15, item 4) and
// waits: for the shop's till a big short code to tell the operator; for
// pagoPA the notice as an avviso di pagamento gives it (notice number,
// creditor's codice fiscale, amount) and its QR, which banking apps and
// app IO read. The flow polls the hub; the screen changes once it is paid.
func (u *UI) payScreen(v kiosk.View) fyne.CanvasObject {
	p := v.Payment
	if p == nil {
		return widget.NewLabel(u.t(v, "pay_waiting"))
	}
	amount := widget.NewLabelWithStyle(u.t(v, "pay_amount", fees.Euro(p.AmountCents)), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	amount.SizeName = theme.SizeNameSubHeadingText
	var how fyne.CanvasObject
	switch p.Method {
	case api.PayAtTill:
		say := widget.NewLabelWithStyle(u.t(v, "pay_till"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		say.Wrapping = fyne.TextWrapWord
		say.SizeName = theme.SizeNameSubHeadingText
		// Big enough to read from a step away and to say aloud.
		code := canvas.NewText(p.Code, u.theme.Color(theme.ColorNameForeground, theme.VariantLight))
		code.TextSize = 72 * u.theme.Scale
		code.TextStyle = fyne.TextStyle{Bold: true, Monospace: true}
		code.Alignment = fyne.TextAlignCenter
		how = container.NewVBox(say, container.NewCenter(code))
	default:
		say := widget.NewLabelWithStyle(u.t(v, "pay_pagopa"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		say.Wrapping = fyne.TextWrapWord
		say.SizeName = theme.SizeNameSubHeadingText
		scan := widget.NewLabel(u.t(v, "pay_pagopa_scan"))
		scan.Wrapping = fyne.TextWrapWord
		notice := widget.NewLabelWithStyle(u.t(v, "pay_notice", p.NoticeNumber), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		creditor := widget.NewLabelWithStyle(u.t(v, "pay_creditor", p.CreditorFiscalCode), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		fields := container.NewVBox(scan, notice, creditor)
		how = container.NewVBox(say, container.NewBorder(nil, nil, u.qr(p.QR), nil, fields))
	}
	items := []fyne.CanvasObject{amount, widget.NewSeparator(), how, widget.NewSeparator()}
	waiting := u.t(v, "pay_waiting")
	if p.State == api.PaymentPaid || p.State == api.PaymentUsed {
		waiting = u.t(v, "pay_paid")
	}
	wait := widget.NewLabelWithStyle(waiting, fyne.TextAlignCenter, fyne.TextStyle{})
	wait.Wrapping = fyne.TextWrapWord
	items = append(items, wait)
	if !p.Expires.IsZero() {
		exp := widget.NewLabelWithStyle(u.t(v, "pay_expires", p.Expires.In(protocol.Rome).Format("15:04")), fyne.TextAlignCenter, fyne.TextStyle{})
		items = append(items, exp)
	}
	cancel := widget.NewButtonWithIcon(u.t(v, "pay_cancel"), theme.CancelIcon(), func() { u.run(u.flow.CancelPayment) })
	u.busy(v, cancel)
	return container.NewBorder(heading(u.t(v, "pay_title")), container.NewHBox(cancel, layout.NewSpacer()), nil, nil,
		container.NewVBox(items...))
}

// qr is the pagoPA notice's QR, black on white whatever the palette, as a
// banking app's camera reads it best, with its quiet zone.
func (u *UI) qr(payload string) fyne.CanvasObject {
	const side = 220
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil || payload == "" {
		return layout.NewSpacer()
	}
	q.ForegroundColor, q.BackgroundColor = color.Black, color.White
	img := canvas.NewImageFromImage(q.Image(side))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScalePixels
	img.SetMinSize(fyne.NewSize(side, side))
	return container.NewGridWrap(fyne.NewSize(side, side), img)
}

// collectScreen is self-service's "Ritira con codice": the claim code
// typed or scanned (a QR reader types like a keyboard), then the same CIE.
func (u *UI) collectScreen(v kiosk.View) fyne.CanvasObject {
	back := widget.NewButton(u.t(v, "cancel_button"), func() { u.flow.Next() })
	if v.Claimed != nil {
		tap := widget.NewLabelWithStyle(u.t(v, "collect_tap"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
		tap.Wrapping = fyne.TextWrapWord
		tap.SizeName = theme.SizeNameSubHeadingText
		code := widget.NewLabelWithStyle(v.Claimed.Code, fyne.TextAlignCenter, fyne.TextStyle{Bold: true, Monospace: true})
		icon := widget.NewIcon(theme.AccountIcon())
		btn := big(u.t(v, "start_button"), func() { u.run(u.flow.TapCard) })
		u.busy(v, btn, back)
		return container.NewBorder(heading(u.t(v, "collect_title")), container.NewHBox(back), nil, nil,
			container.NewCenter(container.NewVBox(code, container.NewCenter(container.NewGridWrap(fyne.NewSize(96, 96), icon)), tap, btn)))
	}
	find := func() {
		c := u.claimCode.Text
		u.run(func(ctx context.Context) error { return u.flow.Collect(ctx, c) })
	}
	u.claimCode.SetPlaceHolder(u.t(v, "identify_claim_placeholder"))
	u.claimCode.OnSubmitted = func(string) { find() }
	hint := widget.NewLabel(u.t(v, "collect_hint"))
	hint.Wrapping = fyne.TextWrapWord
	btn := big(u.t(v, "collect_find"), find)
	u.busy(v, btn, back)
	return container.NewBorder(heading(u.t(v, "collect_title")), container.NewHBox(back), nil, nil,
		container.NewCenter(container.NewVBox(hint, container.NewGridWrap(fyne.NewSize(440, 56), u.claimCode), btn)))
}
