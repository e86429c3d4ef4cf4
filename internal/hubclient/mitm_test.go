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
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
)

// replayingMITM is a man in the middle on the kiosk's connection: it
// passes requests on and keeps the hub's signed answers; once armed, it
// answers the next request with a kept answer instead, untouched.
type replayingMITM struct {
	next http.RoundTripper

	mu     sync.Mutex
	kept   []keptAnswer
	replay int // index of the kept answer to serve; -1 passes through
	// orphan leaves the replayed answer's Request unset, as a careless
	// RoundTripper in the kiosk's own stack might.
	orphan bool
}

type keptAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (m *replayingMITM) RoundTrip(req *http.Request) (*http.Response, error) {
	m.mu.Lock()
	replay, orphan := m.replay, m.orphan
	m.mu.Unlock()
	if replay >= 0 {
		m.mu.Lock()
		a := m.kept[replay]
		m.mu.Unlock()
		if req.Body != nil {
			req.Body.Close()
		}
		// What a real Transport hands back for bytes read off the wire.
		resp := &http.Response{Status: http.StatusText(a.status), StatusCode: a.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: a.header.Clone(), Body: io.NopCloser(bytes.NewReader(a.body)), ContentLength: int64(len(a.body)), Request: req}
		if orphan {
			resp.Request = nil
		}
		return resp, nil
	}
	resp, err := m.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.kept = append(m.kept, keptAnswer{resp.StatusCode, resp.Header.Clone(), body})
	m.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// TestAnswerReplayedForAnotherPersonRefused: a man in the middle keeps the
// hub's signed answer to one citizen's certificate and serves it as the
// answer to the next citizen's request, within the answer's validity.
// The kiosk used to accept it, handing the second citizen the first one's
// certificate.
func TestAnswerReplayedForAnotherPersonRefused(t *testing.T) {
	d := issuancetest.New(t, 120, 5, now)
	devPub, devPriv, _ := ed25519.GenerateKey(nil)
	hubPub, hubPriv, _ := ed25519.GenerateKey(nil)
	srv := httptest.NewServer((&hubapi.Server{Store: d.Store, Desk: d.Service, Now: clock, Log: slog.New(slog.DiscardHandler),
		Verifier:  &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: devPub}, Clock: clock},
		HubSigner: &httpsig.Signer{Key: hubPriv, KeyID: "hub", Clock: clock},
		DeviceOperator: func(context.Context, string) (issuance.Operator, error) {
			return issuance.Operator{ID: "op-1", ServiceCents: 150, Allowed: map[certificate.Type]bool{certificate.Residenza: true}}, nil
		},
	}).Handler())
	t.Cleanup(srv.Close)
	mitm := &replayingMITM{next: http.DefaultTransport, replay: -1}
	c := &hubclient.Client{Clock: clock, HTTP: &http.Client{Transport: mitm},
		Profile: &hubclient.Profile{HubURL: srv.URL, KeyID: "dev-1", DeviceKey: devPriv.Seed(), HubKey: hubPub, HubKeyID: "hub"}}
	ctx := context.Background()

	ab := d.Identifiable(t, 2)
	a, b := ab[0], ab[1]
	certA, err := c.IssueCertificate(ctx, hubclient.CertificateRequest{CF: a, Requester: issuancetest.API(d.Evidence(t, a)), Types: []string{"residenza"}})
	if err != nil {
		t.Fatalf("the genuine certificate for %s: %v", a, err)
	}
	// The same route, the same method, a few seconds later: only the
	// request's body and signature differ.
	mitm.mu.Lock()
	mitm.replay = len(mitm.kept) - 1
	mitm.mu.Unlock()
	for _, orphan := range []bool{false, true} {
		mitm.mu.Lock()
		mitm.orphan = orphan
		mitm.mu.Unlock()
		certB, err := c.IssueCertificate(ctx, hubclient.CertificateRequest{CF: b, Requester: issuancetest.API(d.Evidence(t, b)), Types: []string{"residenza"}})
		if err == nil {
			t.Fatalf("answer without its request %v: the kiosk took the answer for %s (certificate %s) as the answer for %s (certificate %s)",
				orphan, a, certA.ID, b, certB.ID)
		}
		if !errors.Is(err, hubclient.ErrUnsignedResponse) {
			t.Errorf("answer without its request %v: refused with %v, want ErrUnsignedResponse", orphan, err)
		}
	}

	// Without the man in the middle the second citizen gets their own.
	mitm.mu.Lock()
	mitm.replay = -1
	mitm.mu.Unlock()
	certB, err := c.IssueCertificate(ctx, hubclient.CertificateRequest{CF: b, Requester: issuancetest.API(d.Evidence(t, b)), Types: []string{"residenza"}})
	if err != nil || certB.ID == certA.ID {
		t.Fatalf("the genuine certificate for %s: %+v, %v", b, certB, err)
	}
}

// TestEnrolmentAnswerReplayedRefused: the answer to one kiosk's enrolment,
// served to the next kiosk that enrols, would give it the other's key id.
// The answer covers the enrolment request's Content-Digest, so it is
// refused.
func TestEnrolmentAnswerReplayedRefused(t *testing.T) {
	srv, ops, code := realHub(t)
	mitm := &replayingMITM{next: http.DefaultTransport, replay: -1}
	first, err := (&hubclient.Client{Clock: clock, HTTP: &http.Client{Transport: mitm}}).Enrol(context.Background(), srv.URL, code, "Cassa 1")
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := ops.IssueCode(first.OperatorID, "staff", 0)
	if err != nil {
		t.Fatal(err)
	}
	mitm.mu.Lock()
	mitm.replay = len(mitm.kept) - 1
	mitm.mu.Unlock()
	p, err := (&hubclient.Client{Clock: clock, HTTP: &http.Client{Transport: mitm}}).Enrol(context.Background(), srv.URL, second, "Cassa 2")
	if err == nil {
		t.Fatalf("the second kiosk took the first one's enrolment answer: key id %s (the first is %s)", p.KeyID, first.KeyID)
	}
	if !errors.Is(err, hubclient.ErrUnsignedResponse) {
		t.Errorf("refused with %v, want ErrUnsignedResponse", err)
	}
}
