package hubclient_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

var now = time.Date(2026, 4, 7, 8, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// realHub serves the hub's real handler stack over a bbolt file holding one
// active shop, and returns an enrolment code for it.
func realHub(t *testing.T) (*httptest.Server, *operators.Service, string) {
	t.Helper()
	st, err := registrybolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ops := operators.NewService(bolt.New(st), store.Tx.Operators, nil, clock, operators.Policy{Calendar: operators.Milan})
	code := activeShop(t, ops)
	_, hubKey, _ := ed25519.GenerateKey(nil)
	api := &hubapi.Server{Store: st, Operators: ops, Now: clock, Log: slog.New(slog.DiscardHandler),
		Verifier:  &httpsig.Verifier{Keys: ops, Clock: clock},
		HubSigner: &httpsig.Signer{Key: hubKey, KeyID: "hub", Clock: clock}}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv, ops, code
}

// activeShop adds an active shop to ops and returns an enrolment code.
func activeShop(t *testing.T, ops *operators.Service) string {
	t.Helper()
	w, _ := operators.ParseWeek("mon-sat 07:00-19:00")
	o := &operators.Operator{LegalName: "Edicola Loreto", PartitaIVA: "01199250158", Category: operators.Edicola,
		Address:   operators.Address{Street: "Piazzale Loreto", Number: "1", CAP: "20131", City: "Milano", Lat: 45.4859, Lon: 9.2165},
		Hours:     operators.Hours{Week: w},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 1, Day: 1}, FeeCents: 200, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	ops.SetStatus(o.ID, operators.Approved, "staff", "")
	ops.SetStatus(o.ID, operators.Active, "staff", "")
	code, _, err := ops.IssueCode(o.ID, "staff", 0)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestEnrolSelfDirectoryProfile(t *testing.T) {
	srv, ops, code := realHub(t)
	ctx := context.Background()
	c := &hubclient.Client{Clock: clock}
	p, err := c.Enrol(ctx, srv.URL+"/", code, "Cassa 1")
	if err != nil {
		t.Fatal(err)
	}
	if p.OperatorID != "op-0001" || p.HubURL != srv.URL || p.HubKeyID != "hub" {
		t.Errorf("profile %+v", p)
	}
	if _, err := (&hubclient.Client{Clock: clock}).Enrol(ctx, srv.URL, code, "again"); !isReason(err, "enrolment_code_used") {
		t.Errorf("second enrolment: %v", err)
	}

	// internal/keystore tests the profile on disk, its keys sealed.
	c = hubclient.New(p)
	c.Clock = clock
	self, err := c.Self(ctx)
	if err != nil || self.KeyID != p.KeyID || !self.MayIssue || self.FeeCents != 200 {
		t.Fatalf("self: %+v %v", self, err)
	}
	// The directory lists the other places, never the asking device's
	// own shop.
	w, _ := operators.ParseWeek("mon-sat 07:00-19:00")
	other := &operators.Operator{LegalName: "Tabacchi Loreto", PartitaIVA: "01199250158", Category: operators.Tabaccheria,
		Address:   operators.Address{Street: "Piazzale Loreto", Number: "9", CAP: "20131", City: "Milano", Lat: 45.4861, Lon: 9.2160},
		Hours:     operators.Hours{Week: w},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 1, Day: 1}, FeeCents: 150, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(other, "staff"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []operators.Status{operators.Approved, operators.Active} {
		if _, err := ops.SetStatus(other.ID, st, "staff", ""); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := c.Directory(ctx, hubclient.DirectoryQuery{Lat: 45.4642, Lon: 9.19, At: time.Date(2026, 4, 7, 10, 0, 0, 0, operators.Rome)})
	if err != nil || len(ds) != 1 || ds[0].ID != other.ID || !ds[0].Open || ds[0].Transit.Stop != "" || ds[0].DistanceM < 2000 {
		t.Errorf("directory: %+v %v", ds, err)
	}
	geo, err := c.DirectoryGeoJSON(ctx)
	if err != nil || !bytes.Contains(geo, []byte(`"FeatureCollection"`)) {
		t.Errorf("geojson: %s %v", geo, err)
	}
	h, err := c.Health(ctx)
	if err != nil || h.Status != "ok" {
		t.Errorf("health: %+v %v", h, err)
	}

	// Staff suspend the shop: the next request is refused, with its reason.
	ops.SetStatus(p.OperatorID, operators.Suspended, "staff", "inspection")
	if _, err := c.Self(ctx); !isReason(err, "key_suspended") {
		t.Errorf("after suspension: %v", err)
	}
}

func isReason(err error, reason string) bool {
	var ae *hubclient.APIError
	return errors.As(err, &ae) && ae.Reason == reason
}

// flakyHub is a signed hub whose first failures answers fail: 503 from
// the hub itself, or a dropped connection. It records every attempt.
type flakyHub struct {
	mu       sync.Mutex
	failures int
	drop     bool
	keys     []string // Idempotency-Key per attempt that reached the handler
	nonces   []string
	tamper   bool
}

func newFlaky(t *testing.T, fh *flakyHub) (*httptest.Server, *hubclient.Profile) {
	devPub, devPriv, _ := ed25519.GenerateKey(nil)
	hubPub, hubPriv, _ := ed25519.GenerateKey(nil)
	v := &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: devPub}, Clock: clock}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := httpsig.VerifiedFrom(r.Context())
		fh.mu.Lock()
		fh.keys = append(fh.keys, r.Header.Get("Idempotency-Key"))
		fh.nonces = append(fh.nonces, got.Nonce)
		fail := !fh.drop && len(fh.keys) <= fh.failures
		fh.mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(503)
			io.WriteString(w, `{"reason":"unavailable","message":"try later"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"C1","protocol":"2026/0000001","total_cents":1852}`)
	})
	signed := httpsig.ResponseSigner(&httpsig.Signer{Key: hubPriv, KeyID: "hub", Clock: clock}, httpsig.Middleware(v, api))
	var attempts int
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fh.mu.Lock()
		attempts++
		drop := fh.drop && attempts <= fh.failures
		fh.mu.Unlock()
		if drop {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		if fh.tamper {
			rec := httptest.NewRecorder()
			signed.ServeHTTP(rec, r)
			for k, vs := range rec.Header() {
				w.Header()[k] = vs
			}
			w.WriteHeader(rec.Code)
			w.Write(bytes.Replace(rec.Body.Bytes(), []byte("1852"), []byte("9999"), 1))
			return
		}
		signed.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	return srv, &hubclient.Profile{HubURL: srv.URL, KeyID: "dev-1", DeviceKey: devPriv.Seed(), HubKey: hubPub, HubKeyID: "hub"}
}

func TestRetries(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures int
		drop     bool
		attempts int
		ok       bool
	}{
		{"two 503s then success", 2, false, 3, true},
		{"dropped connections then success", 2, true, 1, true},
		{"always failing gives up", 10, false, 4, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fh := &flakyHub{failures: tt.failures, drop: tt.drop}
			_, p := newFlaky(t, fh)
			var waits []time.Duration
			c := &hubclient.Client{Profile: p, Clock: clock, Retry: hubclient.Retry{Base: 100 * time.Millisecond, Max: time.Second},
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			cert, err := c.IssueCertificate(context.Background(), hubclient.CertificateRequest{CF: "RSSMRA50B17F205W", Types: []string{"residenza"}})
			if tt.ok != (err == nil) {
				t.Fatalf("err %v", err)
			}
			if tt.ok && cert.TotalCents != 1852 {
				t.Errorf("cert %+v", cert)
			}
			fh.mu.Lock()
			defer fh.mu.Unlock()
			if len(fh.keys) != tt.attempts {
				t.Errorf("%d attempts reached the handler, want %d", len(fh.keys), tt.attempts)
			}
			seen := map[string]bool{}
			for i, k := range fh.keys {
				if k == "" || k != fh.keys[0] {
					t.Errorf("attempt %d: Idempotency-Key %q, want the same non-empty key", i, k)
				}
				if seen[fh.nonces[i]] {
					t.Errorf("attempt %d reused a nonce", i)
				}
				seen[fh.nonces[i]] = true
			}
			for i, d := range waits {
				if limit := 100 * time.Millisecond << i; d < 0 || d > limit || d > time.Second {
					t.Errorf("wait %d: %s, want within [0, %s]", i, d, limit)
				}
			}
		})
	}
}

func TestTamperedResponseRefused(t *testing.T) {
	fh := flakyHub{tamper: true}
	_, p := newFlaky(t, &fh)
	c := &hubclient.Client{Profile: p, Clock: clock}
	_, err := c.IssueCertificate(context.Background(), hubclient.CertificateRequest{CF: "X", Types: []string{"residenza"}})
	if !errors.Is(err, hubclient.ErrUnsignedResponse) {
		t.Errorf("tampered answer: %v", err)
	}
	// A client pinning another hub key refuses genuine answers too.
	fh2 := flakyHub{}
	_, p2 := newFlaky(t, &fh2)
	other, _, _ := ed25519.GenerateKey(nil)
	p2.HubKey = other
	if _, err := (&hubclient.Client{Profile: p2, Clock: clock}).IssueCertificate(context.Background(), hubclient.CertificateRequest{CF: "X"}); !errors.Is(err, hubclient.ErrUnsignedResponse) {
		t.Errorf("wrong pinned key: %v", err)
	}
}
