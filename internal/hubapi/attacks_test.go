package hubapi

// Attacks of the security review (issue 11) on the hub's API; each test here
// was seen to succeed against the code before the fix.

import (
	"bufio"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/httpsig/httpsigtest"
	"github.com/sportello/sportello/internal/operators"
)

// TestIdentityKeyEnrolmentAndKeylessSignature: the identity point enrolled
// as a device key, and then a fixed signature made without any private key
// was accepted on every signed route.
func TestIdentityKeyEnrolmentAndKeylessSignature(t *testing.T) {
	f := newDevFixture(t)
	code := f.code(t, f.shop.ID, 0)
	for _, key := range []ed25519.PublicKey{httpsigtest.IdentityKey, httpsigtest.NonCanonicalIdentity} {
		b, _ := json.Marshal(map[string]string{"code": code, "public_key": base64.StdEncoding.EncodeToString(key), "name": "Cassa"})
		if status, ref, _ := f.enrolRaw(t, string(b)); status != http.StatusBadRequest || ref.Reason != httpsig.ReasonWeakPublicKey || ref.Message == "" {
			t.Errorf("enrolling %x: %d %+v, want 400 weak_public_key", key, status, ref)
		}
	}
	// The refusal left the code unused: the kiosk makes a proper key.
	good, _, _ := ed25519.GenerateKey(nil)
	b, _ := json.Marshal(map[string]string{"code": code, "public_key": base64.StdEncoding.EncodeToString(good), "name": "Cassa"})
	if status, ref, _ := f.enrolRaw(t, string(b)); status != http.StatusCreated {
		t.Fatalf("the same code with a proper key: %d %+v", status, ref)
	}

	// A weak key already in the store (enrolled before the check) is
	// refused when it signs, on every route.
	for _, key := range []ed25519.PublicKey{httpsigtest.IdentityKey, httpsigtest.NonCanonicalIdentity} {
		d, err := f.ops.Enrol(f.code(t, f.shop.ID, 0), key, "Cassa vecchia")
		if err != nil {
			t.Fatal(err)
		}
		if d.KeyID != operators.KeyIDFor(key) {
			t.Fatalf("key id %s", d.KeyID)
		}
		routes := []struct{ method, path, body string }{
			{"GET", "/api/v1/devices/self", ""},
			{"GET", "/api/v1/directory?lat=45.46&lon=9.19", ""},
			{"GET", "/api/v1/directory.geojson", ""},
			{"PUT", "/api/v1/devices/self/status", `{"pending":0}`},
			{"POST", "/api/v1/certificates", `{"cf":"RSSMRA50B17F205X","types":["residenza"]}`},
			{"GET", "/api/v1/certificates/C1/pdf", ""},
			{"POST", "/api/v1/persons/identify", `{"requester":{"method":"document","cf":"RSSMRA50B17F205X","document":"CA00000AA"}}`},
		}
		for _, rt := range routes {
			req, _ := http.NewRequest(rt.method, f.srv.URL+rt.path, strings.NewReader(rt.body))
			if rt.body == "" {
				req.Body, req.ContentLength = http.NoBody, 0
			} else {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "k-1")
			}
			// Any key makes the signature input; the keyless signature
			// replaces what it signed.
			_, other, _ := ed25519.GenerateKey(nil)
			s := &httpsig.Signer{Key: other, KeyID: d.KeyID, Clock: f.clock.now, Extra: []string{"idempotency-key"}}
			if err := s.SignRequest(req, []byte(rt.body)); err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(httpsigtest.KeylessSignature())+":")
			resp, body := f.do(t, req)
			if resp.StatusCode != http.StatusUnauthorized || reasonOf(body) != string(httpsig.ReasonWeakPublicKey) {
				t.Errorf("%s %s with the keyless signature of %x: %d %s", rt.method, rt.path, key, resp.StatusCode, body)
			}
		}
	}
}

// TestUnsignedSlowBodyAnsweredAtOnce: unsigned requests announcing a body
// and holding back its last bytes stayed open as long as the client liked.
// Through the hub's whole stack the refusal now comes back at once, and the
// hub closes the connection instead of waiting for the rest of the body.
func TestUnsignedSlowBodyAnsweredAtOnce(t *testing.T) {
	f := newDevFixture(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/certificates HTTP/1.1\r\nHost: hub.example\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"cf\":")
	// Only a guard so a regression fails instead of hanging the test run.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	rd := bufio.NewReader(conn)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("no answer while the body is held back: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized || reasonOf(body) != string(httpsig.ReasonMissingSignature) {
		t.Errorf("answer %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Signature") == "" {
		t.Error("the refusal is not signed")
	}
	// The hub hangs up rather than wait for the rest of the body.
	if n, err := rd.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after the refusal the connection gave %d bytes, %v; want it closed", n, err)
	}
}
