package hubapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/store"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/seal"
)

var testNow = time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)

type fixture struct {
	srv    *httptest.Server
	signer *httpsig.Signer
	cfs    []string // residents, in registry order
	desk   *issuance.Service
	d      *issuancetest.Desk
}

// newFixture serves the real handler stack over a seeded bbolt hub, with a
// device key the verifier knows as belonging to operator "op-1".
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOf(t, 200)
}

// newFixtureOf is newFixture over a city of the given size.
func newFixtureOf(t *testing.T, persons int) *fixture {
	t.Helper()
	d := issuancetest.New(t, persons, 3, testNow)
	st, desk := d.Store, d.Service
	clock := desk.Now
	pub, priv, _ := ed25519.GenerateKey(nil)
	api := &Server{
		Store: st, Desk: desk, Now: clock, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: pub}, Clock: clock},
		DeviceOperator: func(_ context.Context, keyID string) (issuance.Operator, error) {
			return issuance.Operator{ID: "op-1", ServiceCents: 150, Allowed: map[certificate.Type]bool{certificate.Residenza: true, certificate.StatoDiFamiglia: true}}, nil
		},
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, desk: desk, d: d, signer: &httpsig.Signer{Key: priv, KeyID: "dev-1", Clock: clock, Extra: []string{"idempotency-key"}}}
	f.cfs = d.Identifiable(t, 5)
	return f
}

// ev is document evidence identifying the resident with codice fiscale cf.
func (f *fixture) ev(t *testing.T, cf string) *api.RequesterEvidence {
	t.Helper()
	return issuancetest.API(f.d.Evidence(t, cf))
}

// post sends a certificate request. A map body without a "requester" gets
// the evidence of the subject when the subject is one of f.cfs (asking for
// themself), else of f.cfs[1]: each test states only what it is about.
func (f *fixture) post(t *testing.T, key string, body any, sign bool) (*http.Response, []byte) {
	t.Helper()
	if m, ok := body.(map[string]any); ok && f.d != nil {
		if _, given := m["requester"]; !given {
			who := f.cfs[1]
			for _, cf := range f.cfs {
				if m["cf"] == cf {
					who = cf
				}
			}
			m["requester"] = f.ev(t, who)
		}
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/certificates", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return send(t, req, signerIf(sign, f.signer), b)
}

func TestIssueCertificateAPI(t *testing.T) {
	f := newFixture(t)
	cf := f.cfs[0]
	resp, body := f.post(t, "k1", map[string]any{"cf": cf, "types": []string{"residenza"}}, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var got api.Certificate
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Protocol != "2026/0000001" || got.TotalCents != 1600+52+150 || len(got.Fees) != 3 || got.PDFURL == "" {
		t.Errorf("response %+v", got)
	}

	// The read is in the audit log under the device that asked.
	if es, err := (store.AuditLog{S: f.desk.Stores}).Search(audit.Query{Actor: "device:dev-1"}, 10); err != nil || len(es) != 1 || es[0].Subject != cf || es[0].Request != got.ID {
		t.Errorf("audit entries %+v, %v", es, err)
	}

	// The same key and body is the same certificate, not a second one.
	resp, body = f.post(t, "k1", map[string]any{"cf": cf, "types": []string{"residenza"}}, true)
	var again api.Certificate
	json.Unmarshal(body, &again)
	if resp.StatusCode != http.StatusOK || again.ID != got.ID || !again.Replayed {
		t.Errorf("replay: status %d %+v", resp.StatusCode, again)
	}

	// The PDF is there for the issuing device, and public verification says valid.
	req, _ := http.NewRequest("GET", f.srv.URL+got.PDFURL, nil)
	f.signer.SignRequest(req, nil)
	pr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(pr.Body)
	pr.Body.Close()
	if pr.StatusCode != 200 || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("pdf: %d", pr.StatusCode)
	}
	if res, err := seal.VerifyPDF(pdf, f.desk.Keys.Trust()); err != nil || !res.Valid {
		t.Errorf("downloaded PDF does not verify: %v %s", err, res.Summary)
	}
	vr, _ := http.Get(f.srv.URL + "/v/" + got.ID)
	page, _ := io.ReadAll(vr.Body)
	vr.Body.Close()
	if vr.StatusCode != 200 || !strings.Contains(string(page), "Certificato valido") {
		t.Errorf("verification page: %d\n%s", vr.StatusCode, page)
	}
	// It says who signed: the officer and the seal on the PDF.
	for _, want := range []string{"Ufficiale d&#39;Anagrafe", "Sigillo elettronico / Electronic seal", f.desk.Keys.Seal.Certificate().Subject.CommonName} {
		if !strings.Contains(string(page), want) {
			t.Errorf("verification page lacks %q:\n%s", want, page)
		}
	}
	if _, err := f.desk.Certs.Revoke(got.ID, "issued to the wrong person", "Laura Bianchi", testNow); err != nil {
		t.Fatal(err)
	}
	vr, _ = http.Get(f.srv.URL + "/v/" + got.ID)
	page, _ = io.ReadAll(vr.Body)
	vr.Body.Close()
	if !strings.Contains(string(page), "Certificato revocato") || !strings.Contains(string(page), "wrong person") {
		t.Errorf("revoked page:\n%s", page)
	}
	vr, _ = http.Get(f.srv.URL + "/v/nosuchcertificate")
	vr.Body.Close()
	if vr.StatusCode != http.StatusNotFound {
		t.Errorf("unknown id: %d", vr.StatusCode)
	}

	jr, _ := http.Get(f.srv.URL + "/.well-known/jwks.json")
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	json.NewDecoder(jr.Body).Decode(&jwks)
	jr.Body.Close()
	if len(jwks.Keys) == 0 || jwks.Keys[0]["kty"] != "OKP" {
		t.Errorf("jwks: %+v", jwks)
	}
}

func TestIssueCertificateRefusals(t *testing.T) {
	f := newFixture(t)
	cf := f.cfs[1]
	tests := []struct {
		name   string
		key    string
		body   any
		sign   bool
		status int
		reason string
	}{
		{"unsigned", "a", map[string]any{"cf": cf, "types": []string{"residenza"}}, false, 401, "missing_signature"},
		{"no idempotency key", "", map[string]any{"cf": cf, "types": []string{"residenza"}}, true, 400, "idempotency_key_required"},
		{"unknown field", "b", map[string]any{"cf": cf, "types": []string{"residenza"}, "price": 0}, true, 400, "bad_request"},
		{"unknown type", "c", map[string]any{"cf": cf, "types": []string{"patente"}}, true, 422, "unknown_type"},
		{"not in agreement", "d", map[string]any{"cf": cf, "types": []string{"cittadinanza"}}, true, 403, "operator_not_allowed"},
		{"unknown subject", "e", map[string]any{"cf": "CCCFBA85D03L219P", "types": []string{"residenza"}}, true, 403, "not_requester_household"},
		{"no requester evidence", "e2", map[string]any{"cf": cf, "types": []string{"residenza"}, "requester": nil}, true, 400, "requester_evidence_required"},
		{"a bare requester codice fiscale", "e3", map[string]any{"cf": cf, "types": []string{"residenza"}, "requester_cf": cf, "requester": nil}, true, 400, "bad_request"},
		{"reason missing", "f", map[string]any{"cf": cf, "types": []string{"residenza"}, "exemption": map[string]any{"code": 99}}, true, 422, "exemption_reason_missing"},
		{"key reused with another body", "k", map[string]any{"cf": f.cfs[2], "types": []string{"residenza"}}, true, 409, "idempotency_conflict"},
	}
	// The reused key's first use.
	if resp, body := f.post(t, "k", map[string]any{"cf": cf, "types": []string{"residenza"}}, true); resp.StatusCode != 201 {
		t.Fatalf("first use: %d %s", resp.StatusCode, body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.post(t, tt.key, tt.body, tt.sign)
			var p api.Problem
			json.Unmarshal(body, &p)
			if resp.StatusCode != tt.status || p.Reason != tt.reason || p.Message == "" {
				t.Errorf("got %d %+v, want %d %s", resp.StatusCode, p, tt.status, tt.reason)
			}
		})
	}
	// Refusals consumed no protocol number: the next issuance is number 2.
	resp, body := f.post(t, "next", map[string]any{"cf": f.cfs[3], "types": []string{"stato_di_famiglia"}}, true)
	var got api.Certificate
	json.Unmarshal(body, &got)
	if resp.StatusCode != 201 || got.Protocol != "2026/0000002" {
		t.Errorf("after refusals: %d %s", resp.StatusCode, body)
	}
}

// TestAnotherShopsPDF: a device asking for the PDF of a certificate another
// shop issued gets the very answer an unknown id gets (404, same reason and
// sentence), not a server error: the hub neither fails nor tells it the id
// exists.
func TestAnotherShopsPDF(t *testing.T) {
	d := issuancetest.New(t, 200, 3, testNow)
	pub, priv, _ := ed25519.GenerateKey(nil)
	shop := "op-1"
	var logs bytes.Buffer
	hub := &Server{
		Store: d.Store, Desk: d.Service, Now: d.Service.Now, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Verifier: &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: pub}, Clock: d.Service.Now},
		DeviceOperator: func(context.Context, string) (issuance.Operator, error) {
			return issuance.Operator{ID: shop, ServiceCents: 150, Allowed: map[certificate.Type]bool{certificate.Residenza: true}}, nil
		},
	}
	srv := httptest.NewServer(hub.Handler())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, desk: d.Service, d: d, cfs: d.Identifiable(t, 5), signer: &httpsig.Signer{Key: priv, KeyID: "dev-1", Clock: d.Service.Now, Extra: []string{"idempotency-key"}}}
	cf := f.cfs[0]
	resp, body := f.post(t, "k1", map[string]any{"cf": cf, "types": []string{"residenza"}}, true)
	var got api.Certificate
	if err := json.Unmarshal(body, &got); resp.StatusCode != http.StatusCreated || err != nil {
		t.Fatalf("issue: %d %s", resp.StatusCode, body)
	}
	pdf := func(id string) (int, api.Problem) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/certificates/"+id+"/pdf", nil)
		f.signer.SignRequest(req, nil)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var p api.Problem
		json.NewDecoder(r.Body).Decode(&p)
		return r.StatusCode, p
	}
	if code, _ := pdf(got.ID); code != 200 {
		t.Fatalf("the issuing shop's own PDF: %d", code)
	}
	shop = "op-2" // the same device key, now another shop's
	code, theirs := pdf(got.ID)
	const unknownID = "C0000000000000000000000000"
	ucode, unknown := pdf(unknownID)
	if code != http.StatusNotFound || ucode != http.StatusNotFound || theirs.Reason != unknown.Reason ||
		strings.ReplaceAll(theirs.Message, got.ID, "ID") != strings.ReplaceAll(unknown.Message, unknownID, "ID") {
		t.Errorf("another shop's PDF: %d %+v; an unknown id: %d %+v", code, theirs, ucode, unknown)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("an ERROR was logged:\n%s", logs.String())
	}
}

// TestIssueCertificateValidation: whatever is wrong with a request's
// content is a 4xx refusal with a reason code, never a 500: a kiosk retries a
// 500, and one malformed request queued offline would then block every
// request behind it. A malformed codice fiscale is 422 invalid_cf.
func TestIssueCertificateValidation(t *testing.T) {
	f := newFixture(t)
	cf := f.cfs[1]
	res := []string{"residenza"}
	tests := []struct {
		name   string
		body   map[string]any
		status int    // 0: any 4xx
		reason string // "": any reason
	}{
		{"wrong check character", map[string]any{"cf": "RSSMRA50B17F205X", "types": res}, 422, "invalid_cf"},
		{"too short", map[string]any{"cf": "RSSMRA50B17", "types": res}, 422, "invalid_cf"},
		// An empty subject is the requester themself (a request a kiosk
		// queued offline after a CIE tap): refused only when the
		// evidence identifies nobody.
		{"empty, no one identified", map[string]any{"cf": "", "types": res, "requester": api.RequesterEvidence{Method: "spid"}}, 403, "identification_failed"},
		{"symbols", map[string]any{"cf": "RSSMRA50B17F20$W", "types": res}, 422, "invalid_cf"},
		{"impossible month", map[string]any{"cf": "RSSMRA50Z17F205W", "types": res}, 422, "invalid_cf"},
		{"control characters", map[string]any{"cf": "RSSMRA50B17F205\x00", "types": res}, 422, "invalid_cf"},
		{"long", map[string]any{"cf": strings.Repeat("A", 5000), "types": res}, 422, "invalid_cf"},
		{"requester malformed", map[string]any{"cf": cf, "requester": api.RequesterEvidence{Method: "document", CF: "NOTACODE", Document: "X"}, "types": res}, 403, "identification_failed"},
		{"requester method unknown", map[string]any{"cf": cf, "requester": api.RequesterEvidence{Method: "spid"}, "types": res}, 403, "identification_failed"},
		{"no types", map[string]any{"cf": cf, "types": []string{}}, 0, ""},
		{"types null", map[string]any{"cf": cf, "types": nil}, 0, ""},
		{"empty type", map[string]any{"cf": cf, "types": []string{""}}, 0, ""},
		{"unknown exemption", map[string]any{"cf": cf, "types": res, "exemption": map[string]any{"code": 12345}}, 0, ""},
		{"negative exemption", map[string]any{"cf": cf, "types": res, "exemption": map[string]any{"code": -1}}, 0, ""},
		{"cf as a number", map[string]any{"cf": 42, "types": res}, 400, "bad_request"},
		{"channel unknown", map[string]any{"cf": cf, "types": res, "channel": "web"}, 400, "bad_request"},
		{"exemption text huge", map[string]any{"cf": cf, "types": res, "exemption": map[string]any{"code": 99, "text": strings.Repeat("x", 30000)}}, 0, ""},
		{"exemption text control characters", map[string]any{"cf": cf, "types": res, "exemption": map[string]any{"code": 99, "text": "a\x00b\nc"}}, 0, ""},
		{"every type at once", map[string]any{"cf": cf, "types": []string{"residenza", "nascita", "matrimonio", "cittadinanza", "esistenza_in_vita",
			"residenza_aire", "stato_civile", "stato_di_famiglia", "stato_di_famiglia_e_stato_civile", "residenza_in_convivenza", "stato_di_famiglia_aire",
			"stato_di_famiglia_con_parentela", "stato_libero", "unione_civile", "contratto_di_convivenza"}}, 0, ""},
		{"a thousand types", map[string]any{"cf": cf, "types": strings.Split(strings.Repeat("residenza,", 999)+"residenza", ",")}, 0, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.post(t, fmt.Sprint("v", i), tt.body, true)
			var p api.Problem
			json.Unmarshal(body, &p)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || p.Reason == "" || p.Message == "" {
				t.Fatalf("got %d %s, want a 4xx refusal with a reason and a message", resp.StatusCode, body)
			}
			if (tt.status != 0 && resp.StatusCode != tt.status) || (tt.reason != "" && p.Reason != tt.reason) {
				t.Errorf("got %d %+v, want %d %s", resp.StatusCode, p, tt.status, tt.reason)
			}
			if api.Decide(resp.StatusCode, p.Reason) != api.Refuse {
				t.Errorf("a kiosk would %v %d %s; a validation error must be refused, not retried", api.Decide(resp.StatusCode, p.Reason), resp.StatusCode, p.Reason)
			}
		})
	}
}
