package httpsig

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestWindowIsOneSetting: the signer's validity and the verifier's skew
// and longest validity come from one Window, so a hub configured with a
// wider skew signs and checks with the same one.
func TestWindowIsOneSetting(t *testing.T) {
	w := Window{Validity: 30 * time.Second, Skew: 5 * time.Minute, MaxValidity: time.Minute}
	key := seededKey(3)
	r, _ := http.NewRequest("GET", "https://hub.example/api/v1/devices/self", nil)
	if err := (&Signer{Key: key, KeyID: "k", Window: w, Clock: fixedClock(testNow.Add(4 * time.Minute))}).SignRequest(r, nil); err != nil {
		t.Fatal(err)
	}
	in, err := ParseSignatureInput(r.Header.Values("Signature-Input"))
	if err != nil || in[0].Expires.Sub(in[0].Created) != w.Validity {
		t.Fatalf("signed for %v (%v), want the window's %s", in[0].Expires.Sub(in[0].Created), err, w.Validity)
	}
	v := &Verifier{Keys: StaticKey{KeyID: "k", Key: key.Public().(ed25519.PublicKey)}, Clock: fixedClock(testNow), Window: w}
	if _, err := v.VerifyRequest(context.Background(), r, nil); err != nil {
		t.Errorf("4 minutes ahead inside a 5-minute skew: %v", err)
	}
	if _, err := (&Verifier{Keys: v.Keys, Clock: v.Clock}).VerifyRequest(context.Background(), r, nil); ReasonOf(err) != ReasonSignatureNotYetValid {
		t.Errorf("with the default window: %v, want not yet valid", err)
	}
	long := &Signer{Key: key, KeyID: "k", Window: Window{Validity: 2 * time.Minute}, Clock: fixedClock(testNow)}
	r2, _ := http.NewRequest("GET", "https://hub.example/api/v1/devices/self", nil)
	long.SignRequest(r2, nil)
	if _, err := v.VerifyRequest(context.Background(), r2, nil); ReasonOf(err) != ReasonValidityTooLong {
		t.Errorf("2 minutes against the window's 1-minute most: %v, want validity_too_long", err)
	}
}

// TestSignerClock: a client learning the hub's time accepts a genuine
// answer whatever its own clock says, and learns the hub's time from it;
// without SignerClock the same answer is refused for the local clock. A
// request is never judged by its signer's clock.
func TestSignerClock(t *testing.T) {
	hubKey, devKey := seededKey(4), seededKey(5)
	req, _ := http.NewRequest("GET", "https://hub.example/api/v1/devices/self", nil)
	if err := (&Signer{Key: devKey, KeyID: "dev", Clock: fixedClock(testNow)}).SignRequest(req, nil); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	ResponseSigner(&Signer{Key: hubKey, KeyID: "hub", Clock: fixedClock(testNow)}, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	})).ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	body := rec.Body.Bytes()
	for _, off := range []time.Duration{-2 * time.Hour, -3 * time.Minute, 4 * time.Minute, 2 * time.Hour} {
		local := fixedClock(testNow.Add(off))
		keys := StaticKey{KeyID: "hub", Key: hubKey.Public().(ed25519.PublicKey)}
		if _, err := (&Verifier{Keys: keys, Clock: local}).VerifyResponse(context.Background(), resp, body); err == nil {
			t.Errorf("%s: the local clock accepted an answer it should find out of its window", off)
		}
		got, err := (&Verifier{Keys: keys, Clock: local, SignerClock: true}).VerifyResponse(context.Background(), resp, body)
		if err != nil || !got.Created.Equal(testNow.Truncate(time.Second)) {
			t.Errorf("%s with SignerClock: %+v, %v; want accepted, created at the hub's time", off, got, err)
		}
	}
	// A forged answer is refused all the same.
	forged := resp.Header.Clone()
	forged.Set("Content-Digest", ContentDigest([]byte(`{"x":1}`)))
	resp.Header = forged
	if _, err := (&Verifier{Keys: StaticKey{KeyID: "hub", Key: hubKey.Public().(ed25519.PublicKey)}, Clock: fixedClock(testNow), SignerClock: true}).VerifyResponse(context.Background(), resp, body); err == nil {
		t.Error("SignerClock accepted an answer whose digest was changed")
	}
	// Requests are judged by the verifier's clock, SignerClock or not.
	v := &Verifier{Keys: StaticKey{KeyID: "dev", Key: devKey.Public().(ed25519.PublicKey)}, Clock: fixedClock(testNow.Add(time.Hour)), SignerClock: true}
	if _, err := v.VerifyRequest(context.Background(), req, nil); ReasonOf(err) != ReasonSignatureExpired {
		t.Errorf("a request an hour old with SignerClock: %v, want signature_expired", err)
	}
}
