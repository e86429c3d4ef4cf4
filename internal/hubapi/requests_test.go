package hubapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/synth"
)

// TestFileRequestAPI: a signed counter filing gets a protocol number and
// the hash of what was filed; a retry is the same request; the shop reads
// it back, another shop cannot; a move to a street the city has not is
// refused with its reason and takes no number.
func TestFileRequestAPI(t *testing.T) {
	d := issuancetest.New(t, 200, 3, testNow)
	pub, priv, _ := ed25519.GenerateKey(nil)
	pub2, priv2, _ := ed25519.GenerateKey(nil)
	srvAPI := &Server{
		Store: d.Store, Desk: d.Service, Now: d.Service.Now, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: httpsig.KeyResolverFunc(func(_ context.Context, keyID string) (ed25519.PublicKey, error) {
			if keyID == "dev-2" {
				return pub2, nil
			}
			return pub, nil
		}), Clock: d.Service.Now},
		DeviceOperator: func(_ context.Context, keyID string) (issuance.Operator, error) {
			return issuance.Operator{ID: "op-" + keyID}, nil
		},
		Requests: &desk.Desk{Stores: d.Service.Stores, Issuance: d.Service, Street: synth.DefaultCity().Street, Now: d.Service.Now},
	}
	srv := httptest.NewServer(srvAPI.Handler())
	t.Cleanup(srv.Close)
	sign := &httpsig.Signer{Key: priv, KeyID: "dev-1", Clock: d.Service.Now, Extra: []string{"idempotency-key"}}
	other := &httpsig.Signer{Key: priv2, KeyID: "dev-2", Clock: d.Service.Now}
	cf := d.Identifiable(t, 1)[0]
	do := func(method, path, key string, body any, s *httpsig.Signer) (int, []byte) {
		var b []byte
		if body != nil {
			b, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(b))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, out := send(t, req, s, b)
		return resp.StatusCode, out
	}
	street := synth.DefaultCity().Streets[2].Name
	filing := api.RequestFiling{Kind: string(request.AddressChange), Requester: issuancetest.API(d.Evidence(t, cf)),
		Form: request.Form{Address: &request.AddressForm{Persons: []string{cf}, NewAddress: request.NewAddress{Street: street, Number: "4"}, Statement: true}}}

	bad := filing
	bad.Form = request.Form{Address: &request.AddressForm{Persons: []string{cf}, NewAddress: request.NewAddress{Street: "Via Inesistente", Number: "4"}, Statement: true}}
	if st, body := do("POST", api.PathRequests, "k0", bad, sign); st != http.StatusUnprocessableEntity || reasonOf(body) != request.ReasonAddressUnknown {
		t.Errorf("unknown street: %d %s", st, body)
	}
	if st, _ := do("POST", api.PathRequests, "k1", filing, nil); st != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", st)
	}
	st, body := do("POST", api.PathRequests, "k1", filing, sign)
	var got api.Request
	json.Unmarshal(body, &got)
	if st != http.StatusCreated || got.Protocol != "2026/0000001" || len(got.SHA256) != 64 || got.Status != string(request.Filed) || got.RegisterBy.IsZero() {
		t.Fatalf("filing: %d %s", st, body)
	}
	st, body = do("POST", api.PathRequests, "k1", filing, sign)
	var again api.Request
	json.Unmarshal(body, &again)
	if st != http.StatusOK || again.ID != got.ID || !again.Replayed {
		t.Errorf("retry: %d %s", st, body)
	}
	if st, body := do("GET", api.PathRequests+"/"+got.ID, "", nil, sign); st != http.StatusOK || !bytes.Contains(body, []byte(got.Protocol)) {
		t.Errorf("read back: %d %s", st, body)
	}
	if st, body := do("GET", api.PathRequests+"/"+got.ID, "", nil, other); st != http.StatusNotFound || reasonOf(body) != request.ReasonNotFound {
		t.Errorf("another shop's read: %d %s", st, body)
	}
	// Nothing asked: an answer is refused.
	ans := api.RequestAnswer{Requester: issuancetest.API(d.Evidence(t, cf)), Text: "eccomi"}
	if st, body := do("POST", api.PathRequests+"/"+got.ID+"/answer", "", ans, sign); st != http.StatusConflict || reasonOf(body) != request.ReasonState {
		t.Errorf("answer with no question: %d %s", st, body)
	}
}
