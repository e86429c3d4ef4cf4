package hubclient_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubclient"
)

// clockHub is a signed hub on the fixed clock now that counts what its
// verifier refused and what reached the handler.
type clockHub struct {
	refusals httpsig.RefusalCounter
	mu       sync.Mutex
	handled  int
}

func newClockHub(t *testing.T, h *clockHub) *hubclient.Profile {
	devPub, devPriv, _ := ed25519.GenerateKey(nil)
	hubPub, hubPriv, _ := ed25519.GenerateKey(nil)
	v := &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: devPub}, Clock: clock, Metrics: &h.refusals}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.handled++
		h.mu.Unlock()
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"C1","protocol":"2026/0000001","total_cents":1852}`)
	})
	srv := httptest.NewServer(httpsig.ResponseSigner(&httpsig.Signer{Key: hubPriv, KeyID: "hub", Clock: clock}, httpsig.Middleware(v, api)))
	t.Cleanup(srv.Close)
	return &hubclient.Profile{HubURL: srv.URL, KeyID: "dev-1", DeviceKey: devPriv.Seed(), HubKey: hubPub, HubKeyID: "hub"}
}

// TestClientLearnsTheHubsTime: a device clock off by minutes or hours is
// heard all the same. The first request, signed before the client knows the
// hub's time, may be refused for it; the refusal is signed, so the client
// learns the hub's time from it and signs again at once. Whatever the hub
// accepted, the client accepts the answer to (a clock a few minutes slow used
// to make the hub issue and the kiosk refuse its answer), and from then on
// it signs with the hub's time: the next request is accepted at the first try.
func TestClientLearnsTheHubsTime(t *testing.T) {
	for _, skew := range []time.Duration{-2 * time.Hour, -3 * time.Minute, -time.Minute, 0, time.Minute, 3 * time.Minute, 2 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			h := &clockHub{}
			p := newClockHub(t, h)
			device := func() time.Time { return now.Add(skew) }
			c := &hubclient.Client{Profile: p, Clock: device, Retry: hubclient.Retry{Attempts: 1},
				Sleep: func(context.Context, time.Duration) error { return nil }}
			if _, ok := c.ClockOffset(); ok {
				t.Fatal("the offset is known before any answer")
			}
			cert, err := c.IssueCertificate(context.Background(), hubclient.CertificateRequest{CF: "RSSMRA50B17F205W", Types: []string{"residenza"}})
			if err != nil {
				t.Fatalf("with the device's clock %s off, the request failed: %v", skew, err)
			}
			if cert.ID != "C1" {
				t.Errorf("certificate %+v", cert)
			}
			off, ok := c.ClockOffset()
			if !ok || (off+skew).Abs() > time.Second {
				t.Errorf("offset %s (known %v), want %s within a second", off, ok, -skew)
			}
			if d := c.HubNow().Sub(now).Abs(); d > time.Second {
				t.Errorf("HubNow is %s off the hub's clock", d)
			}
			timeRefusals := h.refusals.Count(httpsig.ReasonSignatureExpired) + h.refusals.Count(httpsig.ReasonSignatureNotYetValid)
			if skew.Abs() > 3*time.Minute && timeRefusals != 1 {
				t.Errorf("%d refusals for the time, want the one that taught the client the hub's time", timeRefusals)
			}
			// Known now: the next request is right at the first try.
			before := timeRefusals
			if _, err := c.IssueCertificate(context.Background(), hubclient.CertificateRequest{CF: "RSSMRA50B17F205W", Types: []string{"residenza"}}); err != nil {
				t.Fatal(err)
			}
			if after := h.refusals.Count(httpsig.ReasonSignatureExpired) + h.refusals.Count(httpsig.ReasonSignatureNotYetValid); after != before {
				t.Errorf("a request signed after learning the hub's time was refused for it")
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.handled != 2 {
				t.Errorf("the hub acted on %d requests, want 2", h.handled)
			}
		})
	}
}
