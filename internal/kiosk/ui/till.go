package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

// tillButton is the identification screen's way to the till payments
// waiting for the counter, with how many wait; the count follows the
// status poll in place (the body is not rebuilt for it).
func (u *UI) tillButton(v kiosk.View) *widget.Button {
	b := widget.NewButtonWithIcon(u.t(v, "till_button", v.Status.TillPending), theme.ConfirmIcon(), func() { u.run(u.flow.ShowTill) })
	set := func(v kiosk.View) {
		b.SetText(u.t(v, "till_button", v.Status.TillPending))
		imp := widget.MediumImportance
		if v.Status.TillPending > 0 {
			imp = widget.HighImportance
		}
		if b.Importance != imp {
			b.Importance = imp
			b.Refresh()
		}
	}
	set(v)
	u.onRefresh(set)
	u.busy(v, b)
	return b
}

// tillScreen lists the till payments of the shop's self-service kiosks
// waiting for the counter, what each pays for, and takes the code the
// citizen shows, typed or scanned (kiosk.Flow.ConfirmTill).
func (u *UI) tillScreen(v kiosk.View) fyne.CanvasObject {
	tl := v.Till
	confirm := func() {
		code := u.tillCode.Text
		u.tillCode.SetText("")
		u.run(func(ctx context.Context) error { return u.flow.ConfirmTill(ctx, code) })
	}
	u.tillCode.SetPlaceHolder(u.t(v, "till_code_placeholder"))
	u.tillCode.OnSubmitted = func(string) { confirm() }
	ok := big(u.t(v, "till_confirm_button"), confirm)
	back := widget.NewButton(u.t(v, "back_button"), func() { u.run(func(context.Context) error { return u.flow.CloseTill() }) })
	u.busy(v, ok, back)
	hint := widget.NewLabel(u.t(v, "till_hint"))
	hint.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(heading(u.t(v, "till_title")), hint)
	if tl != nil && tl.Confirmed != nil {
		done := widget.NewLabel(u.t(v, "till_confirmed", spaced(tl.Confirmed.Code), fees.Euro(tl.Confirmed.AmountCents), u.paidFor(v, tl.Confirmed.Types)))
		done.Wrapping = fyne.TextWrapWord
		done.Importance = widget.SuccessImportance
		done.TextStyle.Bold = true
		top.Add(done)
	}
	top.Add(container.NewBorder(nil, nil, widget.NewLabelWithStyle(u.t(v, "till_code"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), ok, u.tillCode))
	list := container.NewVBox()
	if tl == nil || len(tl.Pending) == 0 {
		list.Add(widget.NewLabel(u.t(v, "till_empty")))
	} else {
		g := container.New(layout.NewFormLayout())
		for _, p := range tl.Pending {
			code := widget.NewLabelWithStyle(spaced(p.Code), fyne.TextAlignLeading, fyne.TextStyle{Bold: true, Monospace: true})
			// The hub's list names no one (hubapi pendingPayments): the code,
			// the amount and what is paid for are what the till needs.
			line := widget.NewLabel(u.t(v, "till_row", fees.Euro(p.AmountCents), u.paidFor(v, p.Types), p.Created.In(protocol.Rome).Format("15:04")))
			line.Wrapping = fyne.TextWrapWord
			g.Add(code)
			g.Add(line)
		}
		list.Add(g)
	}
	if tl != nil {
		list.Add(widget.NewLabelWithStyle(u.t(v, "till_checked", tl.Checked.In(protocol.Rome).Format("15:04")), fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
	}
	refresh := widget.NewButtonWithIcon(u.t(v, "till_refresh_button"), theme.ViewRefreshIcon(), func() { u.run(u.flow.ShowTill) })
	u.busy(v, refresh)
	return container.NewBorder(top, container.NewHBox(back, layout.NewSpacer(), refresh), nil, nil, container.NewVScroll(list))
}

// paidFor names the certificates a payment is for, in the screen's language.
func (u *UI) paidFor(v kiosk.View, types []string) string {
	var names []string
	for _, t := range types {
		names = append(names, u.typeLabel(v, certificate.Type(t)))
	}
	return strings.Join(names, ", ")
}

// spaced groups a code in threes, as the self-service kiosk shows it, so
// the clerk reads it back to the citizen easily.
func spaced(code string) string {
	var b strings.Builder
	for i, r := range []rune(code) {
		if i > 0 && i%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
