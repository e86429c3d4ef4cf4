package hubapi

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The public verification page may not be framed, sniffed or scripted:
// its one inline style sheet is allowed by its hash, nothing else.
func TestVerificationPageHeaders(t *testing.T) {
	f := newFixture(t)
	cf := f.cfs[0]
	resp, body := f.post(t, "k-csp", map[string]any{"cf": cf, "types": []string{"residenza"}}, true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %s", resp.StatusCode, body)
	}
	id := regexp.MustCompile(`"id":"([^"]+)"`).FindSubmatch(body)
	if id == nil {
		t.Fatalf("no id in %s", body)
	}
	for _, path := range []string{"/v/" + string(id[1]), "/v/NOTACERTIFICATE"} {
		resp, err := http.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: X-Content-Type-Options %q, X-Frame-Options %q", path, h.Get("X-Content-Type-Options"), h.Get("X-Frame-Options"))
		}
		// Every inline style is allowed by its hash; there is no script.
		styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllSubmatch(page, -1)
		if len(styles) == 0 {
			t.Errorf("%s: no style sheet", path)
		}
		for _, st := range styles {
			sum := sha256.Sum256(st[1])
			if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
				t.Errorf("%s: the inline style's hash %s is not in %q", path, want, csp)
			}
		}
		if regexp.MustCompile(`(?i)<script|\son[a-z]+=|style=`).Match(page) {
			t.Errorf("%s: the page has a script, an event handler or a style attribute", path)
		}
	}
}

// /metrics answers loopback (or the configured addresses) and a holder of
// the token; anyone else is refused with a reason code.
func TestMetricsAccess(t *testing.T) {
	get := func(s *Server, remote, auth string) (int, string) {
		s.Now, s.Log = func() time.Time { return testNow }, slog.New(slog.DiscardHandler)
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = remote
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		s.metrics(rec, req)
		return rec.Code, rec.Body.String()
	}
	office := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}
	tests := []struct {
		name   string
		s      *Server
		remote string
		auth   string
		status int
		reason string
	}{
		{"loopback by default", &Server{}, "127.0.0.1:5000", "", 200, ""},
		{"IPv6 loopback", &Server{}, "[::1]:5000", "", 200, ""},
		{"internet by default", &Server{}, "203.0.113.9:5000", "", 403, "metrics_forbidden"},
		{"configured network", &Server{MetricsAllow: office}, "10.1.2.3:5000", "", 200, ""},
		{"loopback not configured", &Server{MetricsAllow: office}, "127.0.0.1:5000", "", 403, "metrics_forbidden"},
		{"token", &Server{MetricsToken: "s3cret-token"}, "203.0.113.9:5000", "Bearer s3cret-token", 200, ""},
		{"wrong token", &Server{MetricsToken: "s3cret-token"}, "203.0.113.9:5000", "Bearer s3cret-tokeN", 401, "metrics_token_required"},
		{"no token", &Server{MetricsToken: "s3cret-token"}, "203.0.113.9:5000", "", 401, "metrics_token_required"},
		{"token not basic", &Server{MetricsToken: "s3cret-token"}, "203.0.113.9:5000", "Basic s3cret-token", 401, "metrics_token_required"},
	}
	for _, tt := range tests {
		status, body := get(tt.s, tt.remote, tt.auth)
		if status != tt.status {
			t.Errorf("%s: %d, want %d: %s", tt.name, status, tt.status, body)
			continue
		}
		if tt.status == 200 && !strings.Contains(body, "sportello_uptime_seconds") {
			t.Errorf("%s: no metrics in %q", tt.name, body)
		}
		if tt.reason != "" && reasonOf([]byte(body)) != tt.reason {
			t.Errorf("%s: reason %q, want %q", tt.name, reasonOf([]byte(body)), tt.reason)
		}
	}
}
