package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hub serve's metrics flags: --metrics-allow replaces loopback, the token
// from --metrics-token-file opens /metrics to any address; bad values are
// usage errors.
func TestServeMetricsAccess(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "metrics-token")
	token := "0123456789abcdef0123456789abcdef"
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startServe(t, "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-allow", "10.9.8.0/24", "--metrics-token-file", tokenFile)
	get := func(auth string) (int, string) {
		req, _ := http.NewRequest("GET", h.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := h.Client(t).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(""); code != http.StatusUnauthorized || !strings.Contains(body, "metrics_token_required") {
		t.Errorf("loopback, not in --metrics-allow, no token: %d %s", code, body)
	}
	if code, body := get("Bearer " + token); code != 200 || !strings.Contains(body, "sportello_uptime_seconds") {
		t.Errorf("with the token: %d %s", code, body)
	}

	short := filepath.Join(t.TempDir(), "short")
	os.WriteFile(short, []byte("abc"), 0o600)
	for _, args := range [][]string{
		{"--metrics-allow", "not-an-address"},
		{"--metrics-token-file", short},
	} {
		if r := hub(t, append([]string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, args...)...); r.code != 2 {
			t.Errorf("serve %s: exit %d, want 2: %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}
