package hubapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/limits/limitstest"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
)

// limitFixture is the real handler stack with the limits on: a seeded
// registry and desk, the operator store with one shop open Monday to
// Saturday 7:00-19:00 and the limits' bbolt store, all in one file, and a
// clock the test moves (no sleeping).
type limitFixture struct {
	srv      *httptest.Server
	api      *Server
	ops      *operators.Service
	guard    *limits.Guard
	desk     *issuance.Service
	clock    *devClock
	shop     *operators.Operator
	settings limits.Settings
	who      *registry.Person
	doc      registry.Document
}

func newLimitFixture(t *testing.T, set limits.Settings) *limitFixture {
	t.Helper()
	d := issuancetest.New(t, 200, 3, testNow)
	f := &limitFixture{desk: d.Service, clock: &devClock{t: testNow}, settings: set}
	stores := bolt.New(d.Store)
	ops := operators.NewService(stores, store.Tx.Operators, nil, f.clock.now, operators.Policy{Calendar: operators.Milan})
	f.ops = ops
	var h operators.Hours
	for day := time.Monday; day <= time.Saturday; day++ {
		h.Week.Set(day, operators.Interval{Open: 7 * 60, Close: 19 * 60})
	}
	o := &operators.Operator{LegalName: "Edicola Loreto", PartitaIVA: "01199250158", Category: operators.Edicola, Hours: h,
		Address:   operators.Address{Street: "Piazzale Loreto", Number: "1", CAP: "20131", City: "Milano", Lat: 45.4857, Lon: 9.2163},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 12, Day: 31}, FeeCents: 200, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []operators.Status{operators.Approved, operators.Active} {
		var err error
		if o, err = ops.SetStatus(o.ID, st, "staff", "test"); err != nil {
			t.Fatal(err)
		}
	}
	f.shop = o
	f.guard = &limits.Guard{Store: stores.Limits(), Now: f.clock.now, Settings: func() (limits.Settings, error) { return f.settings, nil }}
	f.api = &Server{
		Store: d.Store, Desk: d.Service, Operators: ops, Now: f.clock.now, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: ops, Clock: f.clock.now, MaxBody: 64 << 10},
		Limits:   f.guard,
	}
	f.srv = httptest.NewServer(f.api.Handler())
	t.Cleanup(f.srv.Close)
	d.Store.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			doc, ok := p.ValidDocument(registry.DateOf(testNow))
			if _, resident := p.CurrentResidence(); !ok || !p.Alive() || !resident {
				return true, nil // the requester must identify
			}
			f.who, f.doc = p, doc
			return false, nil
		})
	})
	if f.who == nil {
		t.Fatal("no resident with a valid document in the fixture")
	}
	return f
}

func (f *limitFixture) enrol(t *testing.T) device {
	t.Helper()
	code, _, err := f.ops.IssueCode(f.shop.ID, "staff", 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	d, err := f.ops.Enrol(code, pub, "Cassa")
	if err != nil {
		t.Fatal(err)
	}
	return device{d.KeyID, priv}
}

type answer struct {
	status     int
	reason     string
	retryAfter string
}

func (f *limitFixture) send(t *testing.T, d device, req *http.Request, body []byte) answer {
	t.Helper()
	s := &httpsig.Signer{Key: d.priv, KeyID: d.keyID, Clock: f.clock.now, Extra: []string{"idempotency-key"}}
	if err := s.SignRequest(req, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, reasonOf(b), resp.Header.Get("Retry-After")}
}

// lookup asks about cf (the fixture's resident when empty) with a document.
func (f *limitFixture) lookup(t *testing.T, d device, cf, doc string) answer {
	t.Helper()
	if cf == "" {
		cf, doc = f.who.CF, f.doc.Number
	}
	b, _ := json.Marshal(api.IdentifyRequest{Requester: api.RequesterEvidence{Method: api.EvidenceDocument, CF: cf, Document: doc}})
	req, _ := http.NewRequest("POST", f.srv.URL+api.PathIdentify, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return f.send(t, d, req, b)
}

func (f *limitFixture) issue(t *testing.T, d device, key string) answer {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"cf": f.who.CF, "types": []string{"residenza"}, "requester": &api.RequesterEvidence{Method: api.EvidenceDocument, CF: f.who.CF, Document: f.doc.Number}})
	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/certificates", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	return f.send(t, d, req, b)
}

func (f *limitFixture) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func (f *limitFixture) limitAudit(t *testing.T, d device) []audit.Entry {
	t.Helper()
	es, err := store.AuditLog{S: f.desk.Stores}.Search(audit.Query{Actor: "device:" + d.keyID}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range es {
		if e.Purpose == limitPurpose {
			out = append(out, e)
		}
	}
	return out
}

// quiet keeps the other flags out of a test about one of them.
var quiet = limits.Settings{RepeatAlert: 900, RepeatSuspend: 1000, RefusalMin: 100000}

// The Done-when of issue 13's limits: a flood of signed requests from one
// device gets 429 after the limit, raises an alert at the first threshold,
// and past the second the device is suspended, so its next request gets
// the suspension answer; staff reinstatement lets it work again.
func TestFloodIsLimitedAlertedThenSuspendedUntilReinstated(t *testing.T) {
	set := quiet
	set.DeviceRate, set.FloodAlert, set.FloodSuspend = 5, 3, 6
	f := newLimitFixture(t, set)
	dev := f.enrol(t)
	other := f.enrol(t) // the same shop's other till
	for i := range 5 {
		if a := f.lookup(t, dev, "", ""); a.status != http.StatusOK {
			t.Fatalf("look-up %d within the rate: %+v", i+1, a)
		}
	}
	for i := 1; i <= 5; i++ {
		a := f.lookup(t, dev, "", "")
		if a.status != http.StatusTooManyRequests || a.reason != limits.ReasonRateLimited || a.retryAfter != "12" {
			t.Fatalf("flood request %d past the rate of 5 a minute: %+v, want 429 rate_limited with Retry-After 12", i, a)
		}
		alerts, _ := f.guard.Store.Alerts(context.Background())
		if want := i >= 3; want != (len(alerts) == 1) {
			t.Fatalf("after %d rate-limited requests: alerts %+v (the first threshold is 3)", i, alerts)
		}
	}
	if a := f.lookup(t, dev, "", ""); a.status != http.StatusForbidden || a.reason != limits.ReasonDeviceSuspended {
		t.Fatalf("the 6th rate-limited request: %+v, want 403 device_suspended", a)
	}
	if d, _ := f.ops.Device(dev.keyID); d.Status != operators.DeviceSuspended {
		t.Fatalf("the device is %s after the second threshold", d.Status)
	}
	// From now on the hub will not hear it: the signature check refuses it
	// as suspended (a Hold for the kiosk), whatever the rate.
	f.clock.add(time.Hour)
	if a := f.lookup(t, dev, "", ""); a.status != http.StatusForbidden || a.reason != string(httpsig.ReasonKeySuspended) {
		t.Fatalf("the suspended device's next request: %+v, want 403 key_suspended", a)
	}
	if a := f.lookup(t, other, "", ""); a.status != http.StatusOK {
		t.Fatalf("the shop's other device: %+v", a)
	}
	alerts, _ := f.guard.Store.Alerts(context.Background())
	if len(alerts) != 1 || alerts[0].Kind != limits.Flood || alerts[0].Level != limits.LevelSuspend || alerts[0].Device != dev.keyID || alerts[0].Shop != f.shop.ID || alerts[0].Figure != 6 {
		t.Fatalf("alerts: %+v", alerts)
	}
	// Every refusal is in the audit log, with its reason.
	refusals := f.limitAudit(t, dev)
	if len(refusals) != 6 || refusals[0].Subject != f.who.CF {
		t.Fatalf("audited refusals: %+v, want 6 about the subject asked", refusals)
	}
	m := f.metrics(t)
	for _, want := range []string{
		`sportello_limit_refusals_total{reason="rate_limited"} 5`,
		`sportello_limit_refusals_total{reason="device_suspended"} 1`,
		`sportello_anomaly_alerts_total{kind="flood"} 1`,
		`sportello_devices_suspended_total 1`,
		`sportello_devices{status="suspended"} 1`,
		`sportello_limited_requests_total{outcome="served"} 6`,
		`sportello_limited_requests_total{outcome="limited"} 6`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, m)
		}
	}
	// Staff review: reinstated with a note, as the console does it.
	if _, err := f.ops.ReinstateDevice(dev.keyID, "staff:rossi", "the shop's test script; stopped"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.guard.Reinstate(context.Background(), dev.keyID, "staff:rossi", "the shop's test script; stopped"); err != nil {
		t.Fatal(err)
	}
	if a := f.lookup(t, dev, "", ""); a.status != http.StatusOK {
		t.Fatalf("after reinstatement: %+v", a)
	}
}

func TestIssuanceOnlyWithinOpeningHours(t *testing.T) {
	f := newLimitFixture(t, quiet)
	dev := f.enrol(t)
	// Monday 23 November 2026, 20:00 in Rome: the shop closed at 19:00.
	f.clock.t = time.Date(2026, 11, 23, 20, 0, 0, 0, operators.Rome)
	a := f.issue(t, dev, "k-evening")
	if a.status != http.StatusForbidden || a.reason != limits.ReasonOutsideHours || a.retryAfter != fmt.Sprint(11*3600) {
		t.Fatalf("issuing at 20:00: %+v, want 403 outside_opening_hours, Retry-After until 7:00", a)
	}
	if es := f.limitAudit(t, dev); len(es) != 1 || es[0].Request != limits.ReasonOutsideHours {
		t.Fatalf("audit: %+v", es)
	}
	// A look-up is not an issuance: hours do not bind it.
	if a := f.lookup(t, dev, "", ""); a.status != http.StatusOK {
		t.Fatalf("a look-up at 20:00: %+v", a)
	}
	// Within the hours the limits let the issuance through to the desk.
	f.clock.t = time.Date(2026, 11, 24, 7, 0, 0, 0, operators.Rome)
	if a := f.issue(t, dev, "k-morning"); a.reason == limits.ReasonOutsideHours || a.status == http.StatusTooManyRequests {
		t.Fatalf("issuing at 7:00: %+v", a)
	}
	// The demo's switch lets any hour through.
	f.api.AnyHours = true
	f.clock.t = time.Date(2026, 11, 24, 23, 0, 0, 0, operators.Rome)
	if a := f.issue(t, dev, "k-night"); a.reason == limits.ReasonOutsideHours {
		t.Fatalf("AnyHours: %+v", a)
	}
}

func TestDailyCap(t *testing.T) {
	set := quiet
	set.DeviceDaily = 3
	f := newLimitFixture(t, set)
	dev := f.enrol(t)
	f.clock.t = time.Date(2026, 11, 23, 18, 0, 0, 0, operators.Rome)
	for range 3 {
		if a := f.lookup(t, dev, "", ""); a.status != http.StatusOK {
			t.Fatal(a)
		}
	}
	a := f.lookup(t, dev, "", "")
	if a.status != http.StatusTooManyRequests || a.reason != limits.ReasonDailyCap || a.retryAfter != fmt.Sprint(6*3600) {
		t.Fatalf("the 4th look-up with a cap of 3: %+v, want 429 daily_cap_reached until midnight", a)
	}
	f.clock.t = time.Date(2026, 11, 24, 0, 0, 1, 0, operators.Rome)
	if a := f.lookup(t, dev, "", ""); a.status != http.StatusOK {
		t.Fatalf("the next day: %+v", a)
	}
}

// A named clerk's rate holds across the shop's devices: the clerk's
// session (Sportello-Clerk, resolved by the clerks' sessions) keys it.
func TestClerkRateAcrossDevices(t *testing.T) {
	f := newClerkFixture(t)
	set := quiet
	set.ClerkRate = 2
	f.api.Limits = &limits.Guard{Store: limitstest.NewMemory(), Now: f.clock, Settings: func() (limits.Settings, error) { return set, nil }}
	token := func(d device) string {
		status, reason, s := f.logIn(t, d, api.ClerkLogin{CIE: f.tap(t, d.keyID)})
		if status != http.StatusCreated {
			t.Fatalf("log-in: %d %s", status, reason)
		}
		return s.Token
	}
	on1, on2 := token(f.a1), token(f.a2)
	if status, reason := f.lookup(t, f.a1, on1); status != http.StatusOK {
		t.Fatalf("first look-up: %d %s", status, reason)
	}
	if status, reason := f.lookup(t, f.a2, on2); status != http.StatusOK {
		t.Fatalf("the clerk's second look-up, on the other till: %d %s", status, reason)
	}
	if status, reason := f.lookup(t, f.a1, on1); status != http.StatusTooManyRequests || reason != limits.ReasonRateLimited {
		t.Fatalf("the clerk's third look-up in a minute at 2 a minute, on two tills: %d %s, want 429 rate_limited", status, reason)
	}
}

func TestRepeatedSubjectAndRefusalRatioFlags(t *testing.T) {
	f := newLimitFixture(t, limits.Settings{RepeatAlert: 3, RepeatSuspend: 20, RefusalMin: 4, RefusalAlert: 50, RefusalSuspend: 75})
	a, b := f.enrol(t), f.enrol(t)
	f.lookup(t, a, "", "")
	f.lookup(t, b, "", "")
	f.lookup(t, a, "", "")
	alerts, _ := f.guard.Store.Alerts(context.Background())
	if len(alerts) != 1 || alerts[0].Kind != limits.RepeatedSubject || alerts[0].Device != a.keyID || alerts[0].Level != limits.LevelAlert {
		t.Fatalf("the shop's third look-up of one subject across two devices: %+v", alerts)
	}
	// Device b: one success, then look-ups the hub refuses (a document
	// that is not the person's): 3 refused of 4 is 75%, the suspension.
	for i := range 3 {
		if got := f.lookup(t, b, f.who.CF, fmt.Sprintf("XX%05dXX", i)); got.status != http.StatusForbidden || got.reason != api.ReasonIdentificationFailed {
			t.Fatalf("a refused look-up: %+v", got)
		}
	}
	if d, _ := f.ops.Device(b.keyID); d.Status != operators.DeviceSuspended {
		t.Fatalf("device b is %s after 3 refusals of 4", d.Status)
	}
	if got := f.lookup(t, b, "", ""); got.reason != string(httpsig.ReasonKeySuspended) {
		t.Fatalf("device b's next request: %+v", got)
	}
}

// TestPaymentOnlyWithinOpeningHours (issue 15): a self-service sale starts
// with its payment, which the shop's hours bind as the issuance does — no
// money is taken for a certificate the shop could not then issue.
func TestPaymentOnlyWithinOpeningHours(t *testing.T) {
	f := newLimitFixture(t, quiet)
	dev := f.enrol(t)
	f.clock.t = time.Date(2026, 11, 23, 20, 0, 0, 0, operators.Rome)
	b, _ := json.Marshal(api.PaymentRequest{Method: api.PayAtTill, Request: api.CertificateRequest{CF: f.who.CF, Types: []string{"residenza"}, Channel: api.ChannelSelfService}})
	req, _ := http.NewRequest("POST", f.srv.URL+api.PathPayments, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "k-evening")
	if a := f.send(t, dev, req, b); a.status != http.StatusForbidden || a.reason != limits.ReasonOutsideHours {
		t.Fatalf("a payment at 20:00: %+v, want 403 outside_opening_hours", a)
	}
}
