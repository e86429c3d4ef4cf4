package admin

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOperatorPageShowsWidening: the operator page says whether the
// agreement widens the counter beyond the requester's household and on
// what legal basis; editing the agreement in the console keeps it.
func TestOperatorPageShowsWidening(t *testing.T) {
	f := newFixture(t)
	admin, tok := f.login(t, "admin")
	u := f.srv.URL + "/admin/operators/" + f.opID
	if _, page := get(t, admin, u); !strings.Contains(page, "solo il richiedente e la sua famiglia anagrafica") {
		t.Fatalf("the page does not say the agreement keeps the household rule")
	}
	const basis = "art. 33 DPR 223/1989 — certificati a chiunque ne faccia richiesta, convenzione n. 12/2026"
	if _, err := f.ops.SetWidening(f.opID, basis); err != nil {
		t.Fatal(err)
	}
	if _, page := get(t, admin, u); !strings.Contains(html.UnescapeString(page), basis) {
		t.Fatalf("the page does not name the widening's legal basis")
	}
	resp, _ := post(t, admin, u+"/agreement", url.Values{"csrf": {tok},
		"signed": {"2026-03-07"}, "expires": {"2027-04-07"}, "fee": {"1,50"}, "types": {"residenza"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("editing the agreement: %s", resp.Status)
	}
	if o, err := f.ops.Get(f.opID); err != nil || o.Agreement.Widening != basis || o.Agreement.FeeCents != 150 {
		t.Errorf("after the console's edit: %+v %v, want the widening kept", o.Agreement, err)
	}
}
