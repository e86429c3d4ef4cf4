package hubclient_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/keyhandover"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// rotatingHub is the real handler stack whose keys are read again from
// a key directory, as the hub does after hub keys rotate.
type rotatingHub struct {
	mu  sync.Mutex
	h   http.Handler
	st  *registrybolt.Store
	ops *operators.Service
}

func (r *rotatingHub) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	h := r.h
	r.mu.Unlock()
	h.ServeHTTP(w, req)
}

// serve signs answers with key, sending chain as the hand-over.
func (r *rotatingHub) serve(key ed25519.PrivateKey, kid string, chain []keyhandover.Handover) {
	api := &hubapi.Server{Store: r.st, Operators: r.ops, Now: clock, Log: slog.New(slog.DiscardHandler),
		Verifier:  &httpsig.Verifier{Keys: r.ops, Clock: clock},
		HubSigner: &httpsig.Signer{Key: key, KeyID: kid, Clock: clock}}
	if len(chain) > 0 {
		api.KeyHandover = keyhandover.Encode(chain)
	}
	r.mu.Lock()
	r.h = api.Handler()
	r.mu.Unlock()
}

func (r *rotatingHub) load(t *testing.T, dir string) *seal.Keys {
	t.Helper()
	k, err := seal.LoadOrCreate(dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	r.serve(k.ResponseKey, k.ResponseKeyID, k.Handovers)
	return k
}

func TestKioskKeepsTalkingAcrossResponseKeyRotation(t *testing.T) {
	ctx := context.Background()
	st, err := registrybolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hub := &rotatingHub{st: st, ops: operators.NewService(bolt.New(st), store.Tx.Operators, nil, clock, operators.Policy{Calendar: operators.Milan})}
	code := activeShop(t, hub.ops)
	dir := t.TempDir()
	k1 := hub.load(t, dir)
	srv := httptest.NewServer(hub)
	t.Cleanup(srv.Close)

	p, err := (&hubclient.Client{Clock: clock}).Enrol(ctx, srv.URL, code, "Cassa 1")
	if err != nil {
		t.Fatal(err)
	}
	if p.HubKeyID != k1.KeyID {
		t.Fatalf("enrolled with hub key %s, want the token key %s of a directory never rotated", p.HubKeyID, k1.KeyID)
	}
	pinned := *p // what a second kiosk, not yet told, still pins

	if _, err := seal.RotateResponse(dir, clock()); err != nil {
		t.Fatal(err)
	}
	k2 := hub.load(t, dir)
	c := hubclient.New(p)
	c.Clock = clock
	var saved []string
	c.OnHubKey = func(p *hubclient.Profile) { saved = append(saved, p.HubKeyID) }
	for range 2 {
		if self, err := c.Self(ctx); err != nil || self.KeyID != p.KeyID {
			t.Fatalf("after the rotation: %+v %v", self, err)
		}
	}
	if p.HubKeyID != k2.ResponseKeyID || !ed25519.PublicKey(p.HubKey).Equal(k2.ResponseKey.Public()) || len(saved) != 1 || saved[0] != k2.ResponseKeyID {
		t.Fatalf("the profile pins %s (saved %v), want the new response key %s, saved once", p.HubKeyID, saved, k2.ResponseKeyID)
	}

	// A second rotation: a kiosk still pinning the first key follows both
	// hand-overs.
	if _, err := seal.RotateResponse(dir, clock()); err != nil {
		t.Fatal(err)
	}
	k3 := hub.load(t, dir)
	late := pinned
	lc := hubclient.New(&late)
	lc.Clock = clock
	if _, err := lc.Self(ctx); err != nil || late.HubKeyID != k3.ResponseKeyID {
		t.Fatalf("two rotations later: pins %s, want %s: %v", late.HubKeyID, k3.ResponseKeyID, err)
	}

	if _, err := c.Self(ctx); err != nil || p.HubKeyID != k3.ResponseKeyID {
		t.Fatalf("the first kiosk after the second rotation: pins %s: %v", p.HubKeyID, err)
	}

	// Someone without the pinned key announces theirs, in a hand-over
	// claiming to come from it: refused, and the pin stays.
	pub, mallory, _ := ed25519.GenerateKey(nil)
	malloryID := keyhandover.KeyID(pub)
	forged := keyhandover.Sign(mallory, k3.ResponseKeyID, pub, clock())
	hub.serve(mallory, malloryID, []keyhandover.Handover{forged})
	if _, err := c.Self(ctx); !errors.Is(err, hubclient.ErrUnsignedResponse) {
		t.Fatalf("a forged hand-over: %v", err)
	}
	if p.HubKeyID != k3.ResponseKeyID {
		t.Fatalf("a forged hand-over moved the pin to %s", p.HubKeyID)
	}
	// Without any hand-over, another key is refused as before.
	hub.serve(mallory, malloryID, nil)
	if _, err := c.Self(ctx); !errors.Is(err, hubclient.ErrUnsignedResponse) {
		t.Fatalf("another key without a hand-over: %v", err)
	}
}
