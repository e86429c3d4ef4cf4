package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/kiosk"
)

// TestBannerKeepsTheButtonsInPlace: a refusal's banner appears over the
// top of the screen, and no button or field moves under the citizen's
// finger when it comes: here "Vedi il costo" with no certificate ticked,
// at a self-service kiosk's large sizes. Golden images in both languages.
func TestBannerKeepsTheButtonsInPlace(t *testing.T) {
	ctx := context.Background()
	for _, lang := range []kiosk.Lang{kiosk.Italian, kiosk.English} {
		t.Run(string(lang), func(t *testing.T) {
			a := test.NewTempApp(t)
			f := newFlow(t, kiosk.SelfService, &hub{})
			u := New(a, f, catalog(t))
			w := test.NewTempWindow(t, u.Content())
			w.Resize(fyne.NewSize(1024, 720))
			f.SetLang(lang)
			if err := f.TapCard(ctx); err != nil {
				t.Fatal(err)
			}
			if err := f.EnterPIN(ctx, "12345678"); err != nil {
				t.Fatal(err)
			}
			f.RefreshStatus(ctx)
			where := func() map[fyne.CanvasObject]fyne.Position {
				m := map[fyne.CanvasObject]fyne.Position{}
				for _, b := range laidOut[*widget.Button](u.Content()) {
					m[b] = a.Driver().AbsolutePositionForObject(b)
				}
				for _, e := range laidOut[*widget.Entry](u.Content()) {
					m[e] = a.Driver().AbsolutePositionForObject(e)
				}
				for _, c := range laidOut[*widget.Check](u.Content()) {
					m[c] = a.Driver().AbsolutePositionForObject(c)
				}
				for _, r := range laidOut[*widget.RadioGroup](u.Content()) {
					m[r] = a.Driver().AbsolutePositionForObject(r)
				}
				for _, s := range laidOut[*widget.Select](u.Content()) {
					m[s] = a.Driver().AbsolutePositionForObject(s)
				}
				return m
			}
			before := where()
			if len(before) < 5 {
				t.Fatalf("only %d buttons and fields found on the choice screen", len(before))
			}
			f.Choose(kiosk.Choice{SubjectCF: "RSSMRA50B17A558W"})
			p := f.View().Problem
			if p == nil || f.View().Step != kiosk.StepChoose {
				t.Fatalf("a choice of no certificate was taken (step %s)", f.View().Step)
			}
			msg := catalog(t).Problem(lang, p)
			if !shows(u.Content(), msg) {
				t.Fatalf("the banner does not say %q", msg)
			}
			after := where()
			for o, pos := range before {
				if got, ok := after[o]; !ok || got != pos {
					t.Errorf("%T moved from %v to %v (or went) when the banner came", o, pos, got)
				}
			}
			golden(t, w, "banner_selfservice_choose_"+string(lang))
		})
	}
}

// shows tells whether a label shown under o (in a widget too) says s.
func shows(o fyne.CanvasObject, s string) bool {
	for _, l := range laidOut[*widget.Label](o) {
		if strings.Contains(l.Text, s) {
			return true
		}
	}
	return false
}

// awayHub refuses the clerk's log-in while offline, as the real one does.
type awayHub struct{ *hub }

func (h *awayHub) LogInClerk(ctx context.Context, l api.ClerkLogin) (*kiosk.Staff, error) {
	if h.offline {
		return nil, fmt.Errorf("%w: dial refused", kiosk.ErrOffline)
	}
	return h.hub.LogInClerk(ctx, l)
}

// TestBannerGoesWithItsCause: the clerk's log-in failed because the city
// could not be reached; the banner saying so stays while the polls find
// the hub away and goes at the first poll that reaches it, the status bar
// turning from "non raggiungibile" to "collegato" with it.
func TestBannerGoesWithItsCause(t *testing.T) {
	ctx := context.Background()
	a := test.NewTempApp(t)
	h := &awayHub{hub: &hub{offline: true}}
	f, err := kiosk.New(kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1"},
		kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h.hub}, Clock: &clock{now}})
	if err != nil {
		t.Fatal(err)
	}
	u := New(a, f, catalog(t))
	w := test.NewTempWindow(t, u.Content())
	w.Resize(fyne.NewSize(1024, 720))
	cat := catalog(t)
	f.RefreshStatus(ctx)
	f.LoginCard(ctx, "12345678")
	p := f.View().Problem
	if p == nil || p.Key != "clerk_offline" {
		t.Fatalf("problem %v, want clerk_offline", p)
	}
	msg := cat.Problem(kiosk.Italian, p)
	f.RefreshStatus(ctx)
	if !shows(u.Content(), msg) || !shows(u.Content(), cat.T(kiosk.Italian, "status_hub_offline")) {
		t.Fatal("with the hub still away, the banner or the offline status is not shown")
	}
	h.offline = false
	f.RefreshStatus(ctx)
	if shows(u.Content(), msg) {
		t.Error("the banner stays after the hub answered")
	}
	if !shows(u.Content(), cat.T(kiosk.Italian, "status_hub_online")) {
		t.Error("the status bar does not say the hub is back")
	}
}
