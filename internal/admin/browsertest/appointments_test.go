package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

// workday is the first Monday-to-Friday day from d on that is no
// national holiday.
func workday(d time.Time) time.Time {
	for {
		_, holiday := (operators.Calendar{}).Holiday(registry.DateOf(d))
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday && !holiday {
			return d
		}
		d = d.AddDate(0, 0, 1)
	}
}

// TestAppointments drives the appointments' pages of the demo hub in
// headless Chromium: the demo offices and their calendars, a closure
// entered by the admin that empties that day, a booking made at the desk
// for a resident, and the check-in refusing that booking's QR today
// because it is for another day.
func TestAppointments(t *testing.T) {
	h := startHub(t)
	ctx, cancel := newBrowser(t, h)
	defer cancel()
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			dir := os.Getenv("SPORTELLO_SHOTS")
			if dir == "" {
				return nil
			}
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "appointments-"+name+".png"), buf, 0o644)
		})
	}
	now := time.Now().In(appointment.Rome)
	closed := workday(now.AddDate(0, 0, 7))
	open := workday(closed.AddDate(0, 0, 1))
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	cf := strings.Fields(h.run(t, "person", "list", "--data", h.data, "--limit", "1"))[0]

	var offices, closures, closedNote, dayList, alert string
	err := chromedp.Run(ctx, emulation.SetDeviceMetricsOverride(1280, 900, 1, false),
		chromedp.Navigate(h.url+"/admin/"), login("admin", demoPassword),
		chromedp.Navigate(h.url+"/admin/appointments"), chromedp.WaitVisible(`#code`, chromedp.ByQuery),
		text(`section[aria-labelledby=offices-h] table`, &offices),
		chromedp.SetValue(`#cfrom`, day(closed), chromedp.ByQuery),
		chromedp.SetValue(`#creason`, "Sciopero generale", chromedp.ByQuery),
		chromedp.Submit(`#creason`, chromedp.ByQuery),
		waitText(`.flash`, "Chiusura aggiunta"),
		text(`section[aria-labelledby=closures-h] table`, &closures), shot("offices"),
		chromedp.Navigate(h.url+"/admin/appointments/centrale?day="+day(closed)),
		waitText(`#closed`, "Sciopero generale"), text(`#closed`, &closedNote),
		chromedp.Navigate(h.url+"/admin/appointments/centrale?day="+day(open)),
		chromedp.WaitVisible(`#cf-cie_rilascio`, chromedp.ByQuery),
		chromedp.SetValue(`#cf-cie_rilascio`, cf, chromedp.ByQuery),
		chromedp.Submit(`#cf-cie_rilascio`, chromedp.ByQuery),
		waitText(`.flash`, "Appuntamento prenotato"),
		text(`#day`, &dayList), shot("day"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(offices, "Anagrafe centrale") || !strings.Contains(offices, "Rilascio carta d'identità elettronica") || !strings.Contains(offices, "Anagrafe decentrata Municipio 5") {
		t.Errorf("the offices' table: %q", offices)
	}
	if !strings.Contains(closures, "Sciopero generale") || !strings.Contains(closures, closed.Format("02/01/2006")) {
		t.Errorf("the closures: %q", closures)
	}
	ref := regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}`).FindString(dayList)
	if !strings.Contains(dayList, cf) || !strings.Contains(dayList, "08:30") || !strings.Contains(dayList, "prenotato") || ref == "" {
		t.Fatalf("the day's list after booking: %q", dayList)
	}
	// The office's scanner types the QR's text into the check-in field:
	// the booking is for another day, so the arrival is refused.
	err = chromedp.Run(ctx,
		chromedp.Navigate(h.url+"/admin/appointments"), chromedp.WaitVisible(`#code`, chromedp.ByQuery),
		chromedp.SetValue(`#code`, appointment.QRText(strings.ReplaceAll(ref, "-", "")), chromedp.ByQuery),
		chromedp.Submit(`#code`, chromedp.ByQuery),
		waitText(`[role=alert]`, "non è per oggi"), text(`[role=alert]`, &alert), shot("checkin"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(alert, "controlla la data sulla conferma") {
		t.Errorf("the check-in refusal: %q", alert)
	}
}
