package hubapi

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// TestEligibilityIsIssuance: the look-up tells, for the requester and each
// member of their famiglia anagrafica, which types they may have at this
// counter and why each other type is missing, and issuing agrees with it
// type by type: every missing type is refused with the very reason code
// the look-up gave, and every allowed one is issued. A member holding two
// citizenships is told several_citizenships for cittadinanza; the
// look-up's audit entries say the eligibility was read too.
func TestEligibilityIsIssuance(t *testing.T) {
	f := newOpenFixture(t)
	c := f.d.Cast(t)
	// The member holds two citizenships: ANPR issues no certificate of
	// cittadinanza then (certificate.ReasonSeveralCitizenships).
	if err := f.d.Store.Update(context.Background(), func(w registry.Writer) error {
		p, err := w.PersonByCF(c.Member)
		if err != nil {
			return err
		}
		p.Citizenships = []string{"100", "215"}
		return w.PutPerson(p)
	}); err != nil {
		t.Fatal(err)
	}
	resp, body := f.identify(t, api.IdentifyRequest{Requester: *f.ev(t, c.Requester), Channel: api.ChannelCounter}, true)
	if resp.StatusCode != 200 {
		t.Fatalf("look-up: %d %s", resp.StatusCode, body)
	}
	var v api.Person
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	subjects := map[string]*api.Eligibility{v.CF: v.Eligibility}
	for _, m := range v.Family {
		subjects[m.CF] = m.Eligibility
	}
	if subjects[c.Member] == nil {
		t.Fatalf("the member %s is not in the answer: %s", c.Member, body)
	}
	member := subjects[c.Member]
	if !slices.Contains(member.Missing, api.TypeMissing{Type: string(certificate.Cittadinanza), Reason: certificate.ReasonSeveralCitizenships}) {
		t.Errorf("the member with two citizenships: %+v, want cittadinanza missing for several_citizenships", member)
	}
	n := 0
	for cf, e := range subjects {
		if e == nil {
			t.Fatalf("no eligibility for %s: %s", cf, body)
		}
		// Each type is judged once: allowed or missing.
		judged := map[string]int{}
		for _, ty := range e.Allowed {
			judged[ty]++
		}
		for _, m := range e.Missing {
			judged[m.Type]++
			if m.Reason == "" {
				t.Errorf("%s: %s missing without a reason", cf, m.Type)
			}
		}
		for _, ty := range certificate.Types() {
			if judged[string(ty)] != 1 {
				t.Errorf("%s: type %s judged %d times", cf, ty, judged[string(ty)])
			}
		}
		for _, m := range e.Missing {
			body := map[string]any{"cf": cf, "types": []string{m.Type}, "requester": f.ev(t, c.Requester)}
			if certificate.Type(m.Type).Historical() {
				body["at"] = registry.DateOf(testNow.AddDate(-1, 0, 0)).String()
			}
			resp, got := f.post(t, fmt.Sprintf("miss-%s-%s", cf, m.Type), body, true)
			var p api.Problem
			json.Unmarshal(got, &p)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || p.Reason != m.Reason {
				t.Errorf("%s for %s: the look-up said missing for %s, issuing answered %d %s", m.Type, cf, m.Reason, resp.StatusCode, got)
			}
			n++
		}
		if cf != c.Requester {
			continue
		}
		for _, ty := range e.Allowed {
			if certificate.Type(ty).Historical() {
				continue // its date decides; judged without one
			}
			resp, got := f.post(t, "ok-"+ty, map[string]any{"cf": cf, "types": []string{ty}, "requester": f.ev(t, c.Requester)}, true)
			if resp.StatusCode != 201 {
				t.Errorf("%s for the requester: the look-up allowed it, issuing answered %d %s", ty, resp.StatusCode, got)
			}
		}
	}
	t.Logf("%d missing types tried; the requester's answer: %+v", n, v.Eligibility)
	if n == 0 {
		t.Fatal("no missing type was tried")
	}

	// The reads are audited as the look-up's: each person shown, with
	// the certificates they may have.
	rec := store.AuditLog{S: f.desk.Stores}
	es, err := rec.Search(audit.Query{Subject: c.Member}, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range es {
		found = found || strings.Contains(e.Data, "certificati rilasciabili") && strings.Contains(e.Data, "famiglia di")
	}
	if !found {
		t.Errorf("the member's read is not audited with the eligibility: %+v", es)
	}
}

// TestEligibilityAgreement: a type outside the device's agreement is
// missing for operator_not_allowed, as issuing refuses it.
func TestEligibilityAgreement(t *testing.T) {
	f := newFixtureOf(t, 400) // its agreement: residenza and stato di famiglia
	c := f.d.Cast(t)
	_, body := f.identify(t, api.IdentifyRequest{Requester: *f.ev(t, c.Requester)}, true)
	var v api.Person
	if err := json.Unmarshal(body, &v); err != nil || v.Eligibility == nil {
		t.Fatalf("look-up: %v %s", err, body)
	}
	if !slices.Contains(v.Eligibility.Missing, api.TypeMissing{Type: string(certificate.StatoLibero), Reason: certificate.ReasonOperatorNotAllowed}) {
		t.Errorf("stato libero outside the agreement: %+v", v.Eligibility)
	}
	for _, ty := range v.Eligibility.Allowed {
		if ty != string(certificate.Residenza) && ty != string(certificate.StatoDiFamiglia) {
			t.Errorf("%s allowed outside the agreement", ty)
		}
	}
}
