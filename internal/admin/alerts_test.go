package admin

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/store/bolt/limitsbolt"
)

// TestAlertsPageReviewReinstates: the limits flagged one device and
// suspended another. The dashboard counts the open alerts; the alerts page
// lists them with the device, shop and figures; staff without the right
// (finance) cannot review; an admin's review without a note is refused; with a note
// it reinstates the suspended device, closes its alerts and records who and
// why in the device's history; the thresholds are set from the same page.
func TestAlertsPageReviewReinstates(t *testing.T) {
	f := newFixture(t)
	store, err := limitsbolt.New(f.db)
	if err != nil {
		t.Fatal(err)
	}
	f.con.Limits = &limits.Guard{Store: store, Now: f.con.Now}
	for _, st := range []operators.Status{operators.Approved, operators.Active} {
		if _, err := f.ops.SetStatus(f.opID, st, "test", "test"); err != nil {
			t.Fatal(err)
		}
	}
	enrol := func(name string) *operators.Device {
		code, _, err := f.ops.IssueCode(f.opID, "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		pub, _, _ := ed25519.GenerateKey(nil)
		d, err := f.ops.Enrol(code, pub, name)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	flooded, watched := enrol("Cassa flood"), enrol("Cassa notte")
	ctx := context.Background()
	now := f.con.Now()
	store.Raise(ctx, limits.Alert{Kind: limits.Flood, Level: limits.LevelSuspend, Device: flooded.KeyID, Shop: f.opID, Figure: 50, Threshold: 50, Window: 10, Raised: now, Updated: now})
	store.Raise(ctx, limits.Alert{Kind: limits.NightBurst, Level: limits.LevelAlert, Device: watched.KeyID, Shop: f.opID, Clerk: "RSSMRA50B17A558W", Figure: 21, Threshold: 20, Window: 120, Raised: now, Updated: now})
	if _, err := f.ops.SuspendDevice(flooded.KeyID, "system:limits", "flood"); err != nil {
		t.Fatal(err)
	}

	admin, tok := f.login(t, "admin")
	_, home := get(t, admin, f.srv.URL+"/admin/")
	if !strings.Contains(home, `id="alerts-badge"`) || !strings.Contains(home, `<span class="n">2</span> allerte da esaminare`) {
		t.Fatalf("the dashboard does not count 2 open alerts:\n%s", home)
	}
	_, page := get(t, admin, f.srv.URL+"/admin/alerts")
	for _, want := range []string{"Cassa flood", "Cassa notte", "Edicola Test", "raffica di richieste oltre il limite", "richieste di notte",
		"RSSMRA50B17A558W", "sospensione", "Esamina e riattiva", "Esamina e chiudi", `action="/admin/alerts/limits"`, "--limit-device-rate"} {
		if !strings.Contains(page, want) {
			t.Errorf("the alerts page lacks %q", want)
		}
	}
	if _, en := get(t, admin, f.srv.URL+"/admin/alerts?lang=en"); !strings.Contains(en, "Review and reinstate") || !strings.Contains(en, "flood of rate-limited requests") {
		t.Error("the English page is not in English")
	}
	review := "/admin/alerts/devices/" + flooded.KeyID + "/review"
	finance, finTok := f.login(t, "finance")
	if resp, _ := post(t, finance, f.srv.URL+review, url.Values{"csrf": {finTok}, "note": {"ok"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("finance staff's review: %s", resp.Status)
	}
	if resp, body := post(t, admin, f.srv.URL+review, url.Values{"csrf": {tok}, "note": {"  "}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "nota") {
		t.Errorf("a review without a note: %s", resp.Status)
	}
	if d, _ := f.ops.Device(flooded.KeyID); d.Status != operators.DeviceSuspended {
		t.Fatalf("a refused review changed the device: %s", d.Status)
	}
	if resp, _ := post(t, admin, f.srv.URL+review, url.Values{"csrf": {tok}, "note": {"telefonato all'esercente: script di prova, fermato"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the review: %s", resp.Status)
	}
	d, _ := f.ops.Device(flooded.KeyID)
	if d.Status != operators.DeviceActive || len(d.History) != 2 || d.History[1].By != "staff:admin" || !strings.Contains(d.History[1].Reason, "script di prova") {
		t.Fatalf("after the review: %+v", d)
	}
	all, _ := store.Alerts(ctx)
	for _, a := range all {
		if open := a.Device == watched.KeyID; a.Open() != open {
			t.Errorf("alert %+v: open %v after the review of the flooded device only", a, a.Open())
		}
	}
	_, home = get(t, admin, f.srv.URL+"/admin/")
	if !strings.Contains(home, `<span class="n">1</span> allerte da esaminare`) {
		t.Error("the badge does not count the one alert left")
	}
	if resp, body := post(t, admin, f.srv.URL+"/admin/alerts/limits", url.Values{"csrf": {tok}, "flood-alert": {"70"}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "flood-suspend") {
		t.Errorf("an alert threshold above the suspension: %s", resp.Status)
	}
	if resp, _ := post(t, admin, f.srv.URL+"/admin/alerts/limits", url.Values{"csrf": {tok}, "device-rate": {"12"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting a limit: %s", resp.Status)
	}
	if cfg, _ := f.con.Settings.Current(); cfg.Limits.DeviceRate != 12 {
		t.Errorf("device rate %d after the change", cfg.Limits.DeviceRate)
	}
	if _, page := get(t, admin, f.srv.URL+"/admin/alerts?all=1"); !strings.Contains(page, "limit device-rate: 20 → 12") || !strings.Contains(page, "script di prova") {
		t.Error("the page does not show the change's history or the reviewed alert")
	}
}
