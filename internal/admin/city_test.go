package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/admin/staff"
)

// TestFeeCap: only an admin changes the cap, with the form's CSRF token; a
// cap below an agreement in force is refused naming the shop; a change is
// recorded with who made it and reaches the operators' policy.
func TestFeeCap(t *testing.T) {
	f := newFixture(t) // the shop's agreement charges 1,50 EUR
	admin, tok := f.login(t, "admin")
	clerk, clerkTok := f.login(t, "clerk")
	_, page := get(t, admin, f.srv.URL+"/admin/fees")
	if !strings.Contains(page, `action="/admin/fees/cap"`) {
		t.Fatal("the admin's fee page has no cap form")
	}
	if _, page := get(t, clerk, f.srv.URL+"/admin/fees"); strings.Contains(page, `action="/admin/fees/cap"`) {
		t.Error("the clerk's fee page offers the cap form")
	}
	tests := []struct {
		name   string
		c      *http.Client
		form   url.Values
		status int
		want   string // in the answer
		cap    int    // the cap after
	}{
		{"clerk", clerk, url.Values{"csrf": {clerkTok}, "cap": {"1,80"}}, http.StatusForbidden, "", 200},
		{"no token", admin, url.Values{"cap": {"1,80"}}, http.StatusForbidden, "", 200},
		{"not an amount", admin, url.Values{"csrf": {tok}, "cap": {"due"}}, http.StatusUnprocessableEntity, "non è un importo in euro", 200},
		{"below the agreement", admin, url.Values{"csrf": {tok}, "cap": {"1,20"}}, http.StatusUnprocessableEntity, "Edicola Test (1,50 EUR)", 200},
		{"admin", admin, url.Values{"csrf": {tok}, "cap": {"1,80"}}, http.StatusSeeOther, "", 180},
	}
	for _, tt := range tests {
		resp, body := post(t, tt.c, f.srv.URL+"/admin/fees/cap", tt.form)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %s, want %d with %q", tt.name, resp.Status, tt.status, tt.want)
		}
		if got := f.ops.CurrentPolicy().FeeCapCents; got != tt.cap {
			t.Errorf("%s: the operators' cap is %d, want %d", tt.name, got, tt.cap)
		}
	}
	_, page = get(t, admin, f.srv.URL+"/admin/fees")
	if !strings.Contains(page, "1,80") || !strings.Contains(page, "staff:admin") || !strings.Contains(page, "fee cap: 2,00 EUR → 1,80 EUR") {
		t.Errorf("the fee page does not show the new cap and who set it")
	}
	// An agreement above the new cap is refused.
	resp, _ := post(t, admin, f.srv.URL+"/admin/operators/"+f.opID+"/agreement", url.Values{"csrf": {tok},
		"signed": {"2026-03-07"}, "expires": {"2027-04-07"}, "fee": {"2,00"}, "types": {"residenza"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an agreement of 2,00 EUR under a cap of 1,80: %s", resp.Status)
	}
}

// TestStaffManagement: an admin disables, re-enables and resets the
// password of an account; each ends the account's sessions and is recorded
// with who and when; other roles cannot, and an admin cannot disable
// themself.
func TestStaffManagement(t *testing.T) {
	f := newFixture(t)
	admin, tok := f.login(t, "admin")
	clerk, clerkTok := f.login(t, "clerk")
	staffURL := f.srv.URL + "/admin/staff/"

	if resp, _ := post(t, clerk, staffURL+"finance/disable", url.Values{"csrf": {clerkTok}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("clerk disabling: %s", resp.Status)
	}
	if resp, _ := post(t, admin, staffURL+"clerk/disable", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("disable without the CSRF token: %s", resp.Status)
	}
	if resp, body := post(t, admin, staffURL+"admin/disable", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "tuo stesso account") {
		t.Errorf("admin disabling themself: %s", resp.Status)
	}
	if resp, _ := post(t, admin, staffURL+"ghost/disable", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("disabling an unknown account: %s", resp.Status)
	}

	if resp, _ := post(t, admin, staffURL+"clerk/disable", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %s", resp.Status)
	}
	if resp, _ := get(t, clerk, f.srv.URL+"/admin/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the disabled clerk's session still opens pages: %s", resp.Status)
	}
	acc, err := f.con.Staff.Account("clerk")
	if err != nil || !acc.Disabled || acc.LastChange() == nil || acc.LastChange().By != "staff:admin" || acc.LastChange().What != "disabled" {
		t.Fatalf("after disabling: %+v %v", acc, err)
	}
	if resp, _ := post(t, admin, staffURL+"clerk/disable", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("disabling twice: %s", resp.Status)
	}
	_, page := get(t, admin, f.srv.URL+"/admin/staff")
	if !strings.Contains(page, "disattivato") || !strings.Contains(page, `action="/admin/staff/clerk/enable"`) {
		t.Error("the staff page does not show the clerk disabled with a button to re-enable")
	}

	if resp, _ := post(t, admin, staffURL+"clerk/enable", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %s", resp.Status)
	}
	f.login(t, "clerk") // signs in again

	if resp, _ := post(t, admin, staffURL+"clerk/password", url.Values{"csrf": {tok}, "password": {"short"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a too short password: %s", resp.Status)
	}
	newPW := "una-password-nuova-lunga"
	if resp, _ := post(t, admin, staffURL+"clerk/password", url.Values{"csrf": {tok}, "password": {newPW}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password reset: %s", resp.Status)
	}
	if _, _, _, err := f.con.Staff.Login(context.Background(), staff.Attempt{User: "clerk", Password: pw}); err == nil {
		t.Error("the old password still signs in")
	}
	if _, _, _, err := f.con.Staff.Login(context.Background(), staff.Attempt{User: "clerk", Password: newPW}); err != nil {
		t.Errorf("the new password: %v", err)
	}
	acc, _ = f.con.Staff.Account("clerk")
	if len(acc.History) != 3 || acc.History[2].What != "password reset" {
		t.Errorf("history %+v", acc.History)
	}
}

// TestOfflineLimitsPage: the fee page shows the offline limits kiosks
// receive; only an admin changes them, one field at a time, with the CSRF
// token; nonsense is refused with the reason; a change is recorded with who
// made it and reaches the operators' policy, which the agreement hands on.
func TestOfflineLimitsPage(t *testing.T) {
	f := newFixture(t)
	admin, tok := f.login(t, "admin")
	clerk, clerkTok := f.login(t, "clerk")
	_, page := get(t, admin, f.srv.URL+"/admin/fees")
	if !strings.Contains(page, `action="/admin/fees/offline"`) || !strings.Contains(page, "50,00") || !strings.Contains(page, "500,00") {
		t.Fatal("the admin's fee page shows no offline limits and no form for them")
	}
	if _, page := get(t, clerk, f.srv.URL+"/admin/fees"); strings.Contains(page, `action="/admin/fees/offline"`) || !strings.Contains(page, "Limiti delle vendite fuori linea") {
		t.Error("the clerk's fee page offers the form, or does not show the limits")
	}
	tests := []struct {
		name   string
		c      *http.Client
		form   url.Values
		status int
		want   string
		sale   int64 // the cap per sale after
	}{
		{"clerk", clerk, url.Values{"csrf": {clerkTok}, "sale": {"20,00"}}, http.StatusForbidden, "", 5000},
		{"no token", admin, url.Values{"sale": {"20,00"}}, http.StatusForbidden, "", 5000},
		{"nothing", admin, url.Values{"csrf": {tok}}, http.StatusUnprocessableEntity, "Nessun valore è cambiato", 5000},
		{"not an amount", admin, url.Values{"csrf": {tok}, "sale": {"venti"}}, http.StatusUnprocessableEntity, "non è un importo in euro", 5000},
		{"over the total", admin, url.Values{"csrf": {tok}, "sale": {"600,00"}}, http.StatusUnprocessableEntity, "above the offline total cap", 5000},
		{"hours not a number", admin, url.Values{"csrf": {tok}, "hours": {"mezza"}}, http.StatusUnprocessableEntity, "non è un numero intero", 5000},
		{"admin", admin, url.Values{"csrf": {tok}, "sale": {"20,00"}, "hours": {"8"}}, http.StatusSeeOther, "", 2000},
	}
	for _, tt := range tests {
		resp, body := post(t, tt.c, f.srv.URL+"/admin/fees/offline", tt.form)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %s, want %d with %q", tt.name, resp.Status, tt.status, tt.want)
		}
		if got := f.ops.CurrentPolicy().Offline.OperationCents; got != tt.sale {
			t.Errorf("%s: the policy's cap per sale is %d, want %d", tt.name, got, tt.sale)
		}
	}
	if got := f.ops.CurrentPolicy().Offline; got.AgeHours != 8 || got.TotalCents != 50000 {
		t.Errorf("policy %+v, want 8 hours and the default total", got)
	}
	_, page = get(t, admin, f.srv.URL+"/admin/fees")
	if !strings.Contains(page, "offline cap per sale: 50,00 EUR → 20,00 EUR") || !strings.Contains(page, "staff:admin") {
		t.Error("the fee page does not show the change and who made it")
	}
}

// TestRetentionPage: the fee page, the city's settings page, shows how long
// records and PDFs are kept; only an admin changes them, with the CSRF
// token; a period under the law's 36 months is refused with the reason; a
// change is recorded with who made it.
func TestRetentionPage(t *testing.T) {
	f := newFixture(t)
	admin, tok := f.login(t, "admin")
	clerk, clerkTok := f.login(t, "clerk")
	_, page := get(t, admin, f.srv.URL+"/admin/fees")
	if !strings.Contains(page, `action="/admin/fees/retention"`) || !strings.Contains(page, `id="retention-months">36<`) || !strings.Contains(page, `id="retention-pdf-days">30<`) {
		t.Fatal("the admin's fee page shows no retention periods and no form for them")
	}
	if _, page := get(t, clerk, f.srv.URL+"/admin/fees"); strings.Contains(page, `action="/admin/fees/retention"`) || !strings.Contains(page, "Conservazione dei dati") {
		t.Error("the clerk's fee page offers the form, or does not show the periods")
	}
	tests := []struct {
		name           string
		c              *http.Client
		form           url.Values
		status         int
		want           string
		months, pdfDay int // in force after
	}{
		{"clerk", clerk, url.Values{"csrf": {clerkTok}, "months": {"48"}}, http.StatusForbidden, "", 36, 30},
		{"no token", admin, url.Values{"months": {"48"}}, http.StatusForbidden, "", 36, 30},
		{"nothing", admin, url.Values{"csrf": {tok}}, http.StatusUnprocessableEntity, "Nessun valore è cambiato", 36, 30},
		{"under 36 months", admin, url.Values{"csrf": {tok}, "months": {"12"}}, http.StatusUnprocessableEntity, "between 36 and 120 months", 36, 30},
		{"not a number", admin, url.Values{"csrf": {tok}, "pdfdays": {"trenta"}}, http.StatusUnprocessableEntity, "non è un numero intero", 36, 30},
		{"admin", admin, url.Values{"csrf": {tok}, "months": {"48"}, "pdfdays": {"14"}}, http.StatusSeeOther, "", 48, 14},
	}
	for _, tt := range tests {
		resp, body := post(t, tt.c, f.srv.URL+"/admin/fees/retention", tt.form)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %s, want %d with %q", tt.name, resp.Status, tt.status, tt.want)
		}
		cfg, _ := f.con.Settings.Current()
		if cfg.Retention.RecordsMonths != tt.months || cfg.Retention.PDFDays != tt.pdfDay {
			t.Errorf("%s: in force %+v, want %d months and %d days", tt.name, cfg.Retention, tt.months, tt.pdfDay)
		}
	}
	_, page = get(t, admin, f.srv.URL+"/admin/fees")
	if !strings.Contains(page, "records kept: 36 months → 48 months") || !strings.Contains(page, `id="retention-months">48<`) {
		t.Error("the fee page does not show the change")
	}
}

// TestCertificateSettings: an admin changes the diritti of one channel,
// turns the stato civile exemption on with the bollo authorisation and
// names the officer and register codes; each change reaches the settings
// and the page with its history, only what the form changed is recorded,
// and a refused value shows its sentence in the staff member's language
// with its reason code, changing nothing. A clerk sees the values and no
// form.
func TestCertificateSettings(t *testing.T) {
	f := newFixture(t)
	admin, tok := f.login(t, "admin")
	clerk, clerkTok := f.login(t, "clerk")
	_, page := get(t, admin, f.srv.URL+"/admin/fees")
	for _, want := range []string{`action="/admin/fees/diritti"`, `action="/admin/fees/bollo"`, `action="/admin/fees/certificates"`,
		`id="diritti-counter">0,52 € / 0,26 €`, "in bollo, come li rilascia ANPR (predefinito)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the admin's fee page lacks %q", want)
		}
	}
	if _, page := get(t, clerk, f.srv.URL+"/admin/fees"); strings.Contains(page, `action="/admin/fees/diritti"`) || !strings.Contains(page, `id="diritti-office">0,52 € / 0,26 €`) {
		t.Error("the clerk's fee page offers the diritti form or hides the diritti")
	}
	diritti := func(counter, self string) url.Values {
		v := url.Values{"csrf": {tok}}
		for ch, r := range map[string]string{"counter": counter, "self_service": self, "office": "0,52/0,26"} {
			a, b, _ := strings.Cut(r, "/")
			v.Set("diritti-"+ch+"-bollo", a)
			v.Set("diritti-"+ch+"-exempt", b)
		}
		return v
	}
	tests := []struct {
		name, path string
		c          *http.Client
		form       url.Values
		status     int
		want       string // in the answer
		reason     string // Sportello-Reason
	}{
		{"clerk", "diritti", clerk, url.Values{"csrf": {clerkTok}}, http.StatusForbidden, "", "role_forbidden"},
		{"none at the counter", "diritti", admin, diritti("0,00/0,00", "0,52/0,26"), http.StatusUnprocessableEntity,
			"Solo il chiosco self-service può non applicare diritti: sul canale «sportello dell&#39;esercente»", "diritti_none_not_allowed"},
		{"exempt above in bollo", "diritti", admin, diritti("0,52/0,60", "0,52/0,26"), http.StatusUnprocessableEntity, "non possono superare quelli in bollo (0,52 EUR)", "diritti_exempt_above"},
		{"not an amount", "diritti", admin, diritti("zero/0,26", "0,52/0,26"), http.StatusUnprocessableEntity, "«zero» non è un importo in euro", "setting_amount"},
		{"unchanged", "diritti", admin, diritti("0,52/0,26", "0,52/0,26"), http.StatusUnprocessableEntity, "Nessun valore è cambiato", "setting_unchanged"},
		{"diritti", "diritti", admin, diritti("0,60/0,30", "0/0"), http.StatusSeeOther, "", ""},
		{"bad authorisation", "bollo", admin, url.Values{"csrf": {tok}, "authorisation": {"123/2019"}, "exempt": {"off"}}, http.StatusUnprocessableEntity,
			"«123/2019» non è un&#39;autorizzazione nella forma", "bollo_authorisation_invalid"},
		{"bollo", "bollo", admin, url.Values{"csrf": {tok}, "authorisation": {"n. 123/2019 del 15/01/2019"}, "exempt": {"on"}}, http.StatusSeeOther, "", ""},
		{"bad IPA", "certificates", admin, url.Values{"csrf": {tok}, "ipa": {"comune di milano"}}, http.StatusUnprocessableEntity, "non è un codice dell&#39;Indice PA come c_f205", "ipa_code_invalid"},
		{"codes partly set", "certificates", admin, url.Values{"csrf": {tok}, "ipa": {"c_f205"}}, http.StatusUnprocessableEntity,
			"Manca «Codice AOO»: il numero di ogni certificato porta insieme i codici IPA, AOO e del registro", "setting_register_partial"},
		{"officer and codes", "certificates", admin, url.Values{"csrf": {tok}, "officer": {"Maria Rossi"}, "delegation": {"decreto sindacale n. 12 del 03/02/2025"},
			"seal_rule": {""}, "ipa": {"C_F205"}, "aoo": {"A1B2C3D"}, "register": {"CERT"}}, http.StatusSeeOther, "", ""},
	}
	for _, tt := range tests {
		before, _ := f.con.Settings.Stored()
		resp, body := post(t, tt.c, f.srv.URL+"/admin/fees/"+tt.path, tt.form)
		if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) || resp.Header.Get("Sportello-Reason") != tt.reason {
			t.Errorf("%s: %s %q, want %d with %q and reason %q", tt.name, resp.Status, resp.Header.Get("Sportello-Reason"), tt.status, tt.want, tt.reason)
		}
		if after, _ := f.con.Settings.Stored(); tt.status != http.StatusSeeOther && len(after.History) != len(before.History) {
			t.Errorf("%s: a refused change was recorded: %v", tt.name, after.History[len(before.History):])
		}
	}
	cfg, _ := f.con.Settings.Current()
	pol := cfg.CertificatePolicy()
	if pol.DirittiOn("counter").InBolloCents != 60 || pol.DirittiOn("self_service").InBolloCents != 0 || !pol.LawExemption ||
		cfg.OfficerName != "Maria Rossi" || cfg.IPACode != "c_f205" || cfg.SealRule != "" {
		t.Errorf("settings after the forms: %+v", cfg)
	}
	stored, _ := f.con.Settings.Stored()
	if _, set := stored.Diritti["office"]; set {
		t.Error("the office's diritti, unchanged in the form, were recorded as set")
	}
	_, page = get(t, admin, f.srv.URL+"/admin/fees")
	for _, want := range []string{`id="diritti-counter">0,60 € / 0,30 €`, `id="diritti-self_service">0,00 € / 0,00 €`,
		"diritti counter: 0,52/0,26 EUR → 0,60/0,30 EUR", "birth, marriage and civil union exemption: off → on", "IPA code: (none) → c_f205",
		"esenti da bollo e diritti (art. 7, comma 5, L. 405/1990)", `value="Maria Rossi"`} {
		if !strings.Contains(page, want) {
			t.Errorf("after the changes the fee page lacks %q", want)
		}
	}
	// In English, a refusal reads in English.
	en := url.Values{"csrf": {tok}, "ipa": {"c_f205"}, "aoo": {"AOO MI"}, "officer": {"Maria Rossi"}, "delegation": {"decreto sindacale n. 12 del 03/02/2025"}, "register": {"CERT"}}
	if resp, body := post(t, admin, f.srv.URL+"/admin/fees/certificates?lang=en", en); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "«AOO MI» is not an AOO code such as A1B2C3D") {
		t.Errorf("English refusal: %s\n%s", resp.Status, body)
	}
}
