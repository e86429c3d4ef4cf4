package hubapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/httpsig/httpsigtest"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// devClock is a settable clock shared by hub and kiosk in these tests.
type devClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *devClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *devClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type devFixture struct {
	srv      *httptest.Server
	ops      *operators.Service
	clock    *devClock
	hubPub   ed25519.PublicKey
	refusals *httpsig.RefusalCounter
	shop     *operators.Operator
}

// a Tuesday morning in Milan.
var devNow = time.Date(2026, 4, 7, 8, 0, 0, 0, time.UTC)

func newDevFixture(t *testing.T) *devFixture {
	t.Helper()
	return newDevFixtureWith(t, nil)
}

// newDevFixtureWith is newDevFixture with the server changed by with
// before it serves.
func newDevFixtureWith(t *testing.T, with func(*Server)) *devFixture {
	t.Helper()
	st, err := registrybolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &devClock{t: devNow}
	ops := operators.NewService(bolt.New(st), store.Tx.Operators, nil, clock.now, operators.Policy{Calendar: operators.Milan})
	hubPub, hubPriv, _ := ed25519.GenerateKey(nil)
	refusals := &httpsig.RefusalCounter{}
	api := &Server{
		Store: st, Operators: ops, Now: clock.now, Log: slog.New(slog.DiscardHandler),
		Verifier:  &httpsig.Verifier{Keys: ops, Clock: clock.now, Metrics: refusals, MaxBody: 64 << 10},
		HubSigner: &httpsig.Signer{Key: hubPriv, KeyID: "hub-test", Clock: clock.now},
		Refusals:  refusals,
	}
	if with != nil {
		with(api)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	f := &devFixture{srv: srv, ops: ops, clock: clock, hubPub: hubPub, refusals: refusals}
	f.shop = f.addShop(t, "Edicola Loreto", 45.4857, 9.2163, operators.Active)
	return f
}

func (f *devFixture) addShop(t *testing.T, name string, lat, lon float64, st operators.Status) *operators.Operator {
	t.Helper()
	return f.addShopOf(t, name, operators.Edicola, lat, lon, st)
}

// addShopOf is addShop with the operator's category.
func (f *devFixture) addShopOf(t *testing.T, name string, cat operators.Category, lat, lon float64, st operators.Status) *operators.Operator {
	t.Helper()
	var h operators.Hours
	for d := time.Monday; d <= time.Saturday; d++ {
		h.Week.Set(d, operators.Interval{Open: 7 * 60, Close: 19 * 60})
	}
	o := &operators.Operator{
		LegalName: name, PartitaIVA: "01199250158", Category: cat, Hours: h,
		Address:   operators.Address{Street: "Piazzale Loreto", Number: strconv.Itoa(int(lat * 1e4)), CAP: "20131", City: "Milano", Lat: lat, Lon: lon},
		Transit:   operators.Transit{Metro: []string{"M1", "M2"}, Stop: "Loreto"},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 12, Day: 31}, FeeCents: 200, Types: []certificate.Type{certificate.Residenza}},
	}
	if err := f.ops.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	path := map[operators.Status][]operators.Status{
		operators.Applied:   nil,
		operators.Approved:  {operators.Approved},
		operators.Active:    {operators.Approved, operators.Active},
		operators.Suspended: {operators.Approved, operators.Active, operators.Suspended},
	}[st]
	for _, s := range path {
		var err error
		if o, err = f.ops.SetStatus(o.ID, s, "staff", "test"); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

type device struct {
	keyID string
	priv  ed25519.PrivateKey
}

func (f *devFixture) code(t *testing.T, opID string, ttl time.Duration) string {
	t.Helper()
	code, _, err := f.ops.IssueCode(opID, "staff", ttl)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func (f *devFixture) enrolRaw(t *testing.T, body string) (int, httpsig.Refusal, map[string]string) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/api/v1/devices", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ref httpsig.Refusal
	var ok map[string]string
	json.Unmarshal(b, &ref)
	json.Unmarshal(b, &ok)
	return resp.StatusCode, ref, ok
}

func (f *devFixture) enrol(t *testing.T, opID string) device {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	body, _ := json.Marshal(map[string]string{"code": f.code(t, opID, 0), "public_key": base64.StdEncoding.EncodeToString(pub), "name": "Cassa 1"})
	status, ref, got := f.enrolRaw(t, string(body))
	if status != http.StatusCreated {
		t.Fatalf("enrol: %d %+v", status, ref)
	}
	if got["operator_id"] != opID || got["key_id"] != operators.KeyIDFor(pub) || got["hub_key"] != base64.StdEncoding.EncodeToString(f.hubPub) {
		t.Fatalf("enrolment answer %v", got)
	}
	return device{got["key_id"], priv}
}

func (f *devFixture) signer(d device) *httpsig.Signer {
	return &httpsig.Signer{Key: d.priv, KeyID: d.keyID, Clock: f.clock.now, Extra: []string{"idempotency-key"}}
}

// do sends req and checks the hub's response signature with the pinned key.
func (f *devFixture) do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	pinned := &httpsig.Verifier{Keys: httpsig.StaticKey{Key: f.hubPub}, Clock: f.clock.now}
	if _, err := pinned.VerifyResponse(context.Background(), resp, body); err != nil {
		t.Errorf("%s %s → %d: response signature refused: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, body
}

func (f *devFixture) get(t *testing.T, d device, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	if err := f.signer(d).SignRequest(req, nil); err != nil {
		t.Fatal(err)
	}
	return f.do(t, req)
}

func reasonOf(body []byte) string {
	var r httpsig.Refusal
	json.Unmarshal(body, &r)
	return string(r.Reason)
}

func TestEnrolment(t *testing.T) {
	f := newDevFixture(t)
	pub, _, _ := ed25519.GenerateKey(nil)
	key := base64.StdEncoding.EncodeToString(pub)
	req := func(code, key string) string {
		b, _ := json.Marshal(map[string]string{"code": code, "public_key": key, "name": "Cassa"})
		return string(b)
	}
	used := f.code(t, f.shop.ID, 0)
	if status, ref, _ := f.enrolRaw(t, req(used, key)); status != http.StatusCreated {
		t.Fatalf("first use: %d %+v", status, ref)
	}
	expiring := f.code(t, f.shop.ID, time.Hour)
	pending := f.addShop(t, "Tabaccheria in attesa", 45.47, 9.19, operators.Applied)
	approved := f.addShop(t, "Cartoleria approvata", 45.46, 9.18, operators.Approved)
	approvedCode := f.code(t, approved.ID, 0)
	f.clock.add(time.Hour) // expiring is now one second past… exactly at its end
	other, _, _ := ed25519.GenerateKey(nil)
	otherKey := base64.StdEncoding.EncodeToString(other)

	tests := []struct {
		name   string
		body   string
		status int
		reason string
	}{
		{"reused code", req(used, otherKey), http.StatusConflict, "enrolment_code_used"},
		{"expired code", req(expiring, otherKey), http.StatusGone, "enrolment_code_expired"},
		{"unknown code", req("0000-0000-0000-0000", otherKey), http.StatusForbidden, "enrolment_code_invalid"},
		{"no code", req("", otherKey), http.StatusBadRequest, "bad_request"},
		{"short key", req(f.code(t, f.shop.ID, 0), base64.StdEncoding.EncodeToString(other[:31])), http.StatusBadRequest, "bad_public_key"},
		{"identity point as key", req(f.code(t, f.shop.ID, 0), base64.StdEncoding.EncodeToString(httpsigtest.IdentityKey)), http.StatusBadRequest, "weak_public_key"},
		{"identity point, non-canonical", req(f.code(t, f.shop.ID, 0), base64.StdEncoding.EncodeToString(httpsigtest.NonCanonicalIdentity)), http.StatusBadRequest, "weak_public_key"},
		{"point of order 8", req(f.code(t, f.shop.ID, 0), "xxdqcD1N2E+6PAt2DRBnDyogU/osOczGTsf9d5KsA3o="), http.StatusBadRequest, "weak_public_key"},
		{"not JSON", "code=x", http.StatusBadRequest, "bad_request"},
		{"unknown field", `{"code":"x","public_key":"y","operator_id":"op-0001"}`, http.StatusBadRequest, "bad_request"},
		{"same key again", req(f.code(t, f.shop.ID, 0), key), http.StatusConflict, "key_in_use"},
	}
	for _, tt := range tests {
		status, ref, _ := f.enrolRaw(t, tt.body)
		if status != tt.status || string(ref.Reason) != tt.reason || ref.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s", tt.name, status, ref, tt.status, tt.reason)
		}
	}
	if _, _, err := f.ops.IssueCode(pending.ID, "staff", 0); err == nil {
		t.Error("a code was issued for an application not yet approved")
	}
	// An approved shop enrols its kiosk before going live, sees the
	// directory, but may not issue yet.
	if status, ref, _ := f.enrolRaw(t, req(approvedCode, otherKey)); status != http.StatusCreated {
		t.Fatalf("approved shop: %d %+v", status, ref)
	}
}

func TestDeviceSelfAndLiveStatus(t *testing.T) {
	f := newDevFixture(t)
	d := f.enrol(t, f.shop.ID)
	check := func(step string, status int, reason string) {
		t.Helper()
		resp, body := f.get(t, d, "/api/v1/devices/self")
		if resp.StatusCode != status || (reason != "" && reasonOf(body) != reason) {
			t.Errorf("%s: %d %s, want %d %s", step, resp.StatusCode, body, status, reason)
		}
	}
	check("enrolled", 200, "")
	// The agreement's identity of the shop travels with the answer: the
	// kiosk's set-up writes it, and the shop never types it.
	_, body := f.get(t, d, "/api/v1/devices/self")
	var self api.Device
	if err := json.Unmarshal(body, &self); err != nil {
		t.Fatal(err)
	}
	want := api.DeviceShop{Name: "Edicola Loreto", LegalName: "Edicola Loreto", PartitaIVA: "01199250158", Category: "edicola",
		Address: f.shop.Address.String(), Lat: 45.4857, Lon: 9.2163}
	if self.Shop == nil || *self.Shop != want || self.Channel != api.ChannelCounter {
		t.Errorf("shop %+v channel %q, want %+v on the counter", self.Shop, self.Channel, want)
	}
	kioskOp := f.addShopOf(t, "Totem Stazione Centrale", operators.SelfService, 45.4859, 9.2040, operators.Active)
	_, body = f.get(t, f.enrol(t, kioskOp.ID), "/api/v1/devices/self")
	if err := json.Unmarshal(body, &self); err != nil || self.Channel != api.ChannelSelfService {
		t.Errorf("a self-service kiosk operator's device: channel %q (%v), want %s", self.Channel, err, api.ChannelSelfService)
	}
	if _, err := f.ops.SetStatus(f.shop.ID, operators.Suspended, "staff", "unpaid fees"); err != nil {
		t.Fatal(err)
	}
	check("operator suspended", 403, "key_suspended")
	// The device itself is told the city's reason; a request its key did
	// not sign, under the same key id, is refused without it.
	_, body = f.get(t, d, "/api/v1/devices/self")
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil || p.Notice != "unpaid fees" {
		t.Errorf("the suspended device's own request: %s, want the notice %q", body, "unpaid fees")
	}
	_, otherKey, _ := ed25519.GenerateKey(nil)
	resp, body := f.get(t, device{keyID: d.keyID, priv: otherKey}, "/api/v1/devices/self")
	p = api.Problem{}
	if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != 403 || p.Reason != "key_suspended" || p.Notice != "" || strings.Contains(string(body), "unpaid") {
		t.Errorf("a request not signed by the suspended key: %d %s, want key_suspended without the notice", resp.StatusCode, body)
	}
	if _, err := f.ops.SetStatus(f.shop.ID, operators.Active, "staff", "paid"); err != nil {
		t.Fatal(err)
	}
	check("operator reactivated", 200, "")
	if _, err := f.ops.RevokeDevice(d.keyID, "staff", "stolen"); err != nil {
		t.Fatal(err)
	}
	check("device revoked", 403, "key_revoked")
	dev, _ := f.ops.Device(d.keyID)
	if !dev.LastContact.Equal(devNow) {
		t.Errorf("last contact %s, want %s", dev.LastContact, devNow)
	}
}

// TestDeviceSelfFeePolicy: the agreement a kiosk fetches carries the
// city's certificate fee policy as the desk issues under it, so the
// kiosk's preview charges what the hub will.
func TestDeviceSelfFeePolicy(t *testing.T) {
	pol := certificate.Policy{ServiceCapCents: 250, LawExemption: true, BolloAuthorisation: "n. 123/2019 del 15/01/2019",
		Diritti: map[certificate.Channel]fees.Rates{certificate.SelfService: {}, certificate.Office: {InBolloCents: 70, ExemptCents: 35}}}
	f := newDevFixtureWith(t, func(s *Server) { s.Desk = &issuance.Service{Policy: pol} })
	resp, body := f.get(t, f.enrol(t, f.shop.ID), "/api/v1/devices/self")
	var dev api.Device
	if err := json.Unmarshal(body, &dev); err != nil || resp.StatusCode != 200 || dev.FeePolicy == nil {
		t.Fatalf("%d %s %v", resp.StatusCode, body, err)
	}
	want := api.FeePolicy{ServiceCapCents: 250, BirthMarriageExempt: true, BolloAuthorisation: "n. 123/2019 del 15/01/2019",
		Diritti: map[string]fees.Rates{"counter": fees.DefaultRates, "self_service": {}}}
	if got := *dev.FeePolicy; got.ServiceCapCents != want.ServiceCapCents || got.BirthMarriageExempt != want.BirthMarriageExempt ||
		got.BolloAuthorisation != want.BolloAuthorisation || fmt.Sprint(got.Diritti) != fmt.Sprint(want.Diritti) {
		t.Errorf("fee policy %+v, want %+v", got, want)
	}
}

// TestSignatureRefusals is the table of attacks and mistakes of issue 4:
// each is refused with its reason, signed by the hub, and counted.
func TestSignatureRefusals(t *testing.T) {
	f := newDevFixture(t)
	good := f.enrol(t, f.shop.ID)
	revoked := f.enrol(t, f.shop.ID)
	if _, err := f.ops.RevokeDevice(revoked.keyID, "staff", "replaced"); err != nil {
		t.Fatal(err)
	}
	suspendedShop := f.addShop(t, "Edicola sospesa", 45.48, 9.20, operators.Active)
	suspended := f.enrol(t, suspendedShop.ID)
	if _, err := f.ops.SetStatus(suspendedShop.ID, operators.Suspended, "staff", "inspection"); err != nil {
		t.Fatal(err)
	}
	_, strangerKey, _ := ed25519.GenerateKey(nil)
	stranger := device{"dev-unknown", strangerKey}

	const path = "/api/v1/devices/self"
	post := func(body string) *http.Request {
		req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/certificates", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k-1")
		return req
	}
	getReq := func() *http.Request { req, _ := http.NewRequest("GET", f.srv.URL+path, nil); return req }
	sign := func(t *testing.T, d device, req *http.Request, body string) {
		t.Helper()
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		if err := f.signer(d).SignRequest(req, b); err != nil {
			t.Fatal(err)
		}
	}
	signAt := func(t *testing.T, d device, req *http.Request, shift time.Duration) {
		t.Helper()
		s := f.signer(d)
		s.Clock = func() time.Time { return f.clock.now().Add(shift) }
		if err := s.SignRequest(req, nil); err != nil {
			t.Fatal(err)
		}
	}
	// signWith signs only the given components, as a careless client would.
	signWith := func(t *testing.T, d device, req *http.Request, body []byte, names ...string) {
		t.Helper()
		var cs []httpsig.Component
		for _, n := range names {
			cs = append(cs, httpsig.C(n))
		}
		now := f.clock.now()
		nonce, _ := httpsig.NewNonce(nil)
		m := httpsig.RequestMessage(req)
		m.ContentLength = int64(len(body))
		s, err := httpsig.Sign(m, "sig1", cs, httpsig.Params{Created: now, Expires: now.Add(time.Minute), Nonce: nonce, KeyID: d.keyID, Alg: httpsig.AlgEd25519}, d.priv)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Signature-Input", s.Input)
		req.Header.Set("Signature", s.Signature)
	}
	const body = `{"cf":"RSSMRA50B17F205X","types":["residenza"]}`

	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		status int
		reason httpsig.Reason
	}{
		{"no signature", func(t *testing.T) *http.Request { return getReq() }, 401, httpsig.ReasonMissingSignature},
		{"unknown keyid", func(t *testing.T) *http.Request { r := getReq(); sign(t, stranger, r, ""); return r }, 401, httpsig.ReasonUnknownKey},
		{"revoked device", func(t *testing.T) *http.Request { r := getReq(); sign(t, revoked, r, ""); return r }, 403, httpsig.ReasonKeyRevoked},
		{"suspended operator", func(t *testing.T) *http.Request { r := getReq(); sign(t, suspended, r, ""); return r }, 403, httpsig.ReasonKeySuspended},
		{"expired signature", func(t *testing.T) *http.Request { r := getReq(); signAt(t, good, r, -10*time.Minute); return r }, 401, httpsig.ReasonSignatureExpired},
		{"not yet valid", func(t *testing.T) *http.Request { r := getReq(); signAt(t, good, r, 10*time.Minute); return r }, 401, httpsig.ReasonSignatureNotYetValid},
		{"body changed after signing", func(t *testing.T) *http.Request {
			r := post(body)
			sign(t, good, r, body)
			changed := strings.Replace(body, "residenza", "stato_libero", 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(changed)), int64(len(changed))
			return r
		}, 401, httpsig.ReasonDigestMismatch},
		{"body and digest changed", func(t *testing.T) *http.Request {
			r := post(body)
			sign(t, good, r, body)
			changed := strings.Replace(body, "residenza", "stato_libero", 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(changed)), int64(len(changed))
			r.Header.Set("Content-Digest", httpsig.ContentDigest([]byte(changed)))
			return r
		}, 401, httpsig.ReasonInvalidSignature},
		{"content-digest mismatch", func(t *testing.T) *http.Request {
			r := post(body)
			r.Header.Set("Content-Digest", httpsig.ContentDigest([]byte("something else")))
			signWith(t, good, r, []byte(body), "@method", "@authority", "@path", "content-digest", "content-type", "idempotency-key")
			return r
		}, 401, httpsig.ReasonDigestMismatch},
		{"idempotency key not covered", func(t *testing.T) *http.Request {
			r := post(body)
			r.Header.Set("Content-Digest", httpsig.ContentDigest([]byte(body)))
			signWith(t, good, r, []byte(body), "@method", "@authority", "@path", "content-digest", "content-type")
			return r
		}, 401, httpsig.ReasonMissingComponent},
		{"covered header altered", func(t *testing.T) *http.Request {
			r := post(body)
			sign(t, good, r, body)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, 401, httpsig.ReasonInvalidSignature},
		{"idempotency key altered", func(t *testing.T) *http.Request {
			r := post(body)
			sign(t, good, r, body)
			r.Header.Set("Idempotency-Key", "k-2")
			return r
		}, 401, httpsig.ReasonInvalidSignature},
		{"required component missing", func(t *testing.T) *http.Request {
			r := getReq()
			signWith(t, good, r, nil, "@method", "@path")
			return r
		}, 401, httpsig.ReasonMissingComponent},
		{"body not covered", func(t *testing.T) *http.Request {
			r := post(body)
			r.Header.Set("Content-Digest", httpsig.ContentDigest([]byte(body)))
			signWith(t, good, r, []byte(body), "@method", "@authority", "@path")
			return r
		}, 401, httpsig.ReasonMissingComponent},
		{"oversize body", func(t *testing.T) *http.Request {
			big := `{"cf":"` + strings.Repeat("A", 70<<10) + `"}`
			r := post(big)
			sign(t, good, r, big)
			// The hub refuses from the headers and closes without reading
			// the body, so a client still writing it may see a broken pipe
			// instead of the answer; asking to continue first, as a client
			// sending a large body should, makes it wait for the 413.
			r.Header.Set("Expect", "100-continue")
			return r
		}, 413, httpsig.ReasonBodyTooLarge},
		{"malformed Signature-Input", func(t *testing.T) *http.Request {
			r := getReq()
			sign(t, good, r, "")
			r.Header.Set("Signature-Input", `sig1=("@method" "@authority";created=x`)
			return r
		}, 401, httpsig.ReasonMalformedSignatureInput},
		{"malformed Signature", func(t *testing.T) *http.Request {
			r := getReq()
			sign(t, good, r, "")
			r.Header.Set("Signature", "sig1=not-a-byte-sequence")
			return r
		}, 401, httpsig.ReasonMalformedSignature},
		{"signature by another key", func(t *testing.T) *http.Request {
			r := getReq()
			sign(t, device{good.keyID, strangerKey}, r, "")
			return r
		}, 401, httpsig.ReasonInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.refusals.Count(tt.reason)
			resp, b := f.do(t, tt.req(t))
			if resp.StatusCode != tt.status || reasonOf(b) != string(tt.reason) {
				t.Errorf("%d %s, want %d %s", resp.StatusCode, b, tt.status, tt.reason)
			}
			if got := f.refusals.Count(tt.reason); got != before+1 {
				t.Errorf("refusal counted %d times, want once", got-before)
			}
		})
	}

	t.Run("replayed nonce", func(t *testing.T) {
		r := getReq()
		sign(t, good, r, "")
		replay := r.Clone(context.Background())
		if resp, b := f.do(t, r); resp.StatusCode != 200 {
			t.Fatalf("first: %d %s", resp.StatusCode, b)
		}
		resp, b := f.do(t, replay)
		if resp.StatusCode != 401 || reasonOf(b) != string(httpsig.ReasonNonceReplayed) {
			t.Errorf("replay: %d %s", resp.StatusCode, b)
		}
	})

	// Every reason above shows in /metrics.
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, tt := range tests {
		line := regexp.MustCompile(fmt.Sprintf(`(?m)^sportello_signature_refusals_total\{reason="%s"\} (\d+)$`, tt.reason)).FindSubmatch(text)
		if line == nil || string(line[1]) == "0" {
			t.Errorf("metrics lack a count for %s:\n%s", tt.reason, text)
		}
	}
	if !bytes.Contains(text, []byte(`sportello_devices{status="revoked"} 1`)) || !bytes.Contains(text, []byte(`sportello_operators{status="suspended"} 1`)) {
		t.Errorf("metrics lack the device and operator gauges:\n%s", text)
	}
}

func TestDirectoryAPI(t *testing.T) {
	f := newDevFixture(t)
	// The asking device's own shop is left out of its answers
	// (TestDirectoryLeavesOutTheAskingShop): this one is a totem far
	// away, so the shops below are all listed.
	totem := f.addShopOf(t, "Totem Bicocca", operators.SelfService, 45.5180, 9.2130, operators.Active)
	d := f.enrol(t, totem.ID)
	f.addShop(t, "Edicola Duomo", 45.4642, 9.1900, operators.Active)
	f.addShop(t, "Edicola sospesa", 45.4645, 9.1905, operators.Suspended)
	office := &operators.Operator{
		LegalName: "Comune di Milano - Anagrafe centrale", PartitaIVA: "01199250158", Category: operators.RegistryOffice,
		Address: operators.Address{Street: "Via Larga", Number: "12", CAP: "20122", City: "Milano", Lat: 45.4614, Lon: 9.1937},
	}
	office.Hours.Week.Set(time.Tuesday, operators.Interval{Open: 8*60 + 30, Close: 15*60 + 30})
	if err := f.ops.Add(office, "staff"); err != nil {
		t.Fatal(err)
	}
	f.ops.SetStatus(office.ID, operators.Approved, "staff", "")
	f.ops.SetStatus(office.ID, operators.Active, "staff", "")

	type entry struct {
		ID        string
		Name      string
		DistanceM int `json:"distance_m"`
		Open      bool
		Today     struct{ Spans []string }
	}
	var got struct{ Results []entry }
	resp, body := f.get(t, d, "/api/v1/directory?lat=45.4642&lon=9.19&at=2026-04-07T09:00:00%2B02:00")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	json.Unmarshal(body, &got)
	var names []string
	for _, e := range got.Results {
		names = append(names, e.Name)
	}
	want := []string{"Edicola Duomo", "Comune di Milano - Anagrafe centrale", "Edicola Loreto"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("order %v, want %v", names, want)
	}
	if len(got.Results) == 3 && (got.Results[0].DistanceM != 0 || got.Results[2].DistanceM < 2000 || got.Results[1].Today.Spans[0] != "08:30-15:30") {
		t.Errorf("results %+v", got.Results)
	}
	// At 18:00 the office is closed and drops out; Easter Monday all close.
	resp, body = f.get(t, d, "/api/v1/directory?lat=45.4642&lon=9.19&at=2026-04-07T18:00:00%2B02:00")
	got.Results = nil
	json.Unmarshal(body, &got)
	if len(got.Results) != 2 {
		t.Errorf("evening: %s", body)
	}
	resp, body = f.get(t, d, "/api/v1/directory?lat=45.4642&lon=9.19&at=2026-04-06T10:00:00%2B02:00")
	got.Results = nil
	json.Unmarshal(body, &got)
	if len(got.Results) != 0 {
		t.Errorf("Easter Monday: %s", body)
	}
	for _, q := range []string{"lat=91&lon=9", "lat=45&lon=x", "lat=45&lon=9&at=yesterday", "lat=45&lon=9&limit=0"} {
		if resp, body := f.get(t, d, "/api/v1/directory?"+q); resp.StatusCode != 400 || reasonOf(body) != "bad_request" {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}

	resp, body = f.get(t, d, "/api/v1/directory.geojson")
	var fc operators.FeatureCollection
	if err := json.Unmarshal(body, &fc); err != nil || resp.Header.Get("Content-Type") != "application/geo+json" || len(fc.Features) != 4 {
		t.Errorf("geojson: %v %s %d features", err, resp.Header.Get("Content-Type"), len(fc.Features))
	}
}

// TestOpenAPIMatchesRoutes reads the routes registered in this package's
// source and the paths of openapi.json: each must have the other.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[string]bool{}
	for _, p := range pkgs {
		ast.Inspect(p, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: a route pattern that is not a string literal cannot be checked", fset.Position(call.Pos()))
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			method, path, ok := strings.Cut(pattern, " ")
			if !ok {
				t.Errorf("route %q has no method", pattern)
				return true
			}
			routes[method+" "+path] = true
			return true
		})
	}
	if len(routes) < 5 {
		t.Fatalf("found only %d routes: %v", len(routes), routes)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" || m == "summary" || m == "description" {
				continue
			}
			documented[strings.ToUpper(m)+" "+path] = true
		}
	}
	var missing, extra []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !routes[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("openapi.json documents routes that do not exist: %v", extra)
	}

	f := newDevFixture(t)
	resp, err := http.Get(f.srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(served, openAPIDoc) {
		t.Errorf("/openapi.json: %d, %d bytes", resp.StatusCode, len(served))
	}
}

// TestDirectoryLeavesOutTheAskingShop: a kiosk's "nearby" list is of the
// other places a citizen could go — its own shop is not among them, for
// its devices only — and each says which certificates it issues and what
// a citizen pays there, in all, for an ordinary one.
func TestDirectoryLeavesOutTheAskingShop(t *testing.T) {
	f := newDevFixture(t)
	own := f.enrol(t, f.shop.ID) // Edicola Loreto
	duomo := f.addShop(t, "Edicola Duomo", 45.4642, 9.1900, operators.Active)
	other := f.enrol(t, duomo.ID)
	office := &operators.Operator{
		LegalName: "Comune di Milano - Anagrafe centrale", PartitaIVA: "01199250158", Category: operators.RegistryOffice,
		Address: operators.Address{Street: "Via Larga", Number: "12", CAP: "20122", City: "Milano", Lat: 45.4614, Lon: 9.1937},
	}
	if err := f.ops.Add(office, "staff"); err != nil {
		t.Fatal(err)
	}
	f.ops.SetStatus(office.ID, operators.Approved, "staff", "")
	f.ops.SetStatus(office.ID, operators.Active, "staff", "")

	list := func(d device) map[string]api.DirectoryEntry {
		t.Helper()
		resp, body := f.get(t, d, "/api/v1/directory?lat=45.4857&lon=9.2163&include_closed=true")
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var got api.Directory
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		out := map[string]api.DirectoryEntry{}
		for _, e := range got.Results {
			out[e.ID] = e
		}
		return out
	}
	mine := list(own)
	if _, ok := mine[f.shop.ID]; ok || len(mine) != 2 {
		t.Errorf("Edicola Loreto's kiosk is sent to its own shop, or misses others: %+v", mine)
	}
	if _, ok := list(other)[f.shop.ID]; !ok {
		t.Error("another shop's kiosk does not list Edicola Loreto")
	}
	// Bollo 16,00 + diritti 0,52 + the shop's 2,00; at the office no fee.
	d := mine[duomo.ID]
	if d.OrdinaryTotalCents == nil || *d.OrdinaryTotalCents != 1600+52+200 || !slices.Equal(d.Types, []string{"residenza"}) {
		t.Errorf("Edicola Duomo: total %v, types %v", d.OrdinaryTotalCents, d.Types)
	}
	if o := mine[office.ID]; o.OrdinaryTotalCents == nil || *o.OrdinaryTotalCents != 1600+52 {
		t.Errorf("the registry office: total %v", o.OrdinaryTotalCents)
	}
}
