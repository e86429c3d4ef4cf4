package httpsig

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "regenerate golden files under testdata (needs node and npm)")

// The interop tests run http-message-signatures, an RFC 9421 library for
// Node.js written independently of this package, pinned in
// testdata/interop/package-lock.json.

const goldenSigned = "testdata/interop/node-signed-request.json"

// nodeSigned is a request signed by the Node library, kept as a golden file
// so the check runs on machines without Node too.
type nodeSigned struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers"`
}

// interopJob is what interop.mjs reads.
type interopJob struct {
	Mode                string `json:"mode"`
	URL                 string `json:"url"`
	Method              string `json:"method"`
	Body                string `json:"body,omitempty"`
	SendBody            string `json:"sendBody,omitempty"`
	ContentType         string `json:"contentType,omitempty"`
	KeyID               string `json:"keyid"`
	Label               string `json:"label"`
	Created             int64  `json:"created"`
	Expires             int64  `json:"expires"`
	Nonce               string `json:"nonce"`
	DevicePrivateKeyPEM string `json:"devicePrivateKeyPem"`
	HubPublicKeyPEM     string `json:"hubPublicKeyPem,omitempty"`
	HubKeyID            string `json:"hubKeyid,omitempty"`
}

type interopResult struct {
	Status                int    `json:"status"`
	Body                  string `json:"body"`
	ResponseVerified      bool   `json:"responseVerified"`
	ResponseVerifyError   string `json:"responseVerifyError"`
	ResponseDigestMatches bool   `json:"responseDigestMatches"`
	OtherRequestVerified  bool   `json:"otherRequestVerified"`
}

var (
	nodeOnce sync.Once
	nodeDir  string
	nodeErr  error
)

// nodeInterop installs the pinned library into a temporary directory once
// per test run and returns that directory. It skips when node or npm is
// not installed; with them present, a failed install fails the test.
func nodeInterop(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed, so the Node.js interoperability check cannot run", tool)
		}
	}
	nodeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "httpsig-interop-")
		if err != nil {
			nodeErr = err
			return
		}
		for _, f := range []string{"package.json", "package-lock.json", "interop.mjs"} {
			b, err := os.ReadFile(filepath.Join("testdata/interop", f))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, f), b, 0o644)
			}
			if err != nil {
				nodeErr = err
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			nodeErr = fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
			return
		}
		nodeDir = dir
	})
	if nodeErr != nil {
		t.Fatalf("installing the Node.js RFC 9421 library: %v", nodeErr)
	}
	return nodeDir
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if nodeDir != "" {
		os.RemoveAll(nodeDir)
	}
	os.Exit(code)
}

func runNode(t *testing.T, dir string, job interopJob, out any) {
	t.Helper()
	in, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "interop.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node interop.mjs: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("node printed %q: %v", stdout, err)
	}
}

func privatePEM(t *testing.T, k ed25519.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func publicPEM(t *testing.T, k ed25519.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestInteropNodeGolden verifies a request the Node library signed (kept in
// testdata; -update re-signs it) through the hub middleware.
func TestInteropNodeGolden(t *testing.T) {
	device := seededKey(1)
	created := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	if *update {
		dir := nodeInterop(t)
		job := interopJob{Mode: "sign", URL: "https://hub.example/api/v1/certificates?lang=it", Method: "POST",
			Body: `{"type":"residenza","copies":1}`, ContentType: "application/json", KeyID: "dev-1", Label: "kiosk",
			Created: created.Unix(), Expires: created.Add(time.Minute).Unix(), Nonce: "c3BvcnRlbGxvLWdvbGRlbg",
			DevicePrivateKeyPEM: privatePEM(t, device)}
		var headers map[string]string
		runNode(t, dir, job, &headers)
		b, _ := json.MarshalIndent(nodeSigned{Method: job.Method, URL: job.URL, Body: job.Body, Headers: headers}, "", "  ")
		if err := os.WriteFile(goldenSigned, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(goldenSigned)
	if err != nil {
		t.Fatal(err)
	}
	var g nodeSigned
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}

	var seen string
	// Each hub has its own nonce store: the nonce is used up before the
	// content is read, so the tampered copy needs a hub that has not seen it.
	newHub := func() (*httptest.Server, *RefusalCounter) {
		metrics := &RefusalCounter{}
		v := &Verifier{Keys: StaticKey{KeyID: "dev-1", Key: device.Public().(ed25519.PublicKey)},
			Clock: fixedClock(created.Add(time.Second)), Metrics: metrics}
		srv := httptest.NewServer(Middleware(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen, _ = KeyID(r.Context())
		})))
		t.Cleanup(srv.Close)
		return srv, metrics
	}

	send := func(srv *httptest.Server, body string) *http.Response {
		r, err := http.NewRequest(g.Method, srv.URL+strings.TrimPrefix(g.URL, "https://hub.example"), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Host = "hub.example"
		for k, val := range g.Headers {
			r.Header.Set(k, val)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	srv, metrics := newHub()
	if resp := send(srv, g.Body); resp.StatusCode != http.StatusOK || seen != "dev-1" {
		t.Fatalf("request signed by the Node library: status %d, key %q, refusals %v", resp.StatusCode, seen, metrics.Snapshot())
	}
	// The same signature on other content must not pass.
	srv, metrics = newHub()
	if resp := send(srv, strings.Replace(g.Body, "1", "9", 1)); resp.StatusCode != http.StatusUnauthorized || metrics.Count(ReasonDigestMismatch) != 1 {
		t.Errorf("tampered golden request: status %d, refusals %v", resp.StatusCode, metrics.Snapshot())
	}
}

// TestInteropNodeRoundTrip has the Node library sign live requests to the
// hub's middleware and verify the hub's signed responses, which cover the
// request's signature by "signature";req;key=... (RFC 9421 section 2.4):
// Node must accept each as the answer to its request and to no other.
func TestInteropNodeRoundTrip(t *testing.T) {
	dir := nodeInterop(t)
	device, hub := seededKey(1), seededKey(9)
	metrics := &RefusalCounter{}
	var gotBody []byte
	v := &Verifier{Keys: StaticKey{KeyID: "dev-1", Key: device.Public().(ed25519.PublicKey)}, Metrics: metrics}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		id, _ := KeyID(r.Context())
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"device":%q}`, id)
	})
	srv := httptest.NewServer(ResponseSigner(&Signer{Key: hub, KeyID: "hub-2026"}, Middleware(v, api)))
	defer srv.Close()

	tests := []struct {
		name         string
		method, path string
		body, send   string
		hubKey       ed25519.PublicKey
		wantStatus   int
		wantVerified bool
	}{
		{"GET with query", "GET", "/api/v1/directory?lat=45.46&lon=9.19", "", "", hub.Public().(ed25519.PublicKey), 200, true},
		{"POST with body", "POST", "/api/v1/certificates", `{"type":"residenza"}`, "", hub.Public().(ed25519.PublicKey), 200, true},
		{"body swapped in transit", "POST", "/api/v1/certificates", `{"type":"residenza"}`, `{"type":"nascita!"}`, hub.Public().(ed25519.PublicKey), 401, true},
		{"response checked with another key", "GET", "/api/v1/directory", "", "", seededKey(3).Public().(ed25519.PublicKey), 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotBody = nil
			now := time.Now()
			nonce, err := NewNonce(nil)
			if err != nil {
				t.Fatal(err)
			}
			job := interopJob{Mode: "roundtrip", URL: srv.URL + tt.path, Method: tt.method, Body: tt.body, SendBody: tt.send,
				ContentType: "application/json", KeyID: "dev-1", Label: "kiosk", Created: now.Unix(),
				Expires: now.Add(time.Minute).Unix(), Nonce: nonce, DevicePrivateKeyPEM: privatePEM(t, device),
				HubPublicKeyPEM: publicPEM(t, tt.hubKey), HubKeyID: "hub-2026"}
			var res interopResult
			runNode(t, dir, job, &res)
			if res.Status != tt.wantStatus {
				t.Fatalf("hub answered %d %s; refusals %v", res.Status, res.Body, metrics.Snapshot())
			}
			if res.ResponseVerified != tt.wantVerified || !res.ResponseDigestMatches {
				t.Errorf("Node verified the hub's response: %v (%s), digest matches: %v", res.ResponseVerified, res.ResponseVerifyError, res.ResponseDigestMatches)
			}
			if res.OtherRequestVerified {
				t.Error("Node accepted the hub's response as the answer to another request")
			}
			if tt.wantStatus == 200 && (string(gotBody) != tt.body || !strings.Contains(res.Body, `"dev-1"`)) {
				t.Errorf("handler got body %q, answered %s", gotBody, res.Body)
			}
		})
	}
	if metrics.Count(ReasonDigestMismatch) != 1 || len(metrics.Snapshot()) != 1 {
		t.Errorf("refusals %v, want exactly one digest_mismatch", metrics.Snapshot())
	}
}
