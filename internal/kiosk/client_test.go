package kiosk

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/registry"
)

// realHub is the hub's real handler over a seeded registry, behind a front
// that a test can make answer in the hub's place (a proxy, a rate limiter,
// a broken hub), and a ClientHub enrolled with it.
type realHub struct {
	desk    *issuancetest.Desk
	srv     *httptest.Server
	hubSign *httpsig.Signer
	hub     *ClientHub
	who     *registry.Person  // a living resident with a valid CIE and a family
	cie     registry.Document // that CIE
	family  []string          // the other members of who's famiglia anagrafica
	other   string            // a living resident of another family

	mu    sync.Mutex
	front http.Handler // answers instead of the hub when set
	keys  []string     // the Idempotency-Key of each request that reached the hub
}

func newRealHub(t *testing.T) *realHub {
	t.Helper()
	clock := func() time.Time { return testNow }
	h := &realHub{desk: issuancetest.New(t, 150, 11, testNow)}
	h.desk.Store.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			d, ok := p.ValidDocument(registry.DateOf(testNow))
			if _, resident := p.CurrentResidence(); !ok || d.Kind != registry.CIE || p.Family == 0 || !p.Alive() || !resident || p.AIRE {
				return true, nil
			}
			// A famiglia anagrafica: the look-up shows the requester's
			// household, which a convivenza is not.
			if f, err := r.Family(p.Family); err != nil || f.Kind != registry.Famiglia {
				return true, err
			}
			ms, err := r.Members(p.Family)
			if err != nil || len(ms) < 2 {
				return true, err
			}
			h.who, h.cie = p, d
			for _, m := range ms {
				if m.CF != p.CF {
					h.family = append(h.family, m.CF)
				}
			}
			return false, nil
		})
	})
	h.desk.Store.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if h.who != nil && p.Family != h.who.Family && p.Alive() {
				h.other = p.CF
				return false, nil
			}
			return true, nil
		})
	})
	if h.who == nil {
		t.Fatal("no resident with a CIE and a family in the seeded registry")
	}
	devPub, devKey, _ := ed25519.GenerateKey(nil)
	hubPub, hubKey, _ := ed25519.GenerateKey(nil)
	h.hubSign = &httpsig.Signer{Key: hubKey, KeyID: "hub", Clock: clock}
	handler := (&hubapi.Server{Store: h.desk.Store, Desk: h.desk.Service, Now: clock, Log: slog.New(slog.DiscardHandler),
		Verifier:  &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: devPub}, Clock: clock},
		HubSigner: h.hubSign,
		DeviceOperator: func(context.Context, string) (issuance.Operator, error) {
			return issuance.Operator{ID: "op-1", ServiceCents: 150, Allowed: map[certificate.Type]bool{certificate.Residenza: true}}, nil
		},
	}).Handler()
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		front := h.front
		if k := r.Header.Get("Idempotency-Key"); k != "" && front == nil {
			h.keys = append(h.keys, k)
		}
		h.mu.Unlock()
		if front != nil {
			front.ServeHTTP(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	c := hubclient.New(&hubclient.Profile{HubURL: h.srv.URL, KeyID: "dev-1", DeviceKey: devKey.Seed(), HubKey: hubPub, HubKeyID: "hub"})
	c.Clock = clock
	c.Retry = hubclient.Retry{Attempts: 1}
	h.hub = NewClientHub(c)
	return h
}

// asker is the evidence of h.who at the counter: their codice fiscale and
// the number of their valid CIE, which the hub checks in its registry.
func (h *realHub) asker() *api.RequesterEvidence {
	return &api.RequesterEvidence{Method: api.EvidenceDocument, CF: h.who.CF, Document: h.cie.Number}
}

// tap is what the kiosk's reader gives for a tap of a genuine virtual CIE
// holding nis, bound to device keyID, at the hub's time; pin says the
// card then took the citizen's PIN.
func (h *realHub) tap(t *testing.T, nis, keyID string, pin bool) *api.RequesterEvidence {
	t.Helper()
	card, err := virtual.New(virtual.Config{NIS: nis})
	if err != nil {
		t.Fatal(err)
	}
	csca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	rd := &CIEReader{Provider: cardreader.NewInProcess("virtual", card), CSCAs: []*x509.Certificate{csca}, KeyID: keyID,
		Now: func() time.Time { return testNow }}
	defer rd.Close()
	ev, err := rd.ReadCard(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ev.PINProved = pin
	return ev
}

// answer makes the front answer every request with status and body, signed
// by signer when it is not nil.
func (h *realHub) answer(signer *httpsig.Signer, status int, body string) {
	var f http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
	if signer != nil {
		f = httpsig.ResponseSigner(signer, f)
	}
	h.mu.Lock()
	h.front = f
	h.mu.Unlock()
}

// TestClientHubLookup: the person look-up through the signed client against
// the real hub, and how each kind of answer reaches the flow: a person, the
// hub's refusal, offline, or a plain error.
func TestClientHubLookup(t *testing.T) {
	h := newRealHub(t)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	impostor := &httpsig.Signer{Key: otherKey, KeyID: "hub", Clock: h.hubSign.Clock}
	const (
		person  = "person"
		refusal = "refusal"
		offline = "offline"
		plain   = "plain"
	)
	tests := []struct {
		name   string
		q      PersonQuery
		front  func() // the hub's stand-in, if any
		want   string
		reason string // of a refusal
		status int    // of a refusal
	}{
		{"by CIE tap, self-service", PersonQuery{Requester: *h.tap(t, h.cie.NIS, "dev-1", true), Channel: certificate.SelfService}, nil, person, "", 0},
		{"by CIE tap at the counter", PersonQuery{Requester: *h.tap(t, h.cie.NIS, "dev-1", false), Channel: certificate.Counter}, nil, person, "", 0},
		{"by CF and document", PersonQuery{Requester: *h.asker(), Channel: certificate.Counter}, nil, person, "", 0},
		// Every failure is the one refusal, whatever its cause.
		{"self-service tap without the PIN", PersonQuery{Requester: *h.tap(t, h.cie.NIS, "dev-1", false), Channel: certificate.SelfService}, nil, refusal, api.ReasonIdentificationFailed, 403},
		{"a tap read by another device", PersonQuery{Requester: *h.tap(t, h.cie.NIS, "dev-2", false)}, nil, refusal, api.ReasonIdentificationFailed, 403},
		{"a genuine CIE nobody holds", PersonQuery{Requester: *h.tap(t, "999999999999", "dev-1", false)}, nil, refusal, api.ReasonIdentificationFailed, 403},
		{"another document", PersonQuery{Requester: api.RequesterEvidence{Method: api.EvidenceDocument, CF: h.who.CF, Document: "XX00000XX"}}, nil, refusal, api.ReasonIdentificationFailed, 403},
		{"no evidence", PersonQuery{}, nil, refusal, api.ReasonRequesterEvidenceRequired, 400},
		{"refused without a body", PersonQuery{Requester: *h.asker()}, func() { h.answer(h.hubSign, 403, "") }, refusal, "http_403", 403},
		{"server error", PersonQuery{Requester: *h.asker()}, func() { h.answer(h.hubSign, 503, `{"reason":"unavailable","message":"down"}`) }, offline, "", 0},
		{"a proxy's error page", PersonQuery{Requester: *h.asker()}, func() { h.answer(nil, 502, "<html>bad gateway</html>") }, offline, "", 0},
		{"too many requests", PersonQuery{Requester: *h.asker()}, func() { h.answer(h.hubSign, 429, "") }, offline, "", 0},
		{"signed by another key", PersonQuery{Requester: *h.asker()}, func() { h.answer(impostor, 200, `{"cf":"RSSMRA50B17A558W"}`) }, offline, "", 0},
		{"not JSON", PersonQuery{Requester: *h.asker()}, func() { h.answer(h.hubSign, 200, "<html>") }, plain, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.mu.Lock()
			h.front = nil
			h.mu.Unlock()
			if tt.front != nil {
				tt.front()
			}
			p, err := h.hub.LookupPerson(context.Background(), tt.q)
			var r *Refusal
			switch tt.want {
			case offline:
				if !errors.Is(err, ErrOffline) {
					t.Fatalf("err %v, want offline", err)
				}
			case plain:
				if err == nil || errors.Is(err, ErrOffline) || errors.As(err, &r) {
					t.Fatalf("err %v, want a plain error", err)
				}
			case refusal:
				if !errors.As(err, &r) || r.Reason != tt.reason || r.Status != tt.status || r.Message == "" {
					t.Fatalf("err %v, want refusal %s (%d) with a message", err, tt.reason, tt.status)
				}
			case person:
				if err != nil {
					t.Fatal(err)
				}
				if p.CF != h.who.CF || p.Name() != h.who.GivenNames+" "+h.who.Surname || len(p.Family) == 0 {
					t.Fatalf("person %+v, want %s with family", p, h.who.CF)
				}
				for _, m := range p.Family {
					if m.CF == h.who.CF || m.Relationship == 0 || m.BirthDate == "" {
						t.Errorf("family member %+v", m)
					}
					if !m.Eligibility.Told {
						t.Errorf("the hub's eligibility for %s did not reach the kiosk", m.CF)
					}
				}
				// The hub judged every type for the person too: the
				// device's agreement names residenza alone.
				if e := p.Eligibility; !e.Told || e.Why(certificate.StatoLibero) != certificate.ReasonOperatorNotAllowed || e.Why(certificate.Residenza) != "" {
					t.Errorf("the person's eligibility %+v, want residenza only", e)
				}
				// The hub logged the read with the channel the kiosk named.
				es, err := h.desk.Audit.Search(audit.Query{Subject: h.who.CF}, 0)
				if err != nil || len(es) == 0 {
					t.Fatalf("no audit entry: %v", err)
				}
				want := "counter"
				if tt.q.Channel == certificate.SelfService {
					want = "self_service"
				}
				if last := es[len(es)-1]; last.Channel != want || last.Actor.ID != "dev-1" {
					t.Errorf("audit entry %+v, want channel %s by dev-1", last, want)
				}
			}
		})
	}
}

// TestClientHubIssue: a certificate issued by the real hub through the
// client, its Idempotency-Key the one the flow fixed, a retry under it the
// same certificate; a hub that is not there is offline, not a refusal.
func TestClientHubIssue(t *testing.T) {
	h := newRealHub(t)
	ctx := context.Background()
	req := IssueRequest{Key: "kiosk-1", SubjectCF: h.who.CF, Requester: h.asker(),
		Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter}
	is, err := h.hub.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var bollo bool
	for _, l := range is.Fees {
		bollo = bollo || (l.Kind == fees.Bollo && l.Cents == 1600)
	}
	if is.ID == "" || is.Protocol == "" || !bollo || is.TotalCents <= 1600 || len(is.Types) != 1 || is.Types[0] != "residenza" {
		t.Errorf("issued %+v", is)
	}
	again, err := h.hub.Issue(ctx, req)
	if err != nil || again.ID != is.ID || again.Protocol != is.Protocol {
		t.Errorf("retry under the same key: %+v %v, want %s", again, err, is.ID)
	}
	h.mu.Lock()
	keys := h.keys
	h.mu.Unlock()
	if len(keys) != 2 || keys[0] != "kiosk-1" || keys[1] != "kiosk-1" {
		t.Errorf("Idempotency-Keys at the hub %q, want kiosk-1 twice", keys)
	}
	pdf, err := h.hub.PDF(ctx, is.ID)
	if err != nil || len(pdf) < 100 {
		t.Errorf("pdf: %d bytes, %v", len(pdf), err)
	}
	if err := h.hub.Ping(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
	// Refused by the hub: the flow shows the reason and does not queue.
	var r *Refusal
	_, err = h.hub.Issue(ctx, IssueRequest{Key: "kiosk-2", SubjectCF: h.who.CF, Requester: h.asker(),
		Types: []certificate.Type{certificate.StatoLibero}})
	if !errors.As(err, &r) || r.Status != 403 || r.Message == "" {
		t.Errorf("a type the agreement does not allow: %v", err)
	}
	// A tap identifies the citizen; a certificate about a member of their
	// household is issued, about anyone else refused with the one reason.
	tap := h.tap(t, h.cie.NIS, "dev-1", false)
	if _, err := h.hub.Issue(ctx, IssueRequest{Key: "kiosk-3", SubjectCF: h.family[0], Requester: tap,
		Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter}); err != nil {
		t.Errorf("a household member's residenza: %v", err)
	}
	_, err = h.hub.Issue(ctx, IssueRequest{Key: "kiosk-4", SubjectCF: h.other, Requester: tap,
		Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter})
	if !errors.As(err, &r) || r.Reason != api.ReasonNotRequesterHousehold || r.Status != 403 {
		t.Errorf("someone else's residenza: %v, want %s", err, api.ReasonNotRequesterHousehold)
	}
	// Not a PDF where one is expected.
	h.answer(h.hubSign, 200, `{"not":"a pdf"}`)
	if _, err := h.hub.PDF(ctx, is.ID); err == nil || errors.Is(err, ErrOffline) {
		t.Errorf("a JSON answer taken as a PDF: %v", err)
	}

	// A hub that is not there at all is offline, not a refusal.
	h.srv.Close()
	if _, err := h.hub.Issue(ctx, IssueRequest{Key: "k", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}); !errors.Is(err, ErrOffline) {
		t.Errorf("closed port: %v", err)
	}
	if _, err := h.hub.LookupPerson(ctx, PersonQuery{Requester: *h.asker()}); !errors.Is(err, ErrOffline) {
		t.Errorf("look-up on a closed port: %v", err)
	}
	if err := h.hub.Ping(ctx); !errors.Is(err, ErrOffline) {
		t.Errorf("ping on a closed port: %v", err)
	}
}
