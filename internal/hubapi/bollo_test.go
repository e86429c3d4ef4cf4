package hubapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/fees"
)

// TestContrassegnoAndUseAPI: the contrassegno and the destination of use
// travel from the request to the certificate; a second use of a marca is
// a 409 with reason contrassegno_used, the other bad inputs 4xx with their
// reason, and none of them consumes a protocol number.
func TestContrassegnoAndUseAPI(t *testing.T) {
	f := newFixture(t)
	cf := f.cfs[1]
	const marca = "01234567890123"
	resp, body := f.post(t, "m1", map[string]any{"cf": cf, "types": []string{"residenza"}, "contrassegno": marca}, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("first use: %d %s", resp.StatusCode, body)
	}
	var got api.Certificate
	json.Unmarshal(body, &got)
	rec, err := f.desk.Certs.Get(got.ID)
	if err != nil || rec.Contrassegno != marca || got.Fees[0].Kind != fees.Bollo || got.Fees[0].Contrassegno != marca {
		t.Errorf("record %+v fees %+v: %v", rec, got.Fees, err)
	}
	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		reason string
	}{
		{"marca used again", map[string]any{"cf": cf, "types": []string{"stato_di_famiglia"}, "contrassegno": marca}, 409, "contrassegno_used"},
		{"marca malformed", map[string]any{"cf": cf, "types": []string{"residenza"}, "contrassegno": "0123-4567"}, 422, "contrassegno_invalid"},
		{"marca on an exempt certificate", map[string]any{"cf": cf, "types": []string{"residenza"}, "contrassegno": "11111111111111", "exemption": map[string]any{"code": 9}}, 422, "contrassegno_on_exempt"},
		{"unknown use", map[string]any{"cf": cf, "types": []string{"residenza"}, "use": "vacanze"}, 422, "unknown_use"},
		{"court use in bollo", map[string]any{"cf": cf, "types": []string{"residenza"}, "use": "giudiziario"}, 422, "use_conflicts_exemption"},
		{"exemption 10 at a shop", map[string]any{"cf": cf, "types": []string{"residenza"}, "exemption": map[string]any{"code": 10}}, 422, "exemption_not_allowed"},
		{"diritti flag without 99", map[string]any{"cf": cf, "types": []string{"residenza"}, "exemption": map[string]any{"code": 7, "diritti_exempt": true}}, 422, "diritti_exemption_not_99"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.post(t, tt.name, tt.body, true)
			var p api.Problem
			json.Unmarshal(body, &p)
			if resp.StatusCode != tt.status || p.Reason != tt.reason || p.Message == "" {
				t.Errorf("got %d %+v, want %d %s", resp.StatusCode, p, tt.status, tt.reason)
			}
		})
	}
	resp, body = f.post(t, "court", map[string]any{"cf": cf, "types": []string{"residenza"}, "use": "giudiziario", "exemption": map[string]any{"code": 3}}, true)
	json.Unmarshal(body, &got)
	if resp.StatusCode != http.StatusCreated || got.Protocol != "2026/0000002" {
		t.Fatalf("court use after the refusals: %d %s", resp.StatusCode, body)
	}
	if rec, err := f.desk.Certs.Get(got.ID); err != nil || rec.Use != "giudiziario" {
		t.Errorf("record use %q: %v", rec.Use, err)
	}
}
