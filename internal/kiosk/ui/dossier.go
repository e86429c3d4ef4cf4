package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

// dossierButton opens the citizen's dossier ("Il mio fascicolo") from the
// choice screen: after CIE and PIN at a self-service kiosk, after the
// clerk identified them at a counter.
func (u *UI) dossierButton(v kiosk.View) fyne.CanvasObject {
	b := widget.NewButtonWithIcon(u.t(v, "dossier_button"), theme.FolderOpenIcon(), func() { u.run(u.flow.ShowDossier) })
	u.busy(v, b)
	return b
}

// dossierScreen shows the whole dossier on one scrolling page, section by
// section in the order issue 17 lists them: my data and household, my
// documents with their expiry, certificates issued, requests, appointments,
// delegations given and received, and who read my data. The words inside
// each line (statuses, relationships, document kinds) are the registry's,
// in Italian, as the hub sends them.
func (u *UI) dossierScreen(v kiosk.View) fyne.CanvasObject {
	d := v.Dossier
	list := container.NewVBox()
	var flush func()
	section := func(key string, args ...any) {
		flush()
		list.Add(widget.NewSeparator())
		list.Add(widget.NewLabelWithStyle(u.t(v, key, args...), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	}
	// A section's ordinary lines go in one label, one a line, so the
	// screen holds more of them than a label each (with its padding)
	// would; a line that warns gets a label of its own, in colour.
	var lines []string
	flush = func() {
		if len(lines) > 0 {
			l := widget.NewLabel(strings.Join(lines, "\n"))
			l.Wrapping = fyne.TextWrapWord
			list.Add(l)
			lines = nil
		}
	}
	text := func(s string, imp widget.Importance) {
		if imp == widget.MediumImportance {
			lines = append(lines, s)
			return
		}
		flush()
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		l.Importance = imp
		list.Add(l)
	}
	none := func() { text(u.t(v, "dossier_none"), widget.LowImportance) }

	p := d.Person
	section("dossier_my_data")
	text(u.t(v, "dossier_person", p.CF, day(p.BirthDate), p.BirthPlace, p.Citizenship, p.CivilStatus), widget.MediumImportance)
	home := u.t(v, "dossier_address", p.Address)
	if p.ResidentSince != "" {
		home += " " + u.t(v, "dossier_resident_since", day(p.ResidentSince))
	}
	text(home, widget.MediumImportance)
	if p.ProcedureOpen != "" {
		text(u.t(v, "dossier_procedure_open", day(p.ProcedureOpen)), widget.WarningImportance)
	}
	section("dossier_household_title")
	if len(d.Household) == 0 {
		none()
	}
	for _, m := range d.Household {
		text(fmt.Sprintf("%s · %s · %s", m.Name, m.Relationship, day(m.BirthDate)), widget.MediumImportance)
	}

	section("dossier_documents_title")
	if len(d.Documents) == 0 {
		none()
	}
	for _, doc := range d.Documents {
		imp := widget.MediumImportance
		switch doc.State {
		case "in scadenza":
			imp = widget.WarningImportance
		case "scaduto", "revocato":
			imp = widget.DangerImportance
		}
		text(u.t(v, "dossier_document_line", doc.Kind, doc.Number, day(doc.Expires), doc.State), imp)
	}

	section("dossier_certificates_title", len(d.Certificates))
	if len(d.Certificates) == 0 {
		none()
	}
	for _, c := range d.Certificates {
		line := fmt.Sprintf("%s · %s · %s", when(c.Issued), c.Title, u.t(v, "access_log_protocol", c.Protocol))
		if c.SubjectCF != p.CF && c.SubjectName != "" {
			line += " · " + u.t(v, "dossier_certificate_about", c.SubjectName)
		}
		imp := widget.MediumImportance
		switch {
		case c.Status == "revoked":
			line += " · " + u.t(v, "dossier_certificate_revoked")
			imp = widget.DangerImportance
		case c.CopyAvailable:
			line += " · " + u.t(v, "dossier_certificate_copy")
		}
		text(line, imp)
	}

	section("dossier_requests_title", len(d.Requests))
	if len(d.Requests) == 0 {
		none()
	}
	for _, r := range d.Requests {
		line := fmt.Sprintf("%s · %s", when(r.Filed), r.Title)
		if r.Protocol != "" {
			line += " · " + u.t(v, "access_log_protocol", r.Protocol)
		}
		text(line+" · "+r.Status, widget.MediumImportance)
	}

	section("dossier_appointments_title", len(d.Appointments))
	if len(d.Appointments) == 0 {
		none()
	}
	for _, a := range d.Appointments {
		text(fmt.Sprintf("%s · %s · %s · %s · %s", when(a.At), a.Service, a.Office, a.Status, a.Ref), widget.MediumImportance)
	}

	section("dossier_delegations_title", len(d.DelegationsGiven), len(d.DelegationsReceived))
	if len(d.DelegationsGiven)+len(d.DelegationsReceived) == 0 {
		none()
	}
	for _, dl := range d.DelegationsGiven {
		text(u.t(v, "dossier_delegation_given", nameOr(dl.DelegateName, dl.DelegateCF), u.scope(v, dl.Scope), day(dl.Until), dl.State, len(dl.Uses)), widget.MediumImportance)
	}
	for _, dl := range d.DelegationsReceived {
		text(u.t(v, "dossier_delegation_received", nameOr(dl.DelegatorName, dl.DelegatorCF), u.scope(v, dl.Scope), day(dl.Until), dl.State, len(dl.Uses)), widget.MediumImportance)
	}

	section("dossier_access_title", d.AccessTotal)
	if len(d.AccessLog) == 0 {
		none()
	}
	for _, ln := range d.AccessLog {
		kind := ln.Kind
		if u.cat.Has(v.Lang, "access_log_kind_"+ln.Kind) {
			kind = u.t(v, "access_log_kind_"+ln.Kind)
		}
		line := fmt.Sprintf("%s · %s · %s", when(ln.Time), kind, ln.Place)
		if ln.Clerk != "" {
			line += " · " + u.t(v, "access_log_clerk", ln.Clerk)
		}
		text(line, widget.MediumImportance)
	}
	if len(d.AccessLog) < d.AccessTotal {
		text(u.t(v, "dossier_access_more", d.AccessTotal-len(d.AccessLog)), widget.LowImportance)
	}

	flush()

	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.CloseRecords() })
	u.busy(v, back)
	bottom := []fyne.CanvasObject{back, layout.NewSpacer(), u.delegationsButton(v), u.requestsButton(v)}
	if v.Mode == kiosk.Operator {
		// At a counter the clerk prints it at the citizen's request; a
		// self-service kiosk prints nothing a passer-by could pick up.
		print := widget.NewButtonWithIcon(u.t(v, "dossier_print"), theme.DocumentPrintIcon(), func() { u.run(u.flow.PrintDossier) })
		u.busy(v, print)
		bottom = append(bottom, print)
	}
	title := u.t(v, "dossier_title", strings.TrimSpace(p.Surname+" "+p.GivenNames))
	return container.NewBorder(heading(title), container.NewHBox(bottom...), nil, nil, container.NewVScroll(list))
}

// scope says in a few words what a delegation lets the delegate do.
func (u *UI) scope(v kiosk.View, s api.DelegationScope) string {
	var parts []string
	names := func(prefix string, codes []string) string {
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = c
			if u.cat.Has(v.Lang, prefix+c) {
				out[i] = strings.ToLower(u.t(v, prefix+c))
			}
		}
		return strings.Join(out, ", ")
	}
	if len(s.Certificates) > 0 {
		parts = append(parts, u.t(v, "dossier_scope_certificates", names("type_", s.Certificates)))
	}
	if len(s.Requests) > 0 {
		parts = append(parts, u.t(v, "dossier_scope_requests", names("request_kind_", s.Requests)))
	}
	if s.Appointments {
		parts = append(parts, u.t(v, "dossier_scope_appointments"))
	}
	return strings.Join(parts, "; ")
}

func nameOr(name, cf string) string {
	if name != "" {
		return name
	}
	return cf
}

// when writes an instant as Italian screens do, in Rome time.
func when(t time.Time) string { return t.In(protocol.Rome).Format("02/01/2006 15:04") }
