package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/registry"
)

// identifiedResident is a living resident of the hub in data and the
// document evidence a clerk would type for them at a counter (their
// codice fiscale and the number of a document valid today), read through
// `hub person show --json` as staff would: the requester of a certificate
// about themself.
func identifiedResident(t *testing.T, data string) (string, *api.RequesterEvidence) {
	t.Helper()
	r := hub(t, "person", "list", "--data", data, "--limit", "60")
	today := registry.DateOf(time.Now())
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		cand := strings.Fields(line)[0]
		pr := hub(t, "person", "show", "--data", data, "--cf", cand, "--json")
		var rec struct {
			Person registry.Person `json:"person"`
		}
		if err := json.Unmarshal([]byte(pr.stdout), &rec); err != nil {
			continue
		}
		p := &rec.Person
		if _, res := p.CurrentResidence(); !res || !p.Alive() || p.AIRE || p.PartlyCertifiable {
			continue
		}
		if d, ok := p.ValidDocument(today); ok {
			return p.CF, &api.RequesterEvidence{Method: api.EvidenceDocument, CF: p.CF, Document: d.Number}
		}
	}
	t.Fatalf("no resident with a valid document among: %s", r.stdout)
	return "", nil
}
