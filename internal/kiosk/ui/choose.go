package ui

import (
	"context"
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
)

func (u *UI) typeLabel(v kiosk.View, t certificate.Type) string { return u.t(v, "type_"+string(t)) }

func (u *UI) chooseScreen(v kiosk.View) fyne.CanvasObject {
	p := v.Person
	var hello fyne.CanvasObject = heading(u.t(v, v.Greeting, p.Name()))
	// Subject: oneself, the family, and at the counter anyone else by CF.
	selfKey := "choose_self"
	if v.Mode == kiosk.Operator {
		selfKey = "choose_requester"
	}
	name := p.Name()
	provisional := p.Provisional != ""
	if provisional {
		// Identified by the kiosk alone while the hub is away: for
		// themselves only, and the screen says why (kiosk/offline.go).
		name = p.ProvisionalLabel()
		note := widget.NewLabel(u.t(v, "choose_provisional_"+v.Mode.Key()))
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		hello = container.NewVBox(heading(u.t(v, "choose_hello_provisional")), note)
	}
	labels := []string{u.t(v, selfKey, name)}
	cfs := []string{p.CF}
	for _, m := range p.Family {
		labels = append(labels, fmt.Sprintf("%s (%s)", m.Name(), day(m.BirthDate)))
		cfs = append(cfs, m.CF)
	}
	other := "—"
	if v.Mode == kiosk.Operator && !provisional {
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
	switch {
	case provisional:
		subj.Selected = labels[0]
	case u.subject == "" && v.Mode == kiosk.Operator:
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
	u.at.SetPlaceHolder(u.t(v, "choose_at_placeholder"))
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
	choose := func() {
		c := kiosk.Choice{SubjectCF: u.subject}
		if provisional {
			c.SubjectCF = p.CF
		} else if c.SubjectCF == "" {
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
	}
	next := big(u.t(v, "choose_button"), choose)
	// Enter in a typed field goes on, as the button does; not in the
	// contrassegno's, which a barcode reader fills ending with Enter,
	// before the operator has finished choosing.
	for _, e := range []*widget.Entry{u.otherCF, u.at, u.exText} {
		e.OnSubmitted = func(string) {
			if !u.flow.View().Busy {
				choose()
			}
		}
	}
	u.otherCF.SetPlaceHolder(u.t(v, "cf_placeholder"))
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	u.busy(v, next, back)
	left := container.NewVBox(widget.NewLabelWithStyle(u.t(v, "choose_subject"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), subj)
	if v.Mode == kiosk.Operator && !provisional {
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
