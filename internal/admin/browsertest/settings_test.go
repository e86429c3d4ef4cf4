package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestCitySettings: on the fee page an admin sees that birth certificates
// are in bollo by default, as ANPR issues them; sets the counter's diritti
// (a counter charging none is refused with its sentence), the bollo
// authorisation with the stato civile exemption, and the officer and
// register codes (a malformed IPA code is refused); each change shows in
// the schedule and the history, and `hub city show` reads them back.
func TestCitySettings(t *testing.T) {
	h := startHub(t)
	ctx, cancel := newBrowser(t, h)
	defer cancel()
	if err := chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(1280, 900, 1, false)); err != nil {
		t.Fatal(err)
	}
	var lawExempt, alert, flash, counter, history string
	err := chromedp.Run(ctx,
		chromedp.Navigate(h.url+"/admin/"), login("admin", demoPassword),
		chromedp.Navigate(h.url+"/admin/fees"), chromedp.WaitVisible(`#law-exempt`, chromedp.ByQuery),
		text(`#law-exempt`, &lawExempt), text(`#diritti-counter`, &counter),
	)
	if err != nil {
		t.Fatal(err)
	}
	if lawExempt != "in bollo, come li rilascia ANPR (predefinito)" || counter != "0,52 € / 0,26 €" {
		t.Fatalf("by default the page says nascita %q, counter diritti %q", lawExempt, counter)
	}

	// A counter may not charge no diritti: refused, in Italian, nothing changed.
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#diritti-counter-bollo`, "0", chromedp.ByQuery),
		chromedp.SetValue(`#diritti-counter-exempt`, "0", chromedp.ByQuery),
		chromedp.Submit(`#diritti-counter-bollo`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery), text(`[role=alert]`, &alert), text(`#diritti-counter`, &counter),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(alert, "Solo il chiosco self-service può non applicare diritti") || counter != "0,52 € / 0,26 €" {
		t.Errorf("a counter charging no diritti: alert %q, counter %q", alert, counter)
	}

	err = chromedp.Run(ctx,
		chromedp.SetValue(`#diritti-counter-bollo`, "0,60", chromedp.ByQuery),
		chromedp.SetValue(`#diritti-counter-exempt`, "0,30", chromedp.ByQuery),
		chromedp.SetValue(`#diritti-self_service-bollo`, "0", chromedp.ByQuery),
		chromedp.SetValue(`#diritti-self_service-exempt`, "0", chromedp.ByQuery),
		chromedp.Submit(`#diritti-counter-bollo`, chromedp.ByQuery),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery), text(`.flash`, &flash), text(`#diritti-counter`, &counter),
	)
	if err != nil {
		t.Fatal(err)
	}
	if flash != "Diritti di segreteria aggiornati." || counter != "0,60 € / 0,30 €" {
		t.Errorf("after setting the diritti: %q, counter %q", flash, counter)
	}

	err = chromedp.Run(ctx,
		chromedp.SetValue(`#bollo-auth`, "n. 123/2019 del 15/01/2019", chromedp.ByQuery),
		chromedp.Click(`input[name=exempt][value=on]`, chromedp.ByQuery),
		chromedp.Submit(`#bollo-auth`, chromedp.ByQuery),
		// The page before the submit shows a flash too: wait for the new
		// page's own, or a loaded machine reads the old one.
		waitText(`.flash`, "Impostazioni del bollo aggiornate"), text(`#law-exempt`, &lawExempt),
	)
	if err != nil {
		t.Fatal(err)
	}
	if lawExempt != "esenti da bollo e diritti (art. 7, comma 5, L. 405/1990)" {
		t.Errorf("after turning the exemption on the page says %q", lawExempt)
	}

	err = chromedp.Run(ctx,
		chromedp.SetValue(`#cert-officer`, "Maria Rossi", chromedp.ByQuery),
		chromedp.SetValue(`#cert-ipa`, "comune di milano", chromedp.ByQuery),
		chromedp.Submit(`#cert-officer`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role=alert]`, chromedp.ByQuery), text(`[role=alert]`, &alert),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(alert, "«comune di milano» non è un codice dell'Indice PA come c_f205") {
		t.Errorf("a malformed IPA code: %q", alert)
	}
	err = chromedp.Run(ctx,
		chromedp.SetValue(`#cert-officer`, "Maria Rossi", chromedp.ByQuery),
		chromedp.SetValue(`#cert-delegation`, "decreto sindacale n. 12 del 03/02/2025", chromedp.ByQuery),
		chromedp.SetValue(`#cert-ipa`, "c_f205", chromedp.ByQuery),
		chromedp.SetValue(`#cert-aoo`, "A1B2C3D", chromedp.ByQuery),
		chromedp.SetValue(`#cert-register`, "CERT", chromedp.ByQuery),
		chromedp.Submit(`#cert-officer`, chromedp.ByQuery),
		waitText(`#city-history`, "Maria Rossi"), text(`#city-history`, &history),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"diritti counter: 0,52/0,26 EUR → 0,60/0,30 EUR", "diritti self_service: 0,52/0,26 EUR → 0,00/0,00 EUR",
		"birth, marriage and civil union exemption: off → on", "bollo authorisation: (none) → n. 123/2019 del 15/01/2019",
		"officer: (none) → Maria Rossi", "IPA code: (none) → c_f205", "staff:admin"} {
		if !strings.Contains(history, want) {
			t.Errorf("the history lacks %q:\n%s", want, history)
		}
	}
	out := words(h.run(t, "city", "show", "--data", h.data))
	for _, want := range []string{"diritti counter (in bollo/exempt) 0,60/0,30 EUR", "birth, marriage and civil union exemption on", "officer Maria Rossi", "AOO code A1B2C3D"} {
		if !strings.Contains(out, want) {
			t.Errorf("hub city show lacks %q:\n%s", want, out)
		}
	}
	if *screenshots {
		var buf []byte
		if err := chromedp.Run(ctx, chromedp.Navigate(h.url+"/admin/fees"), chromedp.WaitVisible(`#law-exempt`, chromedp.ByQuery),
			chromedp.ActionFunc(func(ctx context.Context) error { return chromedp.FullScreenshot(&buf, 100).Do(ctx) })); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(repoRoot(t), "docs", "screenshots", "admin-fees.png")
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}

// words is s with every run of white space one space.
func words(s string) string { return strings.Join(strings.Fields(s), " ") }

// waitText waits until the element sel holds substr: after a form's submit
// the old page may still be on screen with an element of the same name, and
// while the new one loads a read can fail, so it reads again until then.
func waitText(sel, substr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var got string
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := chromedp.Text(sel, &got, chromedp.ByQuery).Do(rctx)
			cancel()
			if err == nil && strings.Contains(got, substr) {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s never held %q (last %q, %v)", sel, substr, got, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
