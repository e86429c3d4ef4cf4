package ui

import (
	"context"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/kiosk"
)

// The delegations screen after CIE and PIN, and at a counter in English.
func TestDelegationsScreens(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		mode  kiosk.Mode
		steps func(f *kiosk.Flow) error
	}{
		{"selfservice_delegations_it", kiosk.SelfService, func(f *kiosk.Flow) error {
			pinned(f)
			f.ShowDossier(ctx)
			return f.ShowDelegations(ctx)
		}},
		{"operator_delegations_en", kiosk.Operator, func(f *kiosk.Flow) error {
			loggedIn(f)
			f.SetLang(kiosk.English)
			f.TapCard(ctx)
			return f.ShowDelegations(ctx)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			f := newFlow(t, tt.mode, &hub{})
			u := New(a, f, catalog(t))
			w := test.NewTempWindow(t, u.Content())
			w.Resize(fyne.NewSize(1024, 720))
			if err := tt.steps(f); err != nil {
				t.Fatal(err)
			}
			f.RefreshStatus(ctx)
			golden(t, w, tt.name)
		})
	}
}

func findCheckGroup(o fyne.CanvasObject, option string) *widget.CheckGroup {
	var found *widget.CheckGroup
	walk(o, func(o fyne.CanvasObject) {
		if g, ok := o.(*widget.CheckGroup); ok && slices.Contains(g.Options, option) {
			found = g
		}
	})
	return found
}

func findEntry(o fyne.CanvasObject, placeholder string) *widget.Entry {
	var found *widget.Entry
	walk(o, func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok && e.PlaceHolder == placeholder {
			found = e
		}
	})
	return found
}

// TestDelegationsByTaps goes from the dossier to the delegations, gives
// one by typing and ticking (a date typed the Italian way reaches the hub
// as ISO; a wrong date is refused on the kiosk with what was typed kept),
// and revokes the one given before.
func TestDelegationsByTaps(t *testing.T) {
	ctx := context.Background()
	a := test.NewTempApp(t)
	h := &hub{}
	f := newFlow(t, kiosk.SelfService, h)
	cat := catalog(t)
	u := New(a, f, cat)
	u.spawn = inline
	test.NewTempWindow(t, u.Content())
	pinned(f)
	f.ShowDossier(ctx)
	T := func(key string, args ...any) string { return cat.T(kiosk.Italian, key, args...) }
	test.Tap(findButton(u.Content(), T("delegations_button")))
	if v := f.View(); v.Step != kiosk.StepDelegations {
		t.Fatalf("after the delegations button: step %s, problem %v", v.Step, v.Problem)
	}
	cf := findEntry(u.Content(), T("delegations_delegate_cf_placeholder"))
	until := findEntry(u.Content(), T("delegations_until_placeholder"))
	certs := findCheckGroup(u.Content(), T("type_residenza"))
	reqs := findCheckGroup(u.Content(), T("request_kind_cambio_indirizzo"))
	if cf == nil || until == nil || certs == nil || reqs == nil {
		t.Fatal("the form lacks a field")
	}
	if slices.Contains(reqs.Options, T("request_kind_dat")) || slices.Contains(reqs.Options, T("request_kind_convivenza_di_fatto")) {
		t.Errorf("the form offers request kinds the law wants made in person: %v", reqs.Options)
	}
	test.Type(cf, "bnclcu80a01f205x")
	certs.SetSelected([]string{T("type_residenza"), T("type_stato_di_famiglia")})
	reqs.SetSelected([]string{T("request_kind_cambio_indirizzo")})
	test.Type(until, "31/13/2027")
	give := findButton(u.Content(), T("delegations_give_button"))
	test.Tap(give)
	if p := f.View().Problem; p == nil || p.Key != "delegations_until_invalid" || len(h.gave) != 0 {
		t.Fatalf("a wrong date: problem %v, given %d", p, len(h.gave))
	}
	if cf.Text != "bnclcu80a01f205x" || len(certs.Selected) != 2 {
		t.Fatalf("the refusal lost what was typed: %q %v", cf.Text, certs.Selected)
	}
	until.SetText("31/03/2027")
	test.Tap(give)
	if len(h.gave) != 1 {
		t.Fatalf("given %d, problem %v", len(h.gave), f.View().Problem)
	}
	g := h.gave[0]
	if g.DelegateCF != "BNCLCU80A01F205X" || g.Until != "2027-03-31" || !slices.Equal(g.Scope.Certificates, []string{"residenza", "stato_di_famiglia"}) ||
		!slices.Equal(g.Scope.Requests, []string{"cambio_indirizzo"}) || g.Scope.Appointments || g.Channel != "self_service" {
		t.Errorf("the hub was asked %+v", g)
	}
	if e := findEntry(u.Content(), T("delegations_delegate_cf_placeholder")); e == nil || e.Text != "" {
		t.Error("the form was not emptied after the delegation was given")
	}
	test.Tap(findButton(u.Content(), T("delegations_revoke_one", "BIANCHI LUCA")))
	if !slices.Equal(h.revoked, []string{"dl-1"}) {
		t.Errorf("revoked %v", h.revoked)
	}
	test.Tap(findButton(u.Content(), T("back_button")))
	if v := f.View(); v.Step != kiosk.StepChoose {
		t.Errorf("back from the delegations: %s", v.Step)
	}
}
