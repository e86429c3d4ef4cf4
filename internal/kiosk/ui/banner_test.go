package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

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
