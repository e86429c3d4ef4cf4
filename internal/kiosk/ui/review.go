package ui

import (
	"fmt"
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
	if ex := v.Choice.Exemption; ex.Code != 0 {
		// The exemption chosen, by code and words, before the total it
		// makes (item 4 of issue 15); 99 adds the law the citizen named.
		words := fmt.Sprintf("%d · %s", ex.Code, u.exemptionLabel(v, ex.Code))
		if t := strings.TrimSpace(ex.Text); t != "" {
			words += ": " + t
		}
		l := widget.NewLabel(words)
		l.Wrapping = fyne.TextWrapWord
		info.Append(u.t(v, "review_exemption"), l)
	}
	if v.Choice.Contrassegno != "" {
		info.Append(u.t(v, "review_contrassegno"), widget.NewLabel(v.Choice.Contrassegno))
	}
	if v.Choice.At != "" {
		info.Append(u.t(v, "review_at"), widget.NewLabel(day(v.Choice.At)))
	}
	confirm := big(u.t(v, "confirm_button"), func() { u.run(u.flow.Confirm) })
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	u.busy(v, confirm, back)
	body := container.NewVBox(info, widget.NewSeparator(), u.feeTable(v, v.Preview.Lines, v.Preview.TotalCents))
	if v.AgreementCached {
		text := func(v kiosk.View) string {
			return u.t(v, "review_fees_cached", v.AgreementAsOf.In(protocol.Rome).Format("02/01/2006 15:04"), age(v.AgreementAge))
		}
		note := widget.NewLabel(text(v))
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		body.Add(note)
		u.onRefresh(func(v kiosk.View) { setText(note, text(v)) }) // the copy ages in place
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
		queued, printed := "done_queued", "done_claim_printed"
		if v.Person != nil && v.Person.Provisional != "" {
			// A new customer served offline: the certificate waits for
			// the Comune to confirm who they are (kiosk/offline.go).
			queued, printed = "done_queued_identity_"+v.Mode.Key(), "done_claim_printed_identity_"+v.Mode.Key()
		}
		msg := widget.NewLabel(u.t(v, queued))
		msg.Wrapping = fyne.TextWrapWord
		if v.Mode == kiosk.SelfService {
			printed = "done_claim_collect" // collected here with the card, paid then
			if v.Result.Paid {
				printed = "done_claim_collect_paid"
			}
		}
		give := widget.NewLabel(u.t(v, printed))
		give.Wrapping = fyne.TextWrapWord
		reprint := widget.NewButtonWithIcon(u.t(v, "reprint_button"), theme.DocumentPrintIcon(), func() { u.run(u.flow.Reprint) })
		u.busy(v, reprint, next)
		return container.NewBorder(heading(u.t(v, "done_queued_title")), container.NewHBox(reprint, layout.NewSpacer(), next), nil, nil,
			container.NewVBox(msg, claim, give))
	}
	is := v.Result.Issued
	reprint := widget.NewButtonWithIcon(u.t(v, "reprint_button"), theme.DocumentPrintIcon(), func() { u.run(u.flow.Reprint) })
	u.busy(v, reprint, next)
	buttons := container.NewHBox(reprint)
	if v.Mode == kiosk.Operator {
		// The receipt alone, marked COPIA (kiosk.Flow.ReprintReceipt).
		receiptOnly := widget.NewButtonWithIcon(u.t(v, "reprint_receipt_button"), theme.DocumentPrintIcon(), func() { u.run(u.flow.ReprintReceipt) })
		u.busy(v, receiptOnly)
		buttons.Add(receiptOnly)
	}
	prot := widget.NewLabelWithStyle(u.t(v, "done_protocol", is.Protocol), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	prot.SizeName = theme.SizeNameSubHeadingText
	title := widget.NewLabel(is.Title)
	title.Wrapping = fyne.TextWrapWord
	return container.NewBorder(heading(u.t(v, "done_title")), container.NewHBox(buttons, layout.NewSpacer(), next), nil, nil,
		container.NewVBox(prot, title, widget.NewLabel(v.Subject), widget.NewSeparator(), u.feeTable(v, is.Fees, is.TotalCents)))
}
