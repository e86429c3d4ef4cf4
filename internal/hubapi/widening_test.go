package hubapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
)

// TestAgreementWideningReachesTheDesk: a shop's counter issues about a
// person outside the requester's household only while its agreement names
// a legal basis for it (hub operator widening), and the audit entry names
// that basis; cleared, the answer is not_requester_household again.
func TestAgreementWideningReachesTheDesk(t *testing.T) {
	d := issuancetest.New(t, 400, 3, testNow)
	c := d.Cast(t)
	shop := newActiveShop(t, d)
	ops := shop.ops
	s := &Server{Store: d.Store, Desk: d.Service, Operators: ops, Now: d.Now, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: ops, Clock: d.Now}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	signer := &httpsig.Signer{Key: shop.key, KeyID: shop.keyID, Clock: d.Now, Extra: []string{"idempotency-key"}}
	issue := func(key string) (int, api.Problem) {
		b, _ := json.Marshal(api.CertificateRequest{CF: c.Stranger, Types: []string{"residenza"}, Requester: issuancetest.API(d.Evidence(t, c.Requester))})
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/certificates", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, out := send(t, req, signer, b)
		var p api.Problem
		json.Unmarshal(out, &p)
		return resp.StatusCode, p
	}

	if st, p := issue("w1"); st != http.StatusForbidden || p.Reason != api.ReasonNotRequesterHousehold {
		t.Fatalf("about a stranger, no widening: %d %+v", st, p)
	}
	const basis = "art. 33 DPR 223/1989 — certificati a chiunque ne faccia richiesta, convenzione n. 12/2026"
	if _, err := ops.SetWidening(shop.id, basis); err != nil {
		t.Fatal(err)
	}
	if st, p := issue("w2"); st != http.StatusCreated {
		t.Fatalf("about a stranger, widened: %d %+v", st, p)
	}
	es, err := d.Audit.Search(audit.Query{Subject: c.Stranger}, 10)
	if err != nil || len(es) == 0 || !strings.Contains(es[len(es)-1].Purpose, basis) {
		t.Errorf("the widened issuance's audit entry does not name the basis: %+v %v", es, err)
	}
	if _, err := ops.SetWidening(shop.id, ""); err != nil {
		t.Fatal(err)
	}
	if st, p := issue("w3"); st != http.StatusForbidden || p.Reason != api.ReasonNotRequesterHousehold {
		t.Errorf("about a stranger, widening cleared: %d %+v", st, p)
	}
}
