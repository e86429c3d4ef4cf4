package httpsig_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/sportello/sportello/internal/httpsig"
)

// The hub verifies kiosk requests and signs its answers; the kiosk signs
// its requests and checks the answers against the hub key it pinned.
func Example() {
	devicePub, devicePriv, _ := ed25519.GenerateKey(nil)
	hubPub, hubPriv, _ := ed25519.GenerateKey(nil)

	// Hub side. The operators package supplies the KeyResolver.
	devices := httpsig.KeyResolverFunc(func(_ context.Context, keyID string) (ed25519.PublicKey, error) {
		if keyID == "dev-1" {
			return devicePub, nil
		}
		return nil, httpsig.ErrUnknownKey
	})
	refusals := &httpsig.RefusalCounter{}
	verifier := &httpsig.Verifier{Keys: devices, Metrics: refusals}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := httpsig.KeyID(r.Context())
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hello %s", id)
	})
	hub := httptest.NewServer(httpsig.ResponseSigner(
		&httpsig.Signer{Key: hubPriv, KeyID: "hub"}, httpsig.Middleware(verifier, api)))
	defer hub.Close()

	// Kiosk side.
	body := []byte(`{"type":"residenza"}`)
	req, _ := http.NewRequest("POST", hub.URL+"/api/v1/certificates", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if err := (&httpsig.Signer{Key: devicePriv, KeyID: "dev-1"}).SignRequest(req, body); err != nil {
		panic(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	pinned := &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "hub", Key: hubPub}}
	if _, err := pinned.VerifyResponse(context.Background(), resp, answer); err != nil {
		fmt.Println("refused:", httpsig.ReasonOf(err))
		return
	}
	fmt.Println(resp.StatusCode, string(answer))
	// Output: 200 hello dev-1
}
