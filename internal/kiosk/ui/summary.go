package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

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
	// What was taken by each method (kiosk.Summary.ByMethod).
	row(u.t(v, "summary_by_method"), "", false)
	row("   "+u.t(v, "summary_method_counter"), fees.Euro(s.ByMethod[kiosk.MethodCounter]), false)
	if v.HasTill || s.TillPayments > 0 {
		row("   "+u.t(v, "summary_method_till", s.TillPayments), fees.Euro(s.ByMethod[kiosk.MethodTill]), false)
	}
	if s.ByMethod[kiosk.MethodPagoPA] > 0 {
		row("   "+u.t(v, "summary_method_pagopa"), fees.Euro(s.ByMethod[kiosk.MethodPagoPA]), false)
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
		// The catalogue's sentence for the hub's reason, never its
		// English message (issue 15 item 3).
		why := u.cat.HubReason(v.Lang, c.Reason, c.Message)
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
