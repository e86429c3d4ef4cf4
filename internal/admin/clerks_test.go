package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/operators"
)

// City staff enable a shop's clerk on the operator page, suspend them with
// a reason and reinstate them; each change is in the clerk's history under
// the staff account, and staff without the permission cannot.
func TestClerksOnOperatorPage(t *testing.T) {
	f := newFixture(t)
	c, tok := f.login(t, "clerk")
	page := f.srv.URL + "/admin/operators/" + f.opID
	add := f.srv.URL + "/admin/operators/" + f.opID + "/clerks"
	form := url.Values{"csrf": {tok}, "cf": {"MRTMRA83T56A269B"}, "name": {"Maria Moretti"}, "trained": {"2026-03-01"}, "until": {"2027-03-31"}}

	if resp, _ := post(t, c, add, url.Values{"cf": form["cf"], "name": form["name"], "trained": form["trained"], "until": form["until"]}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("enabling without the CSRF token: %s", resp.Status)
	}
	bad := url.Values{"csrf": {tok}, "cf": {"MRTMRA83T56A269B"}, "name": {"Maria Moretti"}, "trained": {"2026-03-01"}, "until": {"2026-03-31"}}
	if resp, body := post(t, c, add, bad); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "already past") {
		t.Errorf("enabling until a past day: %s", resp.Status)
	}
	if resp, _ := post(t, c, add, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("enabling: %s", resp.Status)
	}
	ks, err := f.ops.Clerks(f.opID)
	if err != nil || len(ks) != 1 || ks[0].CF != "MRTMRA83T56A269B" || ks[0].History[0].By != "staff:clerk" {
		t.Fatalf("clerks after enabling: %+v, %v", ks, err)
	}
	id := ks[0].ID
	_, body := get(t, c, page)
	if !strings.Contains(body, `id="clerk-list"`) || !strings.Contains(body, "Maria Moretti") || !strings.Contains(body, "2027-03-31") {
		t.Fatal("the operator page does not list the clerk")
	}

	status := f.srv.URL + "/admin/clerks/" + id + "/status"
	if resp, _ := post(t, c, status, url.Values{"csrf": {tok}, "to": {"suspended"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("suspension without a reason: %s", resp.Status)
	}
	if resp, _ := post(t, c, status, url.Values{"csrf": {tok}, "to": {"suspended"}, "reason": {"reclamo in istruttoria"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspension: %s", resp.Status)
	}
	if k, _ := f.ops.Clerk(id); k.Status != operators.ClerkSuspended || k.LastChange().Reason != "reclamo in istruttoria" {
		t.Fatalf("after suspension: %+v", k)
	}
	if _, body := get(t, c, page); !strings.Contains(body, "reclamo in istruttoria") {
		t.Error("the page does not say why the clerk is suspended")
	}
	if resp, _ := post(t, c, status, url.Values{"csrf": {tok}, "to": {"active"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reinstatement: %s", resp.Status)
	}
	if k, _ := f.ops.Clerk(id); k.Status != operators.ClerkActive || len(k.History) != 3 {
		t.Fatalf("after reinstatement: %+v", k)
	}

	// An auditor sees the list but may not change it.
	ac, atok := f.login(t, "auditor")
	if resp, _ := post(t, ac, status, url.Values{"csrf": {atok}, "to": {"suspended"}, "reason": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an auditor suspending a clerk: %s", resp.Status)
	}
	if _, body := get(t, ac, page); !strings.Contains(body, "Maria Moretti") || strings.Contains(body, `id="clerk-add"`) {
		t.Error("the auditor's page lacks the list, or offers the form")
	}
}

// The audit page names the clerk beside the device, and finds a clerk's
// reads by clerk:ID.
func TestAuditPageNamesClerk(t *testing.T) {
	f := newFixture(t)
	e := audit.Entry{Time: f.con.now(), Actor: audit.Actor{Kind: audit.Device, ID: "dev-abc"}, Purpose: "identificazione",
		Subject: f.cf, Data: "scheda anagrafica", Channel: "counter", Clerk: audit.Clerk{ID: "cl-0007", Name: "Maria Moretti"}}
	if err := f.con.reads().Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	c, _ := f.login(t, "auditor")
	_, body := get(t, c, f.srv.URL+"/admin/audit?actor="+url.QueryEscape("clerk:cl-0007"))
	if !strings.Contains(body, "device:dev-abc") || !strings.Contains(body, "clerk:cl-0007 (Maria Moretti)") {
		t.Fatal("the audit page does not name the clerk beside the device")
	}
}
