package hubapi

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/registry"
)

// TestHistoricalCertificateAPI: "at" carries the date of a historical
// certificate to the desk; the certificate issues and the public page
// verifies it with its sealed date; a malformed, missing or needless date
// is a 4xx refusal with its reason, and the death certificate of a living
// person is refused.
func TestHistoricalCertificateAPI(t *testing.T) {
	f := newOpenFixture(t)
	ctx := context.Background()
	cf := f.cfs[0]
	var p *registry.Person
	if err := f.d.Store.View(ctx, func(r registry.Reader) error {
		var err error
		p, err = r.PersonByCF(cf)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	at := p.Residences[0].From.String()

	resp, body := f.post(t, "h1", map[string]any{"cf": cf, "types": []string{"residenza_storica"}, "at": at}, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("residenza storica at %s: %d %s", at, resp.StatusCode, body)
	}
	var got api.Certificate
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	vr, err := http.Get(f.srv.URL + "/v/" + got.ID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(vr.Body)
	vr.Body.Close()
	if vr.StatusCode != 200 || !strings.Contains(string(page), "Certificato valido") || !strings.Contains(string(page), p.Residences[0].From.Italian()) {
		t.Errorf("verification page: %d\n%s", vr.StatusCode, page)
	}

	for _, tt := range []struct {
		name   string
		body   map[string]any
		reason string
	}{
		{"malformed date", map[string]any{"cf": cf, "types": []string{"residenza_storica"}, "at": "31/03/2015"}, "date_invalid"},
		{"no date", map[string]any{"cf": cf, "types": []string{"stato_di_famiglia_storico"}}, certificate.ReasonDateRequired},
		{"date with a current type", map[string]any{"cf": cf, "types": []string{"residenza"}, "at": at}, certificate.ReasonDateNotAllowed},
		{"death of a living person", map[string]any{"cf": cf, "types": []string{"morte"}}, certificate.ReasonNotDeceased},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.post(t, "bad-"+tt.name, tt.body, true)
			var pr api.Problem
			json.Unmarshal(body, &pr)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || pr.Reason != tt.reason || pr.Message == "" {
				t.Errorf("got %d %s, want a 4xx refusal %s", resp.StatusCode, body, tt.reason)
			}
		})
	}
}

// newOpenFixture is newFixture with a shop whose agreement covers every
// type, Sportello's own among them.
func newOpenFixture(t *testing.T) *fixture {
	t.Helper()
	d := issuancetest.New(t, 200, 3, testNow)
	pub, priv, _ := ed25519.GenerateKey(nil)
	srv := httptest.NewServer((&Server{
		Store: d.Store, Desk: d.Service, Now: d.Now, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: pub}, Clock: d.Now},
		DeviceOperator: func(context.Context, string) (issuance.Operator, error) {
			return issuance.Operator{ID: "op-1", ServiceCents: 150}, nil
		},
	}).Handler())
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, desk: d.Service, d: d, signer: &httpsig.Signer{Key: priv, KeyID: "dev-1", Clock: d.Now, Extra: []string{"idempotency-key"}}}
	f.cfs = d.Identifiable(t, 5)
	return f
}
