package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/sportello/sportello/internal/kiosk"
)

// suspendedHub is the test hub while city staff have suspended the shop:
// it answers, but refuses this device's key with the city's notice.
type suspendedHub struct {
	*hub
	suspended bool
	notice    string
}

func (h *suspendedHub) Standing(context.Context) error {
	if !h.suspended {
		return nil
	}
	return &kiosk.Refusal{Status: 403, Reason: kiosk.ReasonSuspended, Message: "this device is suspended by the city: " + h.notice, Notice: h.notice}
}

// TestSuspendedScreen: a suspended shop sees, over whatever step it was
// on, "Postazione sospesa" with the reason the city gave and whom to call,
// and the status bar says suspended, not connected; once the city
// reinstates it, the next status poll gives the screen back.
func TestSuspendedScreen(t *testing.T) {
	ctx := context.Background()
	for _, lang := range []kiosk.Lang{kiosk.Italian, kiosk.English} {
		t.Run(string(lang), func(t *testing.T) {
			a := test.NewTempApp(t)
			h := &suspendedHub{hub: &hub{}, suspended: true, notice: "canone di adesione non versato"}
			cfg := kiosk.Config{Mode: kiosk.Operator, Shop: "Edicola Centrale", OperatorID: "op-1", ServiceCents: 150, Lang: lang}
			f, err := kiosk.New(cfg, kiosk.Deps{Hub: h, Reader: reader{}, Printers: &printers{}, Outbox: &outbox{hub: h.hub}, Clock: &clock{now}})
			if err != nil {
				t.Fatal(err)
			}
			u := New(a, f, catalog(t))
			w := test.NewTempWindow(t, u.Content())
			w.Resize(fyne.NewSize(1024, 720))
			f.RefreshStatus(ctx)
			cat := catalog(t)
			for _, want := range []string{cat.T(lang, "suspended_title"), cat.T(lang, "suspended_reason", h.notice), cat.T(lang, "status_hub_suspended")} {
				if !hasText(u.Content(), want) {
					t.Errorf("the suspended screen does not say %q", want)
				}
			}
			if hasText(u.Content(), cat.T(lang, "status_hub_online")) || hasText(u.Content(), cat.T(lang, "login_title")) {
				t.Error("a suspended kiosk shows itself connected, or its log-in")
			}
			golden(t, w, "operator_suspended_"+string(lang))
			h.suspended = false
			f.RefreshStatus(ctx)
			if hasText(u.Content(), cat.T(lang, "suspended_title")) || !hasText(u.Content(), cat.T(lang, "status_hub_online")) {
				t.Error("the suspended screen stays after the city reinstated the kiosk")
			}
		})
	}
}
