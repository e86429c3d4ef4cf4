package hubapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/registry"
)

// cieHolders are n residents holding a valid CIE, of different families.
func cieHolders(t *testing.T, f *logFixture, n int) []*registry.Person {
	t.Helper()
	var out []*registry.Person
	families := map[registry.FamilyID]bool{}
	f.desk.Store.View(context.Background(), func(r registry.Reader) error {
		for _, cf := range f.desk.Residents {
			p, err := r.PersonByCF(cf)
			if err != nil {
				return err
			}
			if d, ok := p.ValidDocument(registry.DateOf(testNow)); ok && d.Kind == registry.CIE && !families[p.Family] && p.BirthDate.AgeAt(registry.DateOf(testNow)) >= 18 {
				families[p.Family] = true
				out = append(out, p)
				if len(out) == n {
					return nil
				}
			}
		}
		return nil
	})
	if len(out) < n {
		t.Fatalf("only %d adult residents with a CIE", len(out))
	}
	return out
}

func tapOf(p *registry.Person) api.RequesterEvidence {
	cie, _ := p.ValidDocument(registry.DateOf(testNow))
	return api.RequesterEvidence{Method: api.EvidenceCIE, NIS: cie.NIS, PINProved: true}
}

func (f *logFixture) send(t *testing.T, path, key string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, out := send(t, req, f.signer, b)
	return resp.StatusCode, out
}

// A citizen gives a delegation at a self-service kiosk, sees it, and
// revokes it; a retry gives nothing twice; refusals carry their reason;
// someone else cannot revoke it; every act is in the audit log under both
// names.
func TestDelegationsGiveListRevoke(t *testing.T) {
	f := newLogFixture(t)
	ps := cieHolders(t, f, 3)
	from, to, other := ps[0], ps[1], ps[2]
	give := api.DelegationRequest{Requester: tapOf(from), DelegateCF: to.CF, Until: "2027-05-31",
		Scope: api.DelegationScope{Certificates: []string{"residenza"}, Requests: []string{"cambio_indirizzo"}, Appointments: true}}
	status, body := f.send(t, api.PathDelegations, "k1", give)
	if status != http.StatusCreated {
		t.Fatalf("give: %d %s", status, body)
	}
	var d api.Delegation
	json.Unmarshal(body, &d)
	if d.DelegatorCF != from.CF || d.DelegateCF != to.CF || d.DelegateName != to.FullName() || d.State != "attiva" || d.Until != "2027-05-31" {
		t.Errorf("given %+v", d)
	}
	status, body = f.send(t, api.PathDelegations, "k1", give)
	var again api.Delegation
	json.Unmarshal(body, &again)
	if status != http.StatusOK || again.ID != d.ID {
		t.Errorf("retry: %d %s, want 200 and %s", status, body, d.ID)
	}
	if status, _ := f.send(t, api.PathDelegations, "", give); status != http.StatusBadRequest {
		t.Errorf("no Idempotency-Key: %d", status)
	}
	for _, c := range []struct {
		change func(*api.DelegationRequest)
		status int
		reason string
	}{
		{func(r *api.DelegationRequest) { r.DelegateCF = from.CF }, http.StatusUnprocessableEntity, delegation.ReasonSelf},
		{func(r *api.DelegationRequest) { r.Until = "2026-01-01" }, http.StatusUnprocessableEntity, delegation.ReasonUntilPast},
		{func(r *api.DelegationRequest) { r.Scope = api.DelegationScope{Requests: []string{"dat"}} }, http.StatusUnprocessableEntity, delegation.ReasonScopeNotLawful},
		{func(r *api.DelegationRequest) { r.Requester.PINProved = false }, http.StatusForbidden, api.ReasonIdentificationFailed},
	} {
		r := give
		c.change(&r)
		status, body := f.send(t, api.PathDelegations, "k-"+c.reason, r)
		if status != c.status || reasonOf(body) != c.reason {
			t.Errorf("want %d %s, got %d %s", c.status, c.reason, status, body)
		}
	}

	list := func(p *registry.Person) api.Delegations {
		status, body := f.send(t, api.PathDelegationList, "", api.DelegationsRequest{Requester: tapOf(p)})
		if status != http.StatusOK {
			t.Fatalf("list: %d %s", status, body)
		}
		var l api.Delegations
		json.Unmarshal(body, &l)
		return l
	}
	if l := list(from); len(l.Given) != 1 || l.Given[0].ID != d.ID || len(l.Received) != 0 {
		t.Errorf("the delegator's list: %+v", l)
	}
	if l := list(to); len(l.Received) != 1 || l.Received[0].ID != d.ID || len(l.Given) != 0 {
		t.Errorf("the delegate's list: %+v", l)
	}

	revoke := api.PathDelegationRevoke + d.ID + "/revoke"
	if status, body := f.send(t, revoke, "", api.DelegationsRequest{Requester: tapOf(other)}); status != http.StatusNotFound || reasonOf(body) != delegation.ReasonNotFound {
		t.Errorf("someone else's revocation: %d %s", status, body)
	}
	if status, body := f.send(t, revoke, "", api.DelegationsRequest{Requester: tapOf(to)}); status != http.StatusNotFound {
		t.Errorf("the delegate's revocation: %d %s", status, body)
	}
	status, body = f.send(t, revoke, "", api.DelegationsRequest{Requester: tapOf(from)})
	var rv api.Delegation
	json.Unmarshal(body, &rv)
	if status != http.StatusOK || rv.State != "revocata" {
		t.Errorf("revocation: %d %s", status, body)
	}
	if status, body := f.send(t, revoke, "", api.DelegationsRequest{Requester: tapOf(from)}); status != http.StatusGone || reasonOf(body) != delegation.ReasonRevoked {
		t.Errorf("second revocation: %d %s", status, body)
	}

	for _, who := range []string{from.CF, to.CF} {
		es, err := f.desk.Audit.Search(audit.Query{Subject: who}, 50)
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, e := range es {
			if e.Request == d.ID && e.Purpose != "" {
				got = true
			}
		}
		if !got {
			t.Errorf("no audit entry of %s for delegation %s: %+v", who, d.ID, es)
		}
	}
}
