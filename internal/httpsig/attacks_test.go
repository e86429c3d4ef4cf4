package httpsig

// Attacks of the security review (issue 11) replayed against this package:
// each test here was seen to succeed against the code before the fix.

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/httpsig/httpsigtest"
)

// TestKeylessSignatureRefused: with the identity point enrolled as a
// device key, a fixed signature made without any private key verified on
// every request.
func TestKeylessSignatureRefused(t *testing.T) {
	for name, key := range map[string]ed25519.PublicKey{"identity": httpsigtest.IdentityKey, "non-canonical identity": httpsigtest.NonCanonicalIdentity} {
		t.Run(name, func(t *testing.T) {
			if !ed25519.Verify(key, []byte("any message at all"), httpsigtest.KeylessSignature()) {
				t.Fatal("crypto/ed25519 no longer accepts the keyless signature; the test's premise is gone")
			}
			metrics := &RefusalCounter{}
			reached := 0
			v := &Verifier{Keys: StaticKey{KeyID: "dev-weak", Key: key}, Clock: fixedClock(testNow), Metrics: metrics}
			srv := httptest.NewServer(Middleware(v, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached++ })))
			defer srv.Close()

			r, err := http.NewRequest("GET", srv.URL+"/api/v1/devices/self", nil)
			if err != nil {
				t.Fatal(err)
			}
			// Any signature input will do: sign with some key, then swap in
			// the keyless signature.
			if err := (&Signer{Key: seededKey(7), KeyID: "dev-weak", Clock: fixedClock(testNow)}).SignRequest(r, nil); err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(httpsigtest.KeylessSignature())+":")
			resp, raw := send(t, r)
			if resp.StatusCode != http.StatusUnauthorized || reached != 0 || !strings.Contains(string(raw), `"weak_public_key"`) {
				t.Fatalf("keyless signature: status %d, handler ran %d times, answer %s", resp.StatusCode, reached, raw)
			}
		})
	}
}

// TestAnswerToAnotherRequestRefused: a man in the middle keeps the hub's
// signed answer to one request (one person's certificate) and hands it to
// the kiosk as the answer to the next request to the same route.
func TestAnswerToAnotherRequestRefused(t *testing.T) {
	f := newFixture(t)
	kiosk := &Verifier{Keys: StaticKey{KeyID: "hub-2026", Key: f.hub.Public().(ed25519.PublicKey)}, Clock: fixedClock(testNow)}
	reqA := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", `{"cf":"RSSMRA50B17F205W"}`)
	reqB := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", `{"cf":"BNCLGU70A01F205X"}`)
	respA, bodyA := send(t, reqA)
	if _, err := kiosk.VerifyResponse(t.Context(), respA, bodyA); err != nil {
		t.Fatalf("the genuine answer to A: %v", err)
	}
	respA.Request = reqB
	if _, err := kiosk.VerifyResponse(t.Context(), respA, bodyA); err == nil {
		t.Fatal("the answer to request A was accepted as the answer to request B")
	}
}

// TestIdempotencyKeyMustBeCovered: an Idempotency-Key the signature does not
// cover could be added or changed in transit, making the hub treat the
// request as a retry of another (and answer with that one's result).
func TestIdempotencyKeyMustBeCovered(t *testing.T) {
	f := newFixture(t)
	const body = `{"type":"residenza"}`
	r := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", body) // covers no Idempotency-Key
	r.Header.Set("Idempotency-Key", "someone-elses-key")
	resp, raw := send(t, r)
	checkRefusal(t, f, resp, raw, ReasonMissingComponent)

	s := f.signer("dev-1")
	s.Extra = []string{"idempotency-key"}
	ok := f.request("POST", "/api/v1/certificates", body)
	ok.Header.Set("Idempotency-Key", "k1")
	if err := s.SignRequest(ok, []byte(body)); err != nil {
		t.Fatal(err)
	}
	if resp, raw := send(t, ok); resp.StatusCode != http.StatusOK {
		t.Fatalf("a request covering its Idempotency-Key: %d %s", resp.StatusCode, raw)
	}
}

// countingBody is a request body that records how much of it was read.
type countingBody struct {
	mu   sync.Mutex
	left int
	read int
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), b.left)
	clear(p[:n])
	b.left -= n
	b.read += n
	return n, nil
}

func (b *countingBody) Close() error { return nil }

func (b *countingBody) bytesRead() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.read
}

// TestRefusedBeforeBodyIsRead: key, validity and nonce are checked from the
// headers, so a request refused for any of them costs the hub no body.
func TestRefusedBeforeBodyIsRead(t *testing.T) {
	device := seededKey(1)
	const size = 512 << 10
	v := &Verifier{Keys: StaticKey{KeyID: "dev-1", Key: device.Public().(ed25519.PublicKey)}, Clock: fixedClock(testNow)}
	reached := 0
	h := Middleware(v, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached++ }))
	sign := func(s *Signer) func(r *http.Request) {
		return func(r *http.Request) {
			// A digest of content the attacker never has to send in full.
			if err := s.SignRequest(r, bytes.Repeat([]byte{0}, size)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var replayed http.Header
	tests := []struct {
		name string
		prep func(r *http.Request)
		want Reason
	}{
		{"unsigned", func(*http.Request) {}, ReasonMissingSignature},
		{"unknown key", sign(&Signer{Key: device, KeyID: "dev-9", Clock: fixedClock(testNow)}), ReasonUnknownKey},
		{"expired", sign(&Signer{Key: device, KeyID: "dev-1", Clock: fixedClock(testNow.Add(-time.Hour))}), ReasonSignatureExpired},
		{"wrong key", sign(&Signer{Key: seededKey(2), KeyID: "dev-1", Clock: fixedClock(testNow)}), ReasonInvalidSignature},
		{"replayed nonce", func(r *http.Request) {
			if replayed == nil {
				first := httptest.NewRequest("POST", "/api/v1/certificates", &countingBody{left: size})
				first.Header.Set("Content-Type", "application/octet-stream")
				sign(&Signer{Key: device, KeyID: "dev-1", Clock: fixedClock(testNow)})(first)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, first)
				if rec.Code != http.StatusOK {
					t.Fatalf("the genuine request: %d %s", rec.Code, rec.Body)
				}
				replayed = first.Header.Clone()
			}
			for k, vs := range replayed {
				r.Header[k] = vs
			}
		}, ReasonNonceReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := &countingBody{left: size}
			r := httptest.NewRequest("POST", "/api/v1/certificates", body)
			r.Header.Set("Content-Type", "application/octet-stream")
			tt.prep(r)
			before := reached
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.want.Status() || !strings.Contains(rec.Body.String(), string(tt.want)) || reached != before {
				t.Errorf("answer %d %s, want %s", rec.Code, rec.Body, tt.want)
			}
			if n := body.bytesRead(); n != 0 {
				t.Errorf("the hub read %d bytes of the body of a request it refuses from its headers", n)
			}
		})
	}
}

// TestRefusalDoesNotWaitForSlowBody: a client announces a body and holds
// back its last bytes. The refusal must come back at once, not when the
// body is complete (never).
func TestRefusalDoesNotWaitForSlowBody(t *testing.T) {
	v := &Verifier{Keys: StaticKey{KeyID: "dev-1", Key: seededKey(1).Public().(ed25519.PublicKey)}, Clock: fixedClock(testNow)}
	srv := httptest.NewServer(Middleware(v, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/certificates HTTP/1.1\r\nHost: hub.example\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"cf\":")
	// Only a guard so a regression fails instead of hanging the test run;
	// the answer is expected at once.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the body is held back: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
}
