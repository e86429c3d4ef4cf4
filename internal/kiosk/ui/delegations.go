package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/kiosk"
)

// delegForm is the form that gives a delegation. Its widgets are made
// when the delegations screen is entered and kept across its redraws, so
// a refusal or a status poll leaves what the citizen typed and ticked.
type delegForm struct {
	cf, until   *widget.Entry
	certs, reqs *widget.CheckGroup
	appts       *widget.Check
	// The options' labels, in the screen's language, back to their codes.
	certOf, reqOf map[string]string
}

func (u *UI) newDelegForm(v kiosk.View) *delegForm {
	d := &delegForm{cf: widget.NewEntry(), until: widget.NewEntry(), certOf: map[string]string{}, reqOf: map[string]string{}}
	d.cf.SetPlaceHolder(u.t(v, "delegations_delegate_cf_placeholder"))
	d.until.SetPlaceHolder(u.t(v, "delegations_until_placeholder"))
	var certs, reqs []string
	for _, ty := range kiosk.DelegableCertificates() {
		l := u.t(v, "type_"+string(ty))
		d.certOf[l] = string(ty)
		certs = append(certs, l)
	}
	for _, k := range kiosk.DelegableRequests() {
		l := u.t(v, "request_kind_"+k)
		d.reqOf[l] = k
		reqs = append(reqs, l)
	}
	d.certs = widget.NewCheckGroup(certs, nil)
	d.reqs = widget.NewCheckGroup(reqs, nil)
	d.appts = widget.NewCheck(u.t(v, "delegations_scope_appointments"), nil)
	return d
}

// delegation is what the form says.
func (d *delegForm) delegation() kiosk.Delegation {
	out := kiosk.Delegation{DelegateCF: d.cf.Text, Until: d.until.Text, Appointments: d.appts.Checked}
	for _, l := range d.certs.Selected {
		out.Certificates = append(out.Certificates, d.certOf[l])
	}
	for _, l := range d.reqs.Selected {
		out.Requests = append(out.Requests, d.reqOf[l])
	}
	return out
}

// delegationsButton opens the citizen's delegations from their dossier.
func (u *UI) delegationsButton(v kiosk.View) *widget.Button {
	b := widget.NewButton(u.t(v, "delegations_button"), func() { u.run(u.flow.ShowDelegations) })
	u.busy(v, b)
	return b
}

// delegationsScreen lists the delegations the citizen gave (each active
// one with its revoke button) and received, with the acts done under
// each, beside the form that gives a new one.
func (u *UI) delegationsScreen(v kiosk.View) fyne.CanvasObject {
	l := v.Delegations
	if u.deleg == nil || u.deleg.lang != v.Lang {
		u.deleg = &delegState{form: u.newDelegForm(v), lang: v.Lang}
	}
	form := u.deleg.form
	list := container.NewVBox()
	line := func(key string, d api.Delegation, who string) {
		s := u.t(v, key, who, u.scope(v, d.Scope), day(d.Until), d.State, len(d.Uses))
		for _, use := range d.Uses {
			s += fmt.Sprintf("\n    %s · %s · %s", when(use.At), use.Service, use.Ref)
		}
		lb := widget.NewLabel(s)
		lb.Wrapping = fyne.TextWrapWord
		if d.State != kiosk.DelegationActive {
			lb.Importance = widget.LowImportance
		}
		list.Add(lb)
	}
	bold := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	list.Add(bold(u.t(v, "delegations_given", len(l.Given))))
	for _, d := range l.Given {
		who := nameOr(d.DelegateName, d.DelegateCF)
		line("dossier_delegation_given", d, who)
		if d.State == kiosk.DelegationActive {
			id := d.ID
			revoke := widget.NewButton(u.t(v, "delegations_revoke_one", who), func() {
				u.run(func(ctx context.Context) error { return u.flow.RevokeDelegation(ctx, id) })
			})
			revoke.Importance = widget.DangerImportance
			u.busy(v, revoke)
			list.Add(container.NewHBox(revoke))
		}
	}
	list.Add(widget.NewSeparator())
	list.Add(bold(u.t(v, "delegations_received", len(l.Received))))
	for _, d := range l.Received {
		line("dossier_delegation_received", d, nameOr(d.DelegatorName, d.DelegatorCF))
	}

	give := big(u.t(v, "delegations_give_button"), func() {
		d := form.delegation()
		u.run(func(ctx context.Context) error {
			err := u.flow.GiveDelegation(ctx, d)
			if err == nil {
				// Given: the list shows it, and the form starts afresh.
				fyne.Do(func() {
					u.deleg = nil
					u.Refresh()
				})
			}
			return err
		})
	})
	u.busy(v, give)
	right := container.NewVBox(bold(u.t(v, "delegations_give")),
		widget.NewLabel(u.t(v, "delegations_delegate_cf")), form.cf,
		widget.NewLabel(u.t(v, "delegations_certificates")), form.certs,
		widget.NewLabel(u.t(v, "delegations_requests")), form.reqs,
		form.appts,
		widget.NewLabel(u.t(v, "delegations_until")), form.until)
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.CloseRecords() })
	u.busy(v, back)
	return container.NewBorder(heading(u.t(v, "delegations_title", l.Name)), container.NewHBox(back, layout.NewSpacer(), give), nil, nil,
		// The form scrolls both ways: its longest option at the largest
		// text would otherwise widen the window past a 1280-pixel screen.
		container.NewGridWithColumns(2, container.NewVScroll(list), container.NewScroll(right)))
}

// delegState is the delegations screen's own state while it is on.
type delegState struct {
	form *delegForm
	lang kiosk.Lang
}
