package ui

import (
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/sportello/sportello/internal/kiosk"
)

// setupFixture is a set-up whose hub answers for a Milan newsagent, with a
// CUPS queue, a USB receipt printer and one card reader; saves are kept.
func setupFixture(t *testing.T, lang kiosk.Lang) (*kiosk.Setup, *[]kiosk.ShopConfig) {
	t.Helper()
	var saved []kiosk.ShopConfig
	s, err := kiosk.NewSetup(kiosk.SetupDeps{
		Shop: func(context.Context) (kiosk.ShopIdentity, error) {
			return kiosk.ShopIdentity{OperatorID: "op-7", Name: "Edicola Loreto", LegalName: "Rossi Giornali S.r.l.", PartitaIVA: "01199250158",
				Address: "Piazzale Loreto 9, 20131 Milano", Mode: kiosk.Operator}, nil
		},
		Printers: func(context.Context) ([]kiosk.FoundPrinter, error) {
			return []kiosk.FoundPrinter{
				{URI: "ipp://127.0.0.1:631/printers/Ufficio", Name: "Ufficio", Detail: "HP LaserJet Pro M404", Kind: kiosk.A4},
				{URI: "usb://EPSON/TM-T20III?serial=X4DF012345", Name: "EPSON TM-T20III", Detail: "USB", Kind: kiosk.Receipts, Model: "tm-t20"},
			}, nil
		},
		Readers: func(context.Context) ([]string, error) { return []string{"ACS ACR39U ICC Reader 00 00"}, nil },
		TestPrint: func(_ context.Context, k kiosk.PrinterKind, _ kiosk.FoundPrinter, _ kiosk.Lang) error {
			if k == kiosk.Receipts {
				return errors.New("paper out")
			}
			return nil
		},
		Save: func(c kiosk.ShopConfig) error { saved = append(saved, c); return nil },
	}, lang)
	if err != nil {
		t.Fatal(err)
	}
	return s, &saved
}

// TestSetupScreen: the first-run screen in Italian and English shows the
// shop as the hub registered it (nothing to type), the printers found with
// the test of each, the card reader; "Salva e avvia" writes and starts.
func TestSetupScreen(t *testing.T) {
	for _, lang := range []kiosk.Lang{kiosk.Italian, kiosk.English} {
		t.Run(string(lang), func(t *testing.T) {
			a := test.NewTempApp(t)
			s, saved := setupFixture(t, lang)
			u := NewSetup(a, s, catalog(t))
			var started []kiosk.ShopConfig
			u.Saved = func(c kiosk.ShopConfig) { started = append(started, c) }
			w := test.NewTempWindow(t, u.Content())
			w.Resize(fyne.NewSize(1024, 720))
			if err := s.Detect(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.Test(context.Background(), kiosk.A4)
			s.Test(context.Background(), kiosk.Receipts)
			for _, want := range []string{"Edicola Loreto", "Rossi Giornali S.r.l.", "01199250158", "ACS ACR39U ICC Reader 00 00"} {
				if !showsText(u.Content(), want) {
					t.Errorf("the screen does not show %q", want)
				}
			}
			golden(t, w, "setup_"+string(lang))
			save := findButton(u.Content(), catalog(t).T(lang, "setup_save"))
			if save == nil || save.Disabled() {
				t.Fatal("no enabled save button")
			}
			test.Tap(save)
			if len(*saved) != 1 || len(started) != 1 || (*saved)[0].Shop != "Edicola Loreto" || (*saved)[0].PartitaIVA != "01199250158" {
				t.Errorf("saved %+v, started %+v", *saved, started)
			}
		})
	}
}

// walk calls fn on o and everything inside it, scrolled content included.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch o := o.(type) {
	case *fyne.Container:
		for _, c := range o.Objects {
			walk(c, fn)
		}
	case *container.Scroll:
		walk(o.Content, fn)
	}
}

func findButton(o fyne.CanvasObject, text string) *widget.Button {
	var found *widget.Button
	walk(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			found = b
		}
	})
	return found
}

func showsText(o fyne.CanvasObject, s string) bool {
	found := false
	walk(o, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, s) {
			found = true
		}
	})
	return found
}
