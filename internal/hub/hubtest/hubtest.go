// Package hubtest serves a whole hub for tests, built by the hub's one
// constructor (hub.New) exactly as hub serve builds it: a seeded registry
// in a bbolt file in a temporary directory (or a PostgreSQL database when
// asked), the hub's keys, the PDFs by content, the audit log anchoring as
// it records, and a fake clock that moves only when the test moves it.
package hubtest

import (
	"context"
	"crypto/x509"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/blob/blobdir"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/clock"
	"github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/synth"
)

// Start is when a test hub's clock reads unless At says otherwise: a
// working morning, so shops are open.
var Start = time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)

// Hub is a served hub.
type Hub struct {
	*hub.Hub
	// Server serves Handler; URL is its address.
	Server *httptest.Server
	URL    string
	// Stores is the hub's storage as the hub sees it (anchoring).
	Stores store.Store
	// Registry is the register of residents.
	Registry registry.Store
	// Keys are the hub's keys.
	Keys *seal.Keys
	// Clock is the hub's clock; the test moves it.
	Clock *clock.Fake
	// Dir holds the hub's file (bbolt), keys, PDFs and anchors.
	Dir string
}

// AuditLog is the hub's audit log, store-neutral (store.AuditLog).
func (h *Hub) AuditLog() store.AuditLog { return store.AuditLog{S: h.Stores} }

// Option changes what New builds.
type Option func(*options)

type options struct {
	persons   int
	seed      int64
	at        time.Time
	db        string
	configure []func(*hub.Config)
}

// Persons seeds a synthetic city of n residents (default 200; 0: an empty
// registry).
func Persons(n int) Option { return func(o *options) { o.persons = n } }

// Seed is the synthetic city's seed (default 3).
func Seed(s int64) Option { return func(o *options) { o.seed = s } }

// At starts the clock at t (default Start).
func At(t time.Time) Option { return func(o *options) { o.at = t } }

// Database keeps the hub's records in the PostgreSQL database at conn
// (pgtest.Shared.Database gives a fresh one) instead of a bbolt file.
func Database(conn string) Option { return func(o *options) { o.db = conn } }

// Configure changes the hub's Config before it is built: clerks optional,
// notifiers, the demo….
func Configure(fn func(*hub.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, fn) }
}

// New builds and serves a hub; everything is closed when the test ends.
func New(tb testing.TB, opts ...Option) *Hub {
	tb.Helper()
	o := options{persons: 200, seed: 3, at: Start}
	for _, fn := range opts {
		fn(&o)
	}
	ctx := context.Background()
	dir := tb.TempDir()
	fake := clock.NewFake(o.at)
	var (
		st  *hub.Storage
		err error
	)
	if o.db != "" {
		st, err = hub.OpenDatabase(ctx, o.db)
	} else {
		st, err = hub.OpenFile(filepath.Join(dir, "hub.db"), false)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if o.persons > 0 {
		cfg := synth.Config{Persons: o.persons, Seed: o.seed, Today: registry.DateOf(o.at), City: synth.DefaultCity()}
		if _, err := synth.Seed(ctx, st.Registry, cfg, nil); err != nil {
			tb.Fatal(err)
		}
	}
	blobs, err := blobdir.Open(filepath.Join(dir, "pdf"))
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := seal.LoadOrCreate(filepath.Join(dir, "keys"), fake.Now)
	if err != nil {
		tb.Fatal(err)
	}
	// Every commit's audit head is anchored, as in hub serve.
	anchors, err := anchorlog.Open(filepath.Join(dir, anchorlog.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { anchors.Close() })
	anchoring, err := store.AnchorAudit(ctx, st.Stores, audit.NewAnchorer(keys.TokenKey, keys.KeyID, fake.Now, audit.Head{}, anchors),
		func(err error) { tb.Errorf("audit anchor: %v", err) })
	if err != nil {
		tb.Fatal(err)
	}
	csca, err := virtual.TestCSCA()
	if err != nil {
		tb.Fatal(err)
	}
	cfg := hub.Config{Stores: anchoring, Registry: st.Registry, Blobs: blobs, Keys: keys, Clock: fake.Now,
		Audit: store.NewRecorder(anchoring, fake.Now), Belfiore: "F205", PublicURL: "https://hub.example",
		// The virtual CIE's issuer is trusted, so its taps identify.
		CSCAs: []*x509.Certificate{csca}, Version: "test"}
	for _, fn := range o.configure {
		fn(&cfg)
	}
	h, err := hub.New(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := h.Close(); err != nil {
			tb.Error(err)
		}
	})
	srv := httptest.NewServer(h.Handler())
	tb.Cleanup(srv.Close)
	return &Hub{Hub: h, Server: srv, URL: srv.URL, Stores: anchoring, Registry: st.Registry, Keys: keys, Clock: fake, Dir: dir}
}
