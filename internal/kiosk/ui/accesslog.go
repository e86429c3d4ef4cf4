package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/accesslog/sheet"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

// accessLogButton opens the citizen's own access log from the choice
// screen ("Chi ha consultato i miei dati").
func (u *UI) accessLogButton(v kiosk.View) fyne.CanvasObject {
	b := widget.NewButtonWithIcon(u.t(v, "access_log_button"), theme.VisibilityIcon(), func() { u.run(u.flow.ShowAccessLog) })
	u.busy(v, b)
	return b
}

// accessLogScreen lists one page of the log: when, where (the shop or
// office by name, and the named clerk when recorded), what and why.
func (u *UI) accessLogScreen(v kiosk.View) fyne.CanvasObject {
	l := v.AccessLog
	list := container.NewVBox()
	period := widget.NewLabel(u.t(v, "access_log_period", day(l.From), day(l.To), l.Total))
	period.Wrapping = fyne.TextWrapWord
	list.Add(period)
	if len(l.Lines) == 0 {
		list.Add(widget.NewLabel(u.t(v, "access_log_empty")))
	}
	for _, ln := range l.Lines {
		kind := ln.Kind
		if u.cat.Has(v.Lang, "access_log_kind_"+ln.Kind) {
			kind = u.t(v, "access_log_kind_"+ln.Kind)
		}
		head := fmt.Sprintf("%s · %s · %s", ln.Time.In(protocol.Rome).Format("02/01/2006 15:04"), kind, ln.Place)
		if ln.Clerk != "" {
			head += " · " + u.t(v, "access_log_clerk", ln.Clerk)
		}
		title := widget.NewLabelWithStyle(head, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		title.Wrapping = fyne.TextWrapWord
		what := ln.What
		if ln.Reference != "" {
			what += " · " + u.t(v, "access_log_protocol", ln.Reference)
		}
		detail := widget.NewLabel(what + "\n" + u.t(v, "access_log_why", ln.Why))
		detail.Wrapping = fyne.TextWrapWord
		list.Add(title)
		list.Add(detail)
	}
	closeB := widget.NewButton(u.t(v, "access_log_close"), func() { u.flow.CloseAccessLog() })
	newer := widget.NewButton(u.t(v, "access_log_newer"), func() {
		u.run(func(ctx context.Context) error { return u.flow.AccessLogPage(ctx, l.Page-1) })
	})
	older := widget.NewButton(u.t(v, "access_log_older"), func() {
		u.run(func(ctx context.Context) error { return u.flow.AccessLogPage(ctx, l.Page+1) })
	})
	if l.Page <= 1 {
		newer.Disable()
	}
	if l.Page >= l.Pages {
		older.Disable()
	}
	u.busy(v, closeB)
	bottom := []fyne.CanvasObject{closeB, layout.NewSpacer(), newer, widget.NewLabel(u.t(v, "access_log_page", l.Page, l.Pages)), older}
	if v.Mode == kiosk.Operator {
		// At a counter the clerk prints the whole year at the citizen's
		// request; a self-service kiosk prints nothing a passer-by could
		// pick up.
		print := widget.NewButtonWithIcon(u.t(v, "access_log_print"), theme.DocumentPrintIcon(), func() {
			u.run(func(ctx context.Context) error {
				return u.flow.PrintAccessLog(ctx, func(l *kiosk.AccessLog, lang kiosk.Lang, at time.Time) ([]byte, error) {
					return sheet.Render(l, string(lang), at)
				})
			})
		})
		u.busy(v, print)
		bottom = append(bottom, print)
	}
	return container.NewBorder(heading(u.t(v, "access_log_title", l.Name)), container.NewHBox(bottom...), nil, nil, container.NewVScroll(list))
}

// day shows a YYYY-MM-DD date as Italian screens write it.
func day(s string) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	return t.Format("02/01/2006")
}
