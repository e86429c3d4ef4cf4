package hubapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/totp"
)

// clerkFixture is the real handler stack with the operator store keeping
// clerks: two active shops, A with two devices and B with one, and a
// resident with a valid CIE who is a clerk of shop A.
type clerkFixture struct {
	srv        *httptest.Server
	api        *Server
	ops        *operators.Service
	desk       *issuance.Service
	mu         sync.Mutex
	now        time.Time
	shopA      *operators.Operator
	shopB      *operators.Operator
	a1, a2, b1 device
	clerk      *operators.Clerk // of shop A, holding card
	card       *virtual.Card
	subject    string                 // a resident to look up and certify
	subjectEv  *api.RequesterEvidence // the subject identified by their document, asking for themself
}

func (f *clerkFixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *clerkFixture) add(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newClerkFixture(t *testing.T) *clerkFixture {
	t.Helper()
	d := issuancetest.New(t, 200, 3, testNow)
	f := &clerkFixture{now: testNow, desk: d.Service}
	ops := operators.NewService(bolt.New(d.Store), store.Tx.Operators, nil, f.clock, operators.Policy{Calendar: operators.Milan})
	f.ops = ops
	ca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Store: d.Store, Desk: d.Service, Operators: ops, Clerks: ops, RequireClerk: true, CSCAs: []*x509.Certificate{ca},
		Now: f.clock, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: ops, Clock: f.clock},
	}
	f.srv, f.api = httptest.NewServer(s.Handler()), s
	t.Cleanup(f.srv.Close)
	shop := func(piva string) *operators.Operator {
		o := &operators.Operator{
			LegalName: "Edicola " + piva, PartitaIVA: piva, Category: operators.Edicola,
			Address: operators.Address{Street: "Piazzale Loreto", Number: "1", CAP: "20131", City: "Milano", Lat: 45.4857, Lon: 9.2163},
			Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 12, Day: 31},
				FeeCents: 150, Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia}},
		}
		if err := ops.Add(o, "staff"); err != nil {
			t.Fatal(err)
		}
		for _, st := range []operators.Status{operators.Approved, operators.Active} {
			if _, err := ops.SetStatus(o.ID, st, "staff", "test"); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	enrol := func(o *operators.Operator) device {
		code, _, err := ops.IssueCode(o.ID, "staff", 0)
		if err != nil {
			t.Fatal(err)
		}
		pub, priv, _ := ed25519.GenerateKey(nil)
		dv, err := ops.Enrol(code, pub, "Cassa")
		if err != nil {
			t.Fatal(err)
		}
		return device{dv.KeyID, priv}
	}
	f.shopA, f.shopB = shop("01199250158"), shop("12345670157")
	f.a1, f.a2, f.b1 = enrol(f.shopA), enrol(f.shopA), enrol(f.shopB)

	// The clerk: a resident holding a valid CIE; the virtual card is theirs.
	var who *registry.Person
	var nis string
	d.Store.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			doc, ok := p.ValidDocument(registry.DateOf(testNow))
			if !ok || doc.Kind != registry.CIE || doc.NIS == "" || !p.Alive() {
				return true, nil
			}
			who, nis = p, doc.NIS
			return false, nil
		})
	})
	if who == nil {
		t.Fatal("no resident with a CIE")
	}
	if f.card, err = virtual.New(virtual.Config{NIS: nis}); err != nil {
		t.Fatal(err)
	}
	f.clerk = &operators.Clerk{CF: who.CF, Name: who.GivenNames + " " + who.Surname, OperatorID: f.shopA.ID,
		Trained: registry.Date{Year: 2026, Month: 1, Day: 15}, EnabledUntil: registry.Date{Year: 2027, Month: 6, Day: 30}}
	if err := ops.AddClerk(f.clerk, "staff"); err != nil {
		t.Fatal(err)
	}
	for _, cf := range d.Identifiable(t, 2) {
		if cf != who.CF {
			f.subject = cf
			break
		}
	}
	f.subjectEv = issuancetest.API(d.Evidence(t, f.subject))
	return f
}

// tap is the clerk's CIE read at device keyID now, the PIN verified.
func (f *clerkFixture) tap(t *testing.T, keyID string) *api.RequesterEvidence {
	t.Helper()
	tp, err := cie.ReadTap(context.Background(), f.card, keyID, nil, f.clock())
	if err != nil {
		t.Fatal(err)
	}
	return &api.RequesterEvidence{Method: api.EvidenceCIE, NIS: tp.NIS, Kpub: tp.Kpub, SOD: tp.SOD,
		TapNonce: tp.Nonce, TappedAt: tp.TappedAt, Response: tp.Response, PINProved: true}
}

// send signs and sends a request from device d, naming the clerk session
// token when not empty.
func (f *clerkFixture) send(t *testing.T, d device, method, path string, body any, token string) (int, []byte) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k-"+time.Now().Format("150405.000000000"))
	}
	if token != "" {
		req.Header.Set("Sportello-Clerk", token)
	}
	resp, out := send(t, req, &httpsig.Signer{Key: d.priv, KeyID: d.keyID, Clock: f.clock}, b)
	return resp.StatusCode, out
}

func (f *clerkFixture) logIn(t *testing.T, d device, login api.ClerkLogin) (int, string, api.ClerkSession) {
	t.Helper()
	status, body := f.send(t, d, "POST", api.ClerkSessionsPath, login, "")
	var s api.ClerkSession
	json.Unmarshal(body, &s)
	return status, reasonOf(body), s
}

func (f *clerkFixture) lookup(t *testing.T, d device, token string) (int, string) {
	t.Helper()
	status, body := f.send(t, d, "POST", api.PathIdentify, api.IdentifyRequest{Requester: *f.subjectEv}, token)
	return status, reasonOf(body)
}

func (f *clerkFixture) issue(t *testing.T, d device, token string) (int, []byte) {
	t.Helper()
	return f.send(t, d, "POST", "/api/v1/certificates", map[string]any{"cf": f.subject, "types": []string{"residenza"}, "requester": f.subjectEv}, token)
}

func TestClerkLogInWithCIENamesTheClerk(t *testing.T) {
	f := newClerkFixture(t)
	// Without a clerk, the counter neither looks up nor issues.
	if st, reason := f.lookup(t, f.a1, ""); st != http.StatusUnauthorized || reason != api.ReasonClerkLoginRequired {
		t.Errorf("look-up with no clerk: %d %s, want 401 %s", st, reason, api.ReasonClerkLoginRequired)
	}
	if st, body := f.issue(t, f.a1, ""); st != http.StatusUnauthorized || reasonOf(body) != api.ReasonClerkLoginRequired {
		t.Errorf("issue with no clerk: %d %s", st, body)
	}

	st, reason, sess := f.logIn(t, f.a1, api.ClerkLogin{CIE: f.tap(t, f.a1.keyID)})
	if st != http.StatusCreated || sess.Token == "" || sess.ClerkID != f.clerk.ID || sess.CF != f.clerk.CF {
		t.Fatalf("log-in: %d %s %+v", st, reason, sess)
	}
	if want := operators.ClerkSessionExpiry(f.clock()); !sess.Expires.Equal(want) {
		t.Errorf("session expires %v, want %v", sess.Expires, want)
	}
	if st, reason := f.lookup(t, f.a1, sess.Token); st != http.StatusOK {
		t.Fatalf("look-up with the clerk: %d %s", st, reason)
	}
	st, body := f.issue(t, f.a1, sess.Token)
	if st != http.StatusCreated {
		t.Fatalf("issue with the clerk: %d %s", st, body)
	}
	var c api.Certificate
	json.Unmarshal(body, &c)
	rec, err := f.desk.Certs.Get(c.ID)
	if err != nil || rec.ClerkID != f.clerk.ID || rec.ClerkName != f.clerk.Name {
		t.Errorf("certificate record names clerk %q %q (%v), want %s %s", rec.ClerkID, rec.ClerkName, err, f.clerk.ID, f.clerk.Name)
	}
	es, err := store.AuditLog{S: f.desk.Stores}.Search(audit.Query{Actor: "clerk:" + f.clerk.ID}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var looked, issued bool
	for _, e := range es {
		if e.Clerk.Name != f.clerk.Name || e.Actor.ID != f.a1.keyID {
			t.Errorf("entry %+v does not name the clerk beside the device", e)
		}
		looked = looked || e.Subject == f.clerk.CF
		issued = issued || e.Request == c.ID
	}
	if !looked || !issued {
		t.Errorf("audit entries naming the clerk %+v: look-up %v, issuance %v", es, looked, issued)
	}

	// The token is this device's: another device of the same shop, or of
	// another, is refused with it.
	if st, reason := f.lookup(t, f.a2, sess.Token); st != http.StatusUnauthorized || reason != api.ReasonClerkLoginRequired {
		t.Errorf("token at another device: %d %s", st, reason)
	}
	// Log-out ends it.
	if st, body := f.send(t, f.a1, "DELETE", api.ClerkSessionsPath+"/current", nil, sess.Token); st != http.StatusNoContent {
		t.Fatalf("log-out: %d %s", st, body)
	}
	if st, reason := f.lookup(t, f.a1, sess.Token); st != http.StatusUnauthorized || reason != api.ReasonClerkLoginRequired {
		t.Errorf("token after log-out: %d %s", st, reason)
	}
}

func TestClerkLogInRefusals(t *testing.T) {
	f := newClerkFixture(t)
	// A tap read at another device of the same shop.
	if st, reason, _ := f.logIn(t, f.a2, api.ClerkLogin{CIE: f.tap(t, f.a1.keyID)}); st != http.StatusForbidden || reason != api.ReasonClerkCardNotGenuine {
		t.Errorf("another device's tap: %d %s", st, reason)
	}
	// The PIN not verified on the card.
	ev := f.tap(t, f.a1.keyID)
	ev.PINProved = false
	if st, reason, _ := f.logIn(t, f.a1, api.ClerkLogin{CIE: ev}); st != http.StatusForbidden || reason != api.ReasonClerkPINNotVerified {
		t.Errorf("no PIN: %d %s", st, reason)
	}
	// A tap kept for later.
	old := f.tap(t, f.a1.keyID)
	f.add(10 * time.Minute)
	if st, reason, _ := f.logIn(t, f.a1, api.ClerkLogin{CIE: old}); st != http.StatusForbidden || reason != api.ReasonClerkTapStale {
		t.Errorf("stale tap: %d %s", st, reason)
	}
	// The clerk of shop A at shop B's device.
	if st, reason, _ := f.logIn(t, f.b1, api.ClerkLogin{CIE: f.tap(t, f.b1.keyID)}); st != http.StatusForbidden || reason != api.ReasonClerkNotEnabled {
		t.Errorf("clerk of another shop: %d %s", st, reason)
	}
}

func TestSuspendedClerkRefusedAtOnce(t *testing.T) {
	f := newClerkFixture(t)
	st, reason, sess := f.logIn(t, f.a1, api.ClerkLogin{CIE: f.tap(t, f.a1.keyID)})
	if st != http.StatusCreated {
		t.Fatalf("log-in: %d %s", st, reason)
	}
	if _, err := f.ops.SetClerkStatus(f.clerk.ID, operators.ClerkSuspended, "staff", "complaint under review"); err != nil {
		t.Fatal(err)
	}
	if st, body := f.issue(t, f.a1, sess.Token); st != http.StatusForbidden || reasonOf(body) != api.ReasonClerkSuspended {
		t.Errorf("issue under a suspended clerk's session: %d %s", st, body)
	}
	if st, reason := f.lookup(t, f.a1, sess.Token); st != http.StatusForbidden || reason != api.ReasonClerkSuspended {
		t.Errorf("look-up under a suspended clerk's session: %d %s", st, reason)
	}
	if st, reason, _ := f.logIn(t, f.a1, api.ClerkLogin{CIE: f.tap(t, f.a1.keyID)}); st != http.StatusForbidden || reason != api.ReasonClerkSuspended {
		t.Errorf("log-in of a suspended clerk: %d %s", st, reason)
	}
	// Reinstated, the clerk logs in again; the old session stays dead.
	if _, err := f.ops.SetClerkStatus(f.clerk.ID, operators.ClerkActive, "staff", "cleared"); err != nil {
		t.Fatal(err)
	}
	if st, reason := f.lookup(t, f.a1, sess.Token); st != http.StatusUnauthorized || reason != api.ReasonClerkLoginRequired {
		t.Errorf("the session from before the suspension: %d %s", st, reason)
	}
	if st, reason, _ := f.logIn(t, f.a1, api.ClerkLogin{CIE: f.tap(t, f.a1.keyID)}); st != http.StatusCreated {
		t.Errorf("log-in after reinstatement: %d %s", st, reason)
	}
}

func TestClerkEnablementAndSessionExpire(t *testing.T) {
	f := newClerkFixture(t)
	st, reason, sess := f.logIn(t, f.a1, api.ClerkLogin{CIE: f.tap(t, f.a1.keyID)})
	if st != http.StatusCreated {
		t.Fatalf("log-in: %d %s", st, reason)
	}
	f.add(sess.Expires.Sub(f.clock()))
	if st, reason := f.lookup(t, f.a1, sess.Token); st != http.StatusUnauthorized || reason != api.ReasonClerkSessionExpired {
		t.Errorf("at the session's end: %d %s", st, reason)
	}
	// Past the enablement's last day.
	f.mu.Lock()
	f.now = time.Date(2027, 7, 1, 9, 0, 0, 0, operators.Rome)
	f.mu.Unlock()
	if st, reason, _ := f.logIn(t, f.a1, api.ClerkLogin{CIE: f.tap(t, f.a1.keyID)}); st != http.StatusForbidden || reason != api.ReasonClerkExpired {
		t.Errorf("log-in after the enablement ended (%s): %d %s", f.clock(), st, reason)
	}
}

func TestClerkPasswordAndTOTP(t *testing.T) {
	f := newClerkFixture(t)
	pw := "una password lunga"
	hash, err := operators.HashClerkPassword(pw, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := operators.NewTOTPSecret(nil)
	c := &operators.Clerk{CF: "RSSMRA50B17A558W", Name: "Mario Rossi", OperatorID: f.shopB.ID, PasswordHash: hash, TOTPSecret: secret,
		Trained: registry.Date{Year: 2026, Month: 1, Day: 15}, EnabledUntil: registry.Date{Year: 2027, Month: 6, Day: 30}}
	if err := f.ops.AddClerk(c, "staff"); err != nil {
		t.Fatal(err)
	}
	code := func() string {
		s, _ := operators.TOTPCode(secret, totp.StepAt(f.clock()))
		return s
	}
	if st, reason, _ := f.logIn(t, f.b1, api.ClerkLogin{CF: c.CF, Password: "una password sbagliata", TOTP: code()}); st != http.StatusUnauthorized || reason != api.ReasonClerkPasswordWrong {
		t.Errorf("wrong password: %d %s", st, reason)
	}
	if st, reason, _ := f.logIn(t, f.a1, api.ClerkLogin{CF: c.CF, Password: pw, TOTP: code()}); st != http.StatusForbidden || reason != api.ReasonClerkNotEnabled {
		t.Errorf("at another shop's device: %d %s", st, reason)
	}
	st, reason, sess := f.logIn(t, f.b1, api.ClerkLogin{CF: c.CF, Password: pw, TOTP: code()})
	if st != http.StatusCreated || sess.ClerkID != c.ID {
		t.Fatalf("password log-in: %d %s", st, reason)
	}
	if st, reason, _ := f.logIn(t, f.b1, api.ClerkLogin{CF: c.CF, Password: pw, TOTP: code()}); st != http.StatusUnauthorized || reason != api.ReasonClerkCodeReused {
		t.Errorf("the same code twice: %d %s", st, reason)
	}
	if st, body := f.issue(t, f.b1, sess.Token); st != http.StatusCreated {
		t.Errorf("issue after a password log-in: %d %s", st, body)
	}
}

// The session header must be covered by the device's signature: added
// after signing, the request is refused before any handler sees it.
func TestClerkHeaderMustBeSigned(t *testing.T) {
	f := newClerkFixture(t)
	_, _, sess := f.logIn(t, f.a1, api.ClerkLogin{CIE: f.tap(t, f.a1.keyID)})
	b, _ := json.Marshal(api.IdentifyRequest{Requester: *f.subjectEv})
	req, _ := http.NewRequest("POST", f.srv.URL+api.PathIdentify, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if err := (&httpsig.Signer{Key: f.a1.priv, KeyID: f.a1.keyID, Clock: f.clock}).SignRequest(req, b); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sportello-Clerk", sess.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnauthorized || reasonOf(body) != string(httpsig.ReasonMissingComponent) {
		t.Errorf("header added after signing: %d %s, want a %s refusal", resp.StatusCode, body, httpsig.ReasonMissingComponent)
	}
}
