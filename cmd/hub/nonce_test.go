package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/sportello/sportello/internal/hubclient"
)

// recorder keeps a copy of the last request a client sent.
type recorder struct {
	tr   http.RoundTripper
	last *http.Request
	body []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.body = b
	}
	r.last = req.Clone(req.Context())
	return r.tr.RoundTrip(req)
}

// TestReplayAfterRestart captures a signed request a kiosk sent, restarts
// the hub at the same address, and presents the request again: refused as
// a replay, because the used nonce outlived the process.
func TestReplayAfterRestart(t *testing.T) {
	data, addr := t.TempDir(), freeAddr(t)
	h := startHub(t, data, addr)
	rec := &recorder{tr: h.Transport(t)}
	c := &hubclient.Client{HTTP: &http.Client{Transport: rec}}
	p, err := c.Enrol(t.Context(), h.URL, h.Code, "Cassa")
	if err != nil {
		t.Fatalf("enrol: %v", err)
	}
	c = &hubclient.Client{Profile: p, HTTP: &http.Client{Transport: rec}}
	if _, err := c.Self(t.Context()); err != nil {
		t.Fatalf("signed request: %v", err)
	}
	captured, body := rec.last, rec.body
	h.stop(t)

	h = startHub(t, data, addr)
	replay := captured.Clone(t.Context())
	replay.Body = io.NopCloser(bytes.NewReader(body))
	replay.RequestURI = ""
	resp, err := h.Transport(t).RoundTrip(replay)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var refusal struct{ Reason string }
	json.NewDecoder(resp.Body).Decode(&refusal)
	if resp.StatusCode != http.StatusUnauthorized || refusal.Reason != "nonce_replayed" {
		t.Errorf("replayed request after restart: %d %q, want 401 nonce_replayed", resp.StatusCode, refusal.Reason)
	}
	if _, err := c.Self(t.Context()); err != nil {
		t.Errorf("a fresh request after restart: %v", err)
	}
}
