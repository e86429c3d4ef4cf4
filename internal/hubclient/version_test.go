package hubclient_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// TestHubOfAnotherVersion: a hub that speaks only version 2 is refused on
// enrolment, on the health call and on every signed call, with
// api_version_unsupported, which holds a queue (nothing given up) and is
// not retried: one request each.
func TestHubOfAnotherVersion(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set(api.HeaderVersion, "2")
		w.Header().Set(api.HeaderSupported, "2")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"reason":"not_found","message":"no such route"}`))
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	refused := func(what string, err error) {
		t.Helper()
		var r *api.Refusal
		if !errors.As(err, &r) || r.Reason != api.ReasonAPIVersionUnsupported || r.Disposition() != api.Hold ||
			!strings.Contains(r.Message, "version 2") {
			t.Errorf("%s: %v", what, err)
		}
		if _, ok := api.Refused(err); !ok {
			t.Errorf("%s: %v is not a refusal the kiosk tells", what, err)
		}
	}
	_, err := (&hubclient.Client{Clock: clock}).Enrol(ctx, srv.URL, "code", "Cassa 1")
	refused("enrolment", err)

	_, devPriv, _ := ed25519.GenerateKey(nil)
	hubPub, _, _ := ed25519.GenerateKey(nil)
	c := &hubclient.Client{Clock: clock, Sleep: func(context.Context, time.Duration) error { return nil },
		Profile: &hubclient.Profile{HubURL: srv.URL, KeyID: "dev-1", DeviceKey: devPriv.Seed(), HubKey: hubPub, HubKeyID: "hub"}}
	_, err = c.Health(ctx)
	refused("health", err)
	hits.Store(0)
	_, err = c.Self(ctx)
	refused("self", err)
	if n := hits.Load(); n != 1 {
		t.Errorf("the signed call was sent %d times to a hub that does not speak its version", n)
	}
	// The same hub stating it serves 1 as well is heard as before.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(api.HeaderVersion, "1")
		w.Header().Set(api.HeaderSupported, "1, 2")
		w.Write([]byte(`{"status":"ok"}`))
	}))
	t.Cleanup(srv2.Close)
	c.Profile.HubURL = srv2.URL
	if h, err := c.Health(ctx); err != nil || h.Status != "ok" {
		t.Errorf("a hub serving 1 and 2: %+v %v", h, err)
	}
}

// TestHubRetiringVersion: a hub retiring version 1 still serves it; the
// client learns the sunset date, from enrolment on, for the kiosk's
// warning line. A hub not retiring it gives none.
func TestHubRetiringVersion(t *testing.T) {
	ctx := context.Background()
	r := api.RetirementOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	for _, vs := range []*api.Versions{nil, {Current: "2", Supported: []string{"1", "2"}, Deprecated: map[string]api.Retirement{"1": r}}} {
		srv, code := versionedHub(t, vs)
		c := &hubclient.Client{Clock: clock}
		if _, ok := c.Sunset(); ok {
			t.Fatal("a sunset before any answer")
		}
		p, err := c.Enrol(ctx, srv.URL, code, "Cassa 1")
		if err != nil {
			t.Fatal(err)
		}
		sunset, ok := c.Sunset()
		if vs == nil {
			if ok {
				t.Errorf("a hub not retiring version 1 gave sunset %v", sunset)
			}
			continue
		}
		if !ok || !sunset.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("sunset after enrolment: %v %v", sunset, ok)
		}
		c = hubclient.New(p)
		c.Clock = clock
		if self, err := c.Self(ctx); err != nil || self.KeyID != p.KeyID {
			t.Fatalf("a retiring version is still served: %+v %v", self, err)
		}
		if h, err := c.Health(ctx); err != nil || h.Status != "ok" {
			t.Errorf("health: %+v %v", h, err)
		}
		if sunset, ok := c.Sunset(); !ok || !sunset.Equal(r.Sunset) {
			t.Errorf("sunset after the status calls: %v %v", sunset, ok)
		}
	}
}

// versionedHub is realHub stating vs (nil: the hub's own).
func versionedHub(t *testing.T, vs *api.Versions) (*httptest.Server, string) {
	t.Helper()
	st, err := registrybolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ops := operators.NewService(bolt.New(st), store.Tx.Operators, nil, clock, operators.Policy{Calendar: operators.Milan})
	code := activeShop(t, ops)
	_, hubKey, _ := ed25519.GenerateKey(nil)
	h := &hubapi.Server{Store: st, Operators: ops, Now: clock, Log: slog.New(slog.DiscardHandler), Versions: vs,
		Verifier:  &httpsig.Verifier{Keys: ops, Clock: clock},
		HubSigner: &httpsig.Signer{Key: hubKey, KeyID: "hub", Clock: clock}}
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	return srv, code
}
