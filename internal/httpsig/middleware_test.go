package httpsig

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// seededKey derives a deterministic key so failures reproduce.
func seededKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// fakeOperators stands in for the operators package: a few devices in each
// state the hub distinguishes.
type fakeOperators map[string]struct {
	key ed25519.PublicKey
	err error
}

func (f fakeOperators) ResolveKey(_ context.Context, keyID string) (ed25519.PublicKey, error) {
	d, ok := f[keyID]
	if !ok {
		return nil, fmt.Errorf("device %q: %w", keyID, ErrUnknownKey)
	}
	return d.key, d.err
}

type fixture struct {
	t        *testing.T
	srv      *httptest.Server
	metrics  *RefusalCounter
	device   ed25519.PrivateKey
	hub      ed25519.PrivateKey
	reached  int // times the protected handler ran
	lastBody []byte
	lastKey  string
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, metrics: &RefusalCounter{}, device: seededKey(1), hub: seededKey(9)}
	ops := fakeOperators{
		"dev-1":         {key: f.device.Public().(ed25519.PublicKey)},
		"dev-revoked":   {err: fmt.Errorf("device dev-revoked: %w", ErrKeyRevoked)},
		"dev-suspended": {err: fmt.Errorf("operator of dev-suspended: %w", ErrKeySuspended)},
		"dev-broken":    {err: errors.New("database is down")},
	}
	v := &Verifier{Keys: ops, Clock: fixedClock(testNow), MaxBody: 1024, Metrics: f.metrics}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.reached++
		f.lastBody, _ = io.ReadAll(r.Body)
		f.lastKey, _ = KeyID(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"device":%q}`, f.lastKey)
	})
	hubSigner := &Signer{Key: f.hub, KeyID: "hub-2026", Clock: fixedClock(testNow)}
	f.srv = httptest.NewServer(ResponseSigner(hubSigner, Middleware(v, api)))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) signer(keyID string) *Signer {
	return &Signer{Key: f.device, KeyID: keyID, Clock: fixedClock(testNow)}
}

// request builds a client request with body (may be empty) and content type.
func (f *fixture) request(method, path string, body string) *http.Request {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

func (f *fixture) signed(s *Signer, method, path, body string) *http.Request {
	f.t.Helper()
	r := f.request(method, path, body)
	if err := s.SignRequest(r, []byte(body)); err != nil {
		f.t.Fatal(err)
	}
	return r
}

// custom signs r over exactly these components and parameters.
func (f *fixture) custom(r *http.Request, body string, components []Component, p Params) {
	f.t.Helper()
	if body != "" && r.Header.Get("Content-Digest") == "" {
		r.Header.Set("Content-Digest", ContentDigest([]byte(body)))
	}
	m := RequestMessage(r)
	m.ContentLength = int64(len(body))
	s, err := Sign(m, "sig1", components, p, f.device)
	if err != nil {
		f.t.Fatal(err)
	}
	r.Header.Set("Signature-Input", s.Input)
	r.Header.Set("Signature", s.Signature)
}

func setBody(r *http.Request, body string) {
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
}

func goodParams(keyID string) Params {
	return Params{Created: testNow, Expires: testNow.Add(time.Minute), Nonce: "bm9uY2Utbm9uY2Utbm9u", KeyID: keyID, Alg: AlgEd25519}
}

func send(t *testing.T, r *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestMiddlewareAccepts(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path, body string
	}{
		{"GET", "GET", "/api/v1/directory", ""},
		{"GET with query", "GET", "/api/v1/directory?lat=45.46&lon=9.19", ""},
		{"POST with body", "POST", "/api/v1/certificates", `{"type":"residenza"}`},
		{"escaped path", "GET", "/api/v1/operators/a%2Fb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.reached
			resp, body := send(t, f.signed(f.signer("dev-1"), tt.method, tt.path, tt.body))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if f.reached != before+1 || string(f.lastBody) != tt.body || f.lastKey != "dev-1" {
				t.Errorf("handler saw body %q key %q (ran %d times)", f.lastBody, f.lastKey, f.reached-before)
			}
		})
	}
	t.Run("idempotency key covered", func(t *testing.T) {
		r := f.request("POST", "/api/v1/certificates", `{"type":"residenza"}`)
		r.Header.Set("Idempotency-Key", "7f1c0e5a-0b7e-4d0e-9a57-0c1f3e2b9d11")
		s := f.signer("dev-1")
		s.Extra = []string{"Idempotency-Key", "X-Absent"}
		if err := s.SignRequest(r, []byte(`{"type":"residenza"}`)); err != nil {
			t.Fatal(err)
		}
		if in := r.Header.Get("Signature-Input"); !strings.Contains(in, `"idempotency-key"`) || strings.Contains(in, "x-absent") {
			t.Errorf("Signature-Input %s", in)
		}
		if resp, raw := send(t, r); resp.StatusCode != http.StatusOK {
			t.Errorf("status %d: %s", resp.StatusCode, raw)
		}
	})
	if n := len(f.metrics.Snapshot()); n != 0 {
		t.Errorf("accepted requests were counted as refusals: %v", f.metrics.Snapshot())
	}
}

func TestMiddlewareRefuses(t *testing.T) {
	const body = `{"type":"residenza"}`
	tests := []struct {
		name  string
		build func(f *fixture) *http.Request
		want  Reason
	}{
		{"no signature", func(f *fixture) *http.Request {
			return f.request("GET", "/api/v1/directory", "")
		}, ReasonMissingSignature},
		{"unknown keyid", func(f *fixture) *http.Request {
			return f.signed(f.signer("dev-404"), "GET", "/api/v1/directory", "")
		}, ReasonUnknownKey},
		{"revoked device", func(f *fixture) *http.Request {
			return f.signed(f.signer("dev-revoked"), "GET", "/api/v1/directory", "")
		}, ReasonKeyRevoked},
		{"suspended operator", func(f *fixture) *http.Request {
			return f.signed(f.signer("dev-suspended"), "GET", "/api/v1/directory", "")
		}, ReasonKeySuspended},
		{"key store outage", func(f *fixture) *http.Request {
			return f.signed(f.signer("dev-broken"), "GET", "/api/v1/directory", "")
		}, ReasonKeyLookupFailed},
		{"expired signature", func(f *fixture) *http.Request {
			s := f.signer("dev-1")
			s.Clock = fixedClock(testNow.Add(-10 * time.Minute))
			return f.signed(s, "GET", "/api/v1/directory", "")
		}, ReasonSignatureExpired},
		{"not yet valid", func(f *fixture) *http.Request {
			s := f.signer("dev-1")
			s.Clock = fixedClock(testNow.Add(2 * time.Minute))
			return f.signed(s, "GET", "/api/v1/directory", "")
		}, ReasonSignatureNotYetValid},
		{"validity window too long", func(f *fixture) *http.Request {
			s := f.signer("dev-1")
			s.Window.Validity = time.Hour
			return f.signed(s, "GET", "/api/v1/directory", "")
		}, ReasonValidityTooLong},
		{"body changed after signing", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", body)
			setBody(r, `{"type":"nascita"}`)
			return r
		}, ReasonDigestMismatch},
		{"content-digest wrong when signed", func(f *fixture) *http.Request {
			r := f.request("POST", "/api/v1/certificates", body)
			r.Header.Set("Content-Digest", ContentDigest([]byte("something else")))
			f.custom(r, body, []Component{C("@method"), C("@authority"), C("@path"), C("content-digest"), C("content-type")}, goodParams("dev-1"))
			return r
		}, ReasonDigestMismatch},
		{"content-digest replaced to match a new body", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", body)
			setBody(r, `{"type":"nascita"}`)
			r.Header.Set("Content-Digest", ContentDigest([]byte(`{"type":"nascita"}`)))
			return r
		}, ReasonInvalidSignature},
		{"covered header altered", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", body)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, ReasonInvalidSignature},
		{"path altered", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
			r.URL.Path = "/api/v1/operators"
			return r
		}, ReasonInvalidSignature},
		{"query altered", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory?limit=5", "")
			r.URL.RawQuery = "limit=5000"
			return r
		}, ReasonInvalidSignature},
		{"idempotency key altered", func(f *fixture) *http.Request {
			r := f.request("POST", "/api/v1/certificates", body)
			r.Header.Set("Idempotency-Key", "7f1c0e5a-0b7e-4d0e-9a57-0c1f3e2b9d11")
			s := f.signer("dev-1")
			s.Extra = []string{"Idempotency-Key"}
			if err := s.SignRequest(r, []byte(body)); err != nil {
				f.t.Fatal(err)
			}
			r.Header.Set("Idempotency-Key", "00000000-0000-0000-0000-000000000000")
			return r
		}, ReasonInvalidSignature},
		{"method altered", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", body)
			r.Method = "PUT"
			return r
		}, ReasonInvalidSignature},
		{"authority altered", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
			r.Host = "hub.example.org"
			return r
		}, ReasonInvalidSignature},
		{"signed by another key", func(f *fixture) *http.Request {
			s := f.signer("dev-1")
			s.Key = seededKey(2)
			return f.signed(s, "GET", "/api/v1/directory", "")
		}, ReasonInvalidSignature},
		{"@authority not covered", func(f *fixture) *http.Request {
			r := f.request("GET", "/api/v1/directory", "")
			f.custom(r, "", []Component{C("@method"), C("@path")}, goodParams("dev-1"))
			return r
		}, ReasonMissingComponent},
		{"@query not covered", func(f *fixture) *http.Request {
			r := f.request("GET", "/api/v1/directory?limit=5", "")
			f.custom(r, "", []Component{C("@method"), C("@authority"), C("@path")}, goodParams("dev-1"))
			return r
		}, ReasonMissingComponent},
		{"content-digest not covered", func(f *fixture) *http.Request {
			r := f.request("POST", "/api/v1/certificates", body)
			f.custom(r, body, []Component{C("@method"), C("@authority"), C("@path"), C("content-type")}, goodParams("dev-1"))
			return r
		}, ReasonMissingComponent},
		{"body added to a request signed without one", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", "")
			setBody(r, body)
			return r
		}, ReasonMissingComponent},
		{"covered field absent", func(f *fixture) *http.Request {
			r := f.request("GET", "/api/v1/directory", "")
			r.Header.Set("X-Till", "3")
			f.custom(r, "", []Component{C("@method"), C("@authority"), C("@path"), C("x-till")}, goodParams("dev-1"))
			r.Header.Del("X-Till")
			return r
		}, ReasonMissingComponent},
		{"no nonce", func(f *fixture) *http.Request {
			r := f.request("GET", "/api/v1/directory", "")
			p := goodParams("dev-1")
			p.Nonce = ""
			f.custom(r, "", []Component{C("@method"), C("@authority"), C("@path")}, p)
			return r
		}, ReasonMissingParameter},
		{"no expires", func(f *fixture) *http.Request {
			r := f.request("GET", "/api/v1/directory", "")
			p := goodParams("dev-1")
			p.Expires = time.Time{}
			f.custom(r, "", []Component{C("@method"), C("@authority"), C("@path")}, p)
			return r
		}, ReasonMissingParameter},
		{"other algorithm", func(f *fixture) *http.Request {
			r := f.request("GET", "/api/v1/directory", "")
			p := goodParams("dev-1")
			p.Alg = "rsa-pss-sha512"
			f.custom(r, "", []Component{C("@method"), C("@authority"), C("@path")}, p)
			return r
		}, ReasonUnsupportedAlgorithm},
		{"malformed Signature-Input", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
			r.Header.Set("Signature-Input", `sig1=("@method" "@authority"`)
			return r
		}, ReasonMalformedSignatureInput},
		{"Signature-Input member not a list", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
			r.Header.Set("Signature-Input", `sig1="@method";created=1`)
			return r
		}, ReasonMalformedSignatureInput},
		{"created not an integer", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
			r.Header.Set("Signature-Input", `sig1=("@method");created="yesterday"`)
			return r
		}, ReasonMalformedSignatureInput},
		{"malformed Signature", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
			r.Header.Set("Signature", `sig1=:not base64!:`)
			return r
		}, ReasonMalformedSignature},
		{"Signature too short", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
			r.Header.Set("Signature", `sig1=:AAAA:`)
			return r
		}, ReasonMalformedSignature},
		{"Signature for another label", func(f *fixture) *http.Request {
			r := f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "sig1=", "sig2=", 1))
			return r
		}, ReasonMalformedSignature},
		{"oversize body", func(f *fixture) *http.Request {
			big := `{"pad":"` + strings.Repeat("x", 2000) + `"}`
			return f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", big)
		}, ReasonBodyTooLarge},
		{"oversize body without Content-Length", func(f *fixture) *http.Request {
			big := `{"pad":"` + strings.Repeat("x", 2000) + `"}`
			r := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", big)
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader(big))) // hides the length
			r.ContentLength = -1
			return r
		}, ReasonBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			resp, raw := send(t, tt.build(f))
			checkRefusal(t, f, resp, raw, tt.want)
		})
	}
}

func checkRefusal(t *testing.T, f *fixture, resp *http.Response, raw []byte, want Reason) {
	t.Helper()
	if resp.StatusCode != want.Status() {
		t.Errorf("status %d, want %d", resp.StatusCode, want.Status())
	}
	var ref Refusal
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("refusal body %q is not JSON: %v", raw, err)
	}
	if ref.Reason != want || ref.Message == "" {
		t.Errorf("refusal %+v, want reason %s", ref, want)
	}
	if f.reached != 0 {
		t.Errorf("the protected handler ran %d times", f.reached)
	}
	if got := f.metrics.Snapshot(); got[want] != 1 || len(got) != 1 {
		t.Errorf("metrics %v, want one %s", got, want)
	}
}

func TestMiddlewareRefusesReplay(t *testing.T) {
	f := newFixture(t)
	const body = `{"type":"residenza"}`
	r := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", body)
	replay := r.Clone(context.Background())
	setBody(replay, body)

	if resp, raw := send(t, r); resp.StatusCode != http.StatusOK {
		t.Fatalf("first request: %d %s", resp.StatusCode, raw)
	}
	resp, raw := send(t, replay)
	f.reached--
	checkRefusal(t, f, resp, raw, ReasonNonceReplayed)
}

// A refused forgery must not use up the nonce of the genuine request.
func TestForgeryDoesNotBurnNonce(t *testing.T) {
	f := newFixture(t)
	const body = `{"type":"residenza"}`
	genuine := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", body)
	forged := genuine.Clone(context.Background())
	setBody(forged, `{"type":"nascita"}`)
	forged.Header.Set("Content-Digest", ContentDigest([]byte(`{"type":"nascita"}`)))
	setBody(genuine, body)

	if resp, _ := send(t, forged); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forgery answered %d", resp.StatusCode)
	}
	if resp, raw := send(t, genuine); resp.StatusCode != http.StatusOK {
		t.Fatalf("genuine request after a forgery with its nonce: %d %s", resp.StatusCode, raw)
	}
}

// A genuine signature over content that arrives changed uses up its nonce:
// the signature is checked, and its nonce used, before the body is read.
// The device retries under a new nonce; whoever changed the content cannot
// present the signature again, on this connection or any other.
func TestDigestFailureUsesNonce(t *testing.T) {
	f := newFixture(t)
	const body = `{"type":"residenza"}`
	genuine := f.signed(f.signer("dev-1"), "POST", "/api/v1/certificates", body)
	tampered := genuine.Clone(context.Background())
	setBody(tampered, `{"type":"nascita!!"}`)
	setBody(genuine, body)

	resp, raw := send(t, tampered)
	checkRefusal(t, f, resp, raw, ReasonDigestMismatch)
	if resp, raw := send(t, genuine); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(raw), string(ReasonNonceReplayed)) {
		t.Errorf("the same signature again after a digest failure: %d %s", resp.StatusCode, raw)
	}
}

func TestResponsesAreSigned(t *testing.T) {
	f := newFixture(t)
	hubPub := f.hub.Public().(ed25519.PublicKey)
	kiosk := &Verifier{Keys: StaticKey{KeyID: "hub-2026", Key: hubPub}, Clock: fixedClock(testNow)}

	tests := []struct {
		name   string
		req    func() *http.Request
		tamper func(resp *http.Response, body []byte) []byte
		want   Reason
	}{
		{"accepted request", func() *http.Request {
			return f.signed(f.signer("dev-1"), "GET", "/api/v1/directory?near=duomo", "")
		}, nil, ""},
		{"refusal", func() *http.Request { return f.request("GET", "/api/v1/directory", "") }, nil, ""},
		{"content changed", func() *http.Request {
			return f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
		}, func(_ *http.Response, b []byte) []byte { return bytes.Replace(b, []byte("dev-1"), []byte("dev-2"), 1) }, ReasonDigestMismatch},
		{"status changed", func() *http.Request {
			return f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
		}, func(resp *http.Response, b []byte) []byte { resp.StatusCode = 201; return b }, ReasonInvalidSignature},
		{"answer to another request", func() *http.Request {
			return f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
		}, func(resp *http.Response, b []byte) []byte {
			resp.Request = f.signed(f.signer("dev-1"), "DELETE", "/api/v1/directory", "")
			return b
		}, ReasonInvalidSignature},
		{"signature stripped", func() *http.Request {
			return f.signed(f.signer("dev-1"), "GET", "/api/v1/directory", "")
		}, func(resp *http.Response, b []byte) []byte {
			resp.Header.Del("Signature")
			resp.Header.Del("Signature-Input")
			return b
		}, ReasonMissingSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, tt.req())
			if tt.tamper != nil {
				body = tt.tamper(resp, body)
			}
			got, err := kiosk.VerifyResponse(t.Context(), resp, body)
			if ReasonOf(err) != tt.want || (tt.want == "" && err != nil) {
				t.Fatalf("VerifyResponse = %v, want reason %q", err, tt.want)
			}
			if err == nil && got.KeyID != "hub-2026" {
				t.Errorf("verified key id %q", got.KeyID)
			}
		})
	}
}

func TestMemoryNonceStore(t *testing.T) {
	ctx := t.Context()
	s := NewMemoryNonceStore(2)
	t0 := testNow
	use := func(key, nonce string, now time.Time, until time.Time) (bool, error) {
		return s.Use(ctx, key, nonce, now, until)
	}
	steps := []struct {
		key, nonce string
		now, until time.Time
		fresh      bool
		err        error
	}{
		{"a", "n1", t0, t0.Add(time.Minute), true, nil},
		{"a", "n1", t0.Add(30 * time.Second), t0.Add(time.Minute), false, nil},
		{"b", "n1", t0, t0.Add(time.Minute), true, nil}, // same nonce, other device
		{"a", "n2", t0, t0.Add(time.Minute), false, ErrNonceStoreFull},
		{"a", "n1", t0.Add(time.Minute), t0.Add(2 * time.Minute), true, nil}, // expired, so forgotten
		{"a", "n3", t0.Add(time.Minute), t0.Add(2 * time.Minute), true, nil},
	}
	for i, st := range steps {
		fresh, err := use(st.key, st.nonce, st.now, st.until)
		if fresh != st.fresh || !errors.Is(err, st.err) {
			t.Errorf("step %d: Use(%s, %s) = %v, %v; want %v, %v", i, st.key, st.nonce, fresh, err, st.fresh, st.err)
		}
	}
	if _, err := use("z", "z", t0.Add(time.Hour), t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1 {
		t.Errorf("after every entry expired the store holds %d, want 1", s.Len())
	}
}
