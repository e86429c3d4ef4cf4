package hubapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/accesslog"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/store"
)

func (f *fixture) get(t *testing.T, path string, sign bool) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	return send(t, req, signerIf(sign, f.signer), nil)
}

// identify posts body to the look-up, signed as dev-1 when sign is set.
func (f *fixture) identify(t *testing.T, body any, sign bool) (*http.Response, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+api.PathIdentify, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return send(t, req, signerIf(sign, f.signer), b)
}

// TestPersonLookup: the kiosk's look-up identifies the requester from the
// evidence the hub verifies itself, and answers them with their famiglia
// anagrafica; each person shown is in the audit log.
func TestPersonLookup(t *testing.T) {
	f := newFixtureOf(t, 400)
	c := f.d.Cast(t)
	nis := issuancetest.CIENIS(t, f.d.Store, c.Requester, testNow)
	tap := issuancetest.API(issuancetest.CIETap(t, virtual.Genuine, "dev-1", nis, testNow, true))
	doc := f.ev(t, c.Requester)

	tests := []struct {
		name   string
		body   any
		sign   bool
		status int
		reason string
	}{
		{"by CIE tap at self-service", api.IdentifyRequest{Requester: *tap, Channel: api.ChannelSelfService}, true, 200, ""},
		{"by CF and document", api.IdentifyRequest{Requester: *doc, Channel: api.ChannelCounter}, true, 200, ""},
		{"unsigned", api.IdentifyRequest{Requester: *doc}, false, 401, ""},
		{"no evidence", api.IdentifyRequest{}, true, 400, api.ReasonRequesterEvidenceRequired},
		{"bad channel", api.IdentifyRequest{Requester: *doc, Channel: "web"}, true, 400, "bad_request"},
		{"a bare codice fiscale", map[string]any{"cf": c.Requester}, true, 400, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.identify(t, tt.body, tt.sign)
			if tt.status == 401 {
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Fatalf("unsigned look-up answered %d", resp.StatusCode)
				}
				return
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				var p api.Problem
				json.Unmarshal(body, &p)
				if p.Reason != tt.reason || p.Message == "" {
					t.Errorf("problem %+v, want reason %s", p, tt.reason)
				}
				return
			}
			var v api.Person
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			member := false
			for _, m := range v.Family {
				member = member || m.CF == c.Member
				if m.CF == c.Requester || m.Relationship == 0 {
					t.Errorf("family member %+v", m)
				}
			}
			if v.CF != c.Requester || !member {
				t.Errorf("view %+v, want %s with %s in the family", v, c.Requester, c.Member)
			}
		})
	}

	// A lodger of a convivenza is answered alone: a convivenza is not a
	// household, so its members are not whom they may ask about.
	resp, body := f.identify(t, api.IdentifyRequest{Requester: *f.ev(t, c.Lodger)}, true)
	var lodger api.Person
	if json.Unmarshal(body, &lodger); resp.StatusCode != 200 || lodger.CF != c.Lodger || len(lodger.Family) != 0 {
		t.Errorf("a lodger's look-up: %d %s", resp.StatusCode, body)
	}

	// Two successful look-ups of the requester: each recorded, as the device.
	rec := store.AuditLog{S: f.desk.Stores}
	es, err := rec.Search(audit.Query{Subject: c.Requester}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Actor != (audit.Actor{Kind: audit.Device, ID: "dev-1"}) || es[0].Channel != "self_service" || es[1].Channel != "counter" {
		t.Fatalf("audit entries for the requester: %+v", es)
	}
	mes, _ := rec.Search(audit.Query{Subject: c.Member}, 100)
	if len(mes) != 2 {
		t.Errorf("the family member shown twice has %d audit entries", len(mes))
	}
	// The member's own access log says they were shown as a member of
	// the requester's family, by name, without the requester's codice
	// fiscale, which the audit log keeps for the inspector.
	for _, l := range accesslog.Build(mes, oneShop{}, nil) {
		if strings.Contains(l.What+l.Why, c.Requester) {
			t.Errorf("the member's access log shows the requester's codice fiscale: %+v", l)
		}
		if !strings.Contains(l.What, "famiglia di") {
			t.Errorf("the member's access log does not say whose family: %+v", l)
		}
	}
	for _, e := range mes {
		if !strings.Contains(e.Purpose+e.Data, c.Requester) {
			t.Errorf("the audit entry of the member's read lost the requester: %+v", e)
		}
	}
}

type oneShop struct{}

func (oneShop) Place(audit.Actor) string { return "Edicola" }
