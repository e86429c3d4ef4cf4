package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/kiosk"
)

// suspendedScreen covers every step while the hub refuses this device as
// suspended: nothing can be issued, so nothing else is offered; the city's
// reason and whom to call are what the shop needs. It goes by itself when
// a status poll finds the device heard again.
func (u *UI) suspendedScreen(v kiosk.View) fyne.CanvasObject {
	icon := widget.NewIcon(theme.ErrorIcon())
	title := heading(u.t(v, "suspended_title"))
	title.Alignment = fyne.TextAlignCenter
	para := func(s string, style fyne.TextStyle) *widget.Label {
		l := widget.NewLabelWithStyle(s, fyne.TextAlignCenter, style)
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	reason := para(u.t(v, "suspended_no_reason"), fyne.TextStyle{})
	if v.Status.Notice != "" {
		reason = para(u.t(v, "suspended_reason", v.Status.Notice), fyne.TextStyle{Bold: true})
		reason.Importance = widget.DangerImportance
	}
	body := container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSize(96, 96), icon)),
		title,
		para(u.t(v, "suspended_body"), fyne.TextStyle{}),
		reason,
		para(u.t(v, "suspended_call"), fyne.TextStyle{}),
		widget.NewSeparator(),
		para(u.t(v, "suspended_waiting"), fyne.TextStyle{Italic: true}),
	)
	return container.NewBorder(nil, nil, layout.NewSpacer(), layout.NewSpacer(), container.NewCenter(container.NewGridWrap(fyne.NewSize(760, 520), body)))
}
