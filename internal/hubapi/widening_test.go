package hubapi

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/operators/opbolt"
	"github.com/sportello/sportello/internal/registry"
)

// TestAgreementWideningReachesTheDesk: a shop's counter issues about a
// person outside the requester's household only while its agreement names
// a legal basis for it (hub operator widening), and the audit entry names
// that basis; cleared, the answer is not_requester_household again.
func TestAgreementWideningReachesTheDesk(t *testing.T) {
	d := issuancetest.New(t, 400, 3, testNow)
	c := d.Cast(t)
	ops, err := opbolt.New(d.Store.DB(), d.Now, operators.Policy{Calendar: operators.Milan})
	if err != nil {
		t.Fatal(err)
	}
	o := &operators.Operator{LegalName: "Rossi Giornali S.n.c.", Name: "Edicola Centrale", PartitaIVA: "01199250158", Category: operators.Edicola,
		Address:   operators.Address{Street: "Piazza Duomo", Number: "1", CAP: "20121", City: "Milano", Lat: 45.46, Lon: 9.19},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 12, Day: 31}, FeeCents: 200, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []operators.Status{operators.Approved, operators.Active} {
		if o, err = ops.SetStatus(o.ID, st, "staff", "test"); err != nil {
			t.Fatal(err)
		}
	}
	code, _, err := ops.IssueCode(o.ID, "staff", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	dev, err := ops.Enrol(code, pub, "banco 1")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: d.Store, Desk: d.Service, Operators: ops, Now: d.Now, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: ops, Clock: d.Now}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	signer := &httpsig.Signer{Key: priv, KeyID: dev.KeyID, Clock: d.Now, Extra: []string{"idempotency-key"}}
	issue := func(key string) (int, api.Problem) {
		b, _ := json.Marshal(api.CertificateRequest{CF: c.Stranger, Types: []string{"residenza"}, Requester: issuancetest.API(d.Evidence(t, c.Requester))})
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/certificates", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		if err := signer.SignRequest(req, b); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		var p api.Problem
		json.Unmarshal(out, &p)
		return resp.StatusCode, p
	}

	if st, p := issue("w1"); st != http.StatusForbidden || p.Reason != api.ReasonNotRequesterHousehold {
		t.Fatalf("about a stranger, no widening: %d %+v", st, p)
	}
	const basis = "art. 33 DPR 223/1989 — certificati a chiunque ne faccia richiesta, convenzione n. 12/2026"
	if _, err := ops.SetWidening(o.ID, basis); err != nil {
		t.Fatal(err)
	}
	if st, p := issue("w2"); st != http.StatusCreated {
		t.Fatalf("about a stranger, widened: %d %+v", st, p)
	}
	es, err := d.Audit.Search(audit.Query{Subject: c.Stranger}, 10)
	if err != nil || len(es) == 0 || !strings.Contains(es[len(es)-1].Purpose, basis) {
		t.Errorf("the widened issuance's audit entry does not name the basis: %+v %v", es, err)
	}
	if _, err := ops.SetWidening(o.ID, ""); err != nil {
		t.Fatal(err)
	}
	if st, p := issue("w3"); st != http.StatusForbidden || p.Reason != api.ReasonNotRequesterHousehold {
		t.Errorf("about a stranger, widening cleared: %d %+v", st, p)
	}
}
