package ui

import (
	"context"
	"fmt"
	"slices"
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
	// The certificates: only those the hub said at the look-up this
	// subject may have, one line for each missing one saying why; a box
	// whose type cannot share a certificate with what is ticked is
	// disabled, saying with what. Both follow the subject chosen without
	// a rebuild of the screen (fillTypes).
	typesBox, missingBox := container.NewVBox(), container.NewVBox()
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
	fillTypes := func() { u.fillTypes(v, typesBox, missingBox, showAt) }
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
		fillTypes()
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
	fillTypes()
	// Purpose: bollo, or an exemption from ANPR table 39. A use that must
	// be exempt (certificate.Use.NeedsExemption) leaves only the
	// exemption, and only the codes that go with it
	// (certificate.Use.AllowsExemption): what the hub would refuse
	// together cannot be chosen together.
	exSel := widget.NewSelect(nil, func(s string) {
		code, _, _ := strings.Cut(s, " ")
		u.exCode, _ = strconv.Atoi(code)
	})
	exSel.PlaceHolder = u.t(v, "exemption_choose")
	fillEx := func() {
		var opts []string
		sel := ""
		for _, r := range v.Exempt {
			if !u.use.AllowsExemption(r.Code) {
				continue
			}
			l := fmt.Sprintf("%d · %s", r.Code, u.exemptionLabel(v, r.Code))
			opts = append(opts, l)
			if r.Code == u.exCode {
				sel = l
			}
		}
		if sel == "" {
			u.exCode = 0
		}
		exSel.Options, exSel.Selected = opts, sel
		exSel.Refresh()
	}
	fillEx()
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
	purpose := widget.NewRadioGroup(purposes, func(s string) {
		u.exempt = s == purposes[1]
		u.withMarca = len(purposes) > 2 && s == purposes[2]
		show()
	})
	purpose.Required = true
	useHint := widget.NewLabelWithStyle(u.t(v, "choose_use_needs_exemption"), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	useHint.Wrapping = fyne.TextWrapWord
	applyUse := func() {
		purpose.Options = purposes
		if u.use.NeedsExemption() {
			u.exempt, u.withMarca = true, false
			purpose.Options = purposes[1:2]
			useHint.Show()
		} else {
			useHint.Hide()
		}
		purpose.Selected = purposes[0]
		switch {
		case u.exempt:
			purpose.Selected = purposes[1]
		case u.withMarca && len(purposes) > 2:
			purpose.Selected = purposes[2]
		}
		purpose.Refresh()
		fillEx()
		show()
	}
	applyUse()
	// Destination of use (ANPR's paEstera): its wording replaces the art.
	// 40 sentence on the certificate.
	var useLabels []string
	byUse := map[string]certificate.Use{}
	for _, us := range certificate.Uses() {
		l := u.t(v, "use_"+us.String())
		useLabels = append(useLabels, l)
		byUse[l] = us
	}
	useSel := widget.NewSelect(useLabels, func(s string) {
		u.use = byUse[s]
		applyUse()
		u.flow.Touch()
	})
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
			// Exempt with no reason chosen is refused by Choose: the
			// cost is not shown until the reason is.
			c.Exempt = true
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
	// The use comes before the bollo: it decides which ways of paying it
	// (and which exemptions) can be chosen.
	left.Add(widget.NewLabelWithStyle(u.t(v, "choose_use"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	left.Add(useSel)
	left.Add(useHint)
	left.Add(widget.NewLabelWithStyle(u.t(v, "choose_purpose"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	left.Add(purpose)
	left.Add(exBox)
	left.Add(marcaBox)
	right := container.NewVBox(widget.NewLabelWithStyle(u.t(v, "choose_types"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), typesBox, atBox, missingBox)
	// The citizen's own records have a row of their own: beside the
	// navigation they would not fit at the largest text size.
	records := container.NewHBox(u.accessLogButton(v), u.dossierButton(v))
	return container.NewBorder(hello, container.NewVBox(records, container.NewHBox(back, layout.NewSpacer(), next)), nil, nil,
		container.NewGridWithColumns(2, container.NewVScroll(left), container.NewVScroll(right)))
}

// fillTypes puts into box a box for each type the chosen subject may have
// (kiosk.Person.EligibilityOf; every type when the hub did not say), and
// into missing one line for each type they may not, with the hub's reason
// from the catalogue. A box that cannot be ticked with what is ticked
// (certificate.CheckCombination, the hub's own rule) is disabled and says
// with which. Ticks the subject may not have are dropped. It runs on the UI
// goroutine, when the screen is built and when the subject changes.
func (u *UI) fillTypes(v kiosk.View, box, missing *fyne.Container, showAt func()) {
	elig := v.Person.EligibilityOf(u.subject)
	box.Objects, missing.Objects = nil, nil
	var offered []certificate.Type
	for _, t := range v.Types {
		why := elig.Why(t)
		if why == "" {
			offered = append(offered, t)
			continue
		}
		delete(u.types, t)
		l := widget.NewLabel(u.typeLabel(v, t) + " — " + u.t(v, "hub_"+why))
		l.Wrapping = fyne.TextWrapWord
		missing.Add(l)
	}
	// Types outside the shop's agreement, which this kiosk does not list:
	// one line naming them all.
	var notHere []string
	for _, m := range elig.Missing {
		if m.Reason == certificate.ReasonOperatorNotAllowed && !slices.Contains(v.Types, m.Type) {
			notHere = append(notHere, u.typeLabel(v, m.Type))
		}
	}
	if len(notHere) > 0 {
		l := widget.NewLabel(u.t(v, "choose_not_here", strings.Join(notHere, ", ")))
		l.Wrapping = fyne.TextWrapWord
		missing.Add(l)
	}
	if len(missing.Objects) > 0 {
		missing.Objects = append([]fyne.CanvasObject{widget.NewLabelWithStyle(u.t(v, "choose_missing"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}, missing.Objects...)
	}
	checks := map[certificate.Type]*widget.Check{}
	hints := map[certificate.Type]*widget.Label{}
	// partner is a ticked type t cannot share a certificate with: the
	// rules are pairwise (a household table with another, AIRE with
	// residents, a standalone type with any other, ANPR's pairs).
	partner := func(t certificate.Type) (certificate.Type, bool) {
		for _, s := range offered {
			if u.types[s] && s != t && certificate.CheckCombination([]certificate.Type{s, t}) != nil {
				return s, true
			}
		}
		return "", false
	}
	enable := func() {
		for _, t := range offered {
			if s, clash := partner(t); clash && !u.types[t] {
				checks[t].Disable()
				hints[t].SetText(u.t(v, "choose_incompatible", u.typeLabel(v, s)))
				hints[t].Show()
				continue
			}
			checks[t].Enable()
			hints[t].Hide()
		}
	}
	for _, t := range offered {
		c := widget.NewCheck(u.typeLabel(v, t), func(on bool) {
			if on {
				u.types[t] = true
			} else {
				delete(u.types, t)
			}
			showAt()
			enable()
			u.flow.Touch()
		})
		c.Checked = u.types[t]
		// The why sits beside the box, short, so a standalone type
		// ticked does not push the rest of the screen down.
		hint := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		checks[t], hints[t] = c, hint
		box.Add(container.NewHBox(c, hint))
	}
	enable()
	showAt()
	box.Refresh()
	missing.Refresh()
}

// exemptionLabel is table 39's row code in the screen's language: the
// catalogue's words, else the table's own (Italian).
func (u *UI) exemptionLabel(v kiosk.View, code int) string {
	key := "exemption_reason_" + strconv.Itoa(code)
	if u.cat.Has(v.Lang, key) {
		return u.t(v, key)
	}
	r, _ := fees.LookupReason(code)
	return r.Label
}

// feeLabel is a fee line in the screen's language: the kind's name, or the
// hub's own label for a kind this kiosk does not know.
