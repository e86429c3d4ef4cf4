package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/request"
)

// reqForm is the form of a new request. Its widgets are made when the
// request screen is entered and kept across its redraws, so a refusal or
// a status poll leaves what the citizen typed and chose.
type reqForm struct {
	lang                             kiosk.Lang
	kind, what                       *widget.RadioGroup
	street, number, internal         *widget.Entry
	date, purpose                    *widget.Entry
	statement                        *widget.Check
	kindOf                           map[string]request.Kind
	whatOf                           map[string]string
	address, historical, historyDate *fyne.Container
}

func (u *UI) newReqForm(v kiosk.View) *reqForm {
	r := &reqForm{lang: v.Lang, street: widget.NewEntry(), number: widget.NewEntry(), internal: widget.NewEntry(),
		date: widget.NewEntry(), purpose: widget.NewEntry(), kindOf: map[string]request.Kind{}, whatOf: map[string]string{}}
	r.date.SetPlaceHolder(u.t(v, "requests_date_placeholder"))
	// A check's label does not wrap: the statement is a label above it.
	r.statement = widget.NewCheck(u.t(v, "requests_statement_check"), nil)
	var kinds, whats []string
	for _, k := range kiosk.KioskKinds() {
		l := u.t(v, "request_kind_"+string(k))
		r.kindOf[l] = k
		kinds = append(kinds, l)
	}
	for _, w := range []string{kiosk.HistoricalResidence, kiosk.HistoricalFamily} {
		l := u.t(v, "requests_what_"+w)
		r.whatOf[l] = w
		whats = append(whats, l)
	}
	label := func(key string) *widget.Label {
		l := widget.NewLabel(u.t(v, key))
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	r.address = container.NewVBox(label("requests_street"), r.street, label("requests_number"), r.number,
		label("requests_internal"), r.internal, label("requests_statement"), r.statement)
	r.historyDate = container.NewVBox(label("requests_date"), r.date)
	r.what = widget.NewRadioGroup(whats, func(s string) { r.show() })
	r.what.Required = true
	r.what.SetSelected(whats[0])
	r.historical = container.NewVBox(label("requests_what"), r.what, r.historyDate, label("requests_purpose"), r.purpose)
	r.kind = widget.NewRadioGroup(kinds, func(string) { r.show() })
	r.kind.Required = true
	r.kind.SetSelected(kinds[0])
	r.show()
	return r
}

// show shows the fields of the kind chosen, and the date only for the
// family as it was.
func (r *reqForm) show() {
	if r.address == nil || r.historical == nil {
		return // still being made
	}
	k := r.kindOf[r.kind.Selected]
	vis := func(c *fyne.Container, on bool) {
		if on {
			c.Show()
		} else {
			c.Hide()
		}
	}
	vis(r.address, k == request.AddressChange)
	vis(r.historical, k == request.Historical)
	vis(r.historyDate, r.whatOf[r.what.Selected] == kiosk.HistoricalFamily)
}

// draft is what the form says.
func (r *reqForm) draft() kiosk.RequestDraft {
	return kiosk.RequestDraft{Kind: r.kindOf[r.kind.Selected], Street: r.street.Text, Number: r.number.Text, Internal: r.internal.Text,
		What: r.whatOf[r.what.Selected], Date: r.date.Text, Purpose: r.purpose.Text, Statement: r.statement.Checked}
}

// requestsButton opens the form of a new request.
func (u *UI) requestsButton(v kiosk.View) *widget.Button {
	b := widget.NewButtonWithIcon(u.t(v, "requests_button"), theme.DocumentCreateIcon(), func() { u.run(u.flow.ShowRequests) })
	u.busy(v, b)
	return b
}

// requestsScreen is the form of a new request: the kinds the kiosk files
// (and which it does not, and why), then the chosen kind's fields.
func (u *UI) requestsScreen(v kiosk.View) fyne.CanvasObject {
	if u.req == nil || u.req.lang != v.Lang {
		u.req = u.newReqForm(v)
	}
	form := u.req
	note := widget.NewLabel(u.t(v, "requests_not_here"))
	note.Wrapping = fyne.TextWrapWord
	left := container.NewVBox(widget.NewLabelWithStyle(u.t(v, "requests_kind"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), form.kind, note)
	right := container.NewVBox(form.address, form.historical)
	file := big(u.t(v, "requests_file_button"), func() {
		d := form.draft()
		u.run(func(ctx context.Context) error { return u.flow.FileRequest(ctx, d) })
	})
	u.busy(v, file)
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.CloseRecords() })
	u.busy(v, back)
	return container.NewBorder(heading(u.t(v, "requests_title")), container.NewHBox(back, layout.NewSpacer(), file), nil, nil,
		container.NewGridWithColumns(2, container.NewVScroll(left), container.NewVScroll(right)))
}

// requestFiledScreen is the receipt of the request just filed: its
// protocol number, date and status.
func (u *UI) requestFiledScreen(v kiosk.View) fyne.CanvasObject {
	r := v.Filed
	if r == nil {
		return widget.NewLabel("")
	}
	proto := widget.NewLabelWithStyle(u.t(v, "requests_filed_protocol", r.Protocol, when(r.Filed)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title := widget.NewLabel(r.Title)
	title.Wrapping = fyne.TextWrapWord
	keep := widget.NewLabel(u.t(v, "requests_filed_receipt"))
	keep.Wrapping = fyne.TextWrapWord
	another := widget.NewButton(u.t(v, "requests_another"), func() { u.run(u.flow.ShowRequests) })
	u.busy(v, another)
	back := big(u.t(v, "back_button"), func() { u.flow.CloseRecords() })
	u.busy(v, back)
	return container.NewBorder(heading(u.t(v, "requests_filed_title")), container.NewHBox(another, layout.NewSpacer(), back), nil, nil,
		container.NewVScroll(container.NewVBox(title, proto, widget.NewLabel(u.t(v, "requests_filed_status", r.StatusText)), keep)))
}
