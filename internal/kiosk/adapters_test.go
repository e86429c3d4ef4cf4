package kiosk

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/printer"
)

func TestHTTPHubErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		offline bool
		reason  string
	}{
		{"found", 200, `{"cf":"RSSMRA50B17A558W","surname":"ROSSI","given_names":"MARIO","family":[{"cf":"MRTMRA83T56A269B","relationship":2}]}`, false, ""},
		{"refused", 404, `{"reason":"not_found","message":"no person"}`, false, "not_found"},
		{"refused without a body", 403, ``, false, "refused"},
		{"server error", 503, `{"reason":"unavailable","message":"down"}`, true, ""},
		{"too many requests", 429, ``, true, ""},
		{"not JSON", 200, `<html>`, false, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/api/v1/persons" || r.URL.Query().Get("nis") != "012345678901" || r.URL.Query().Get("channel") != "self-service" {
					t.Errorf("request %s", r.URL)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			h := &HTTPHub{Base: srv.URL, Client: srv.Client()}
			p, err := h.LookupPerson(context.Background(), PersonQuery{NIS: "012345678901", Channel: certificate.SelfService})
			var r *Refusal
			switch {
			case tt.offline:
				if !errors.Is(err, ErrOffline) {
					t.Fatalf("err %v, want offline", err)
				}
			case tt.reason == "-":
				if err == nil || errors.Is(err, ErrOffline) || errors.As(err, &r) {
					t.Fatalf("err %v, want a plain error", err)
				}
			case tt.reason != "":
				if !errors.As(err, &r) || r.Reason != tt.reason || r.Status != tt.status || r.Message == "" {
					t.Fatalf("err %v, want refusal %s", err, tt.reason)
				}
			default:
				if err != nil || p.Name() != "MARIO ROSSI" || len(p.Family) != 1 || p.Family[0].Relationship != 2 {
					t.Fatalf("person %+v, err %v", p, err)
				}
			}
		})
	}
	// A hub that is not there at all is offline, not a refusal.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	h := &HTTPHub{Base: url, Client: http.DefaultClient}
	if _, err := h.Issue(context.Background(), IssueRequest{Key: "k"}); !errors.Is(err, ErrOffline) {
		t.Errorf("closed port: %v", err)
	}
	if err := h.Ping(context.Background()); !errors.Is(err, ErrOffline) {
		t.Errorf("ping on a closed port: %v", err)
	}
}

// TestSigningTransport: requests reach a verifying server signed and with
// their Idempotency-Key covered; an answer not signed by the pinned hub key
// is refused.
func TestSigningTransport(t *testing.T) {
	devPub, devKey, _ := ed25519.GenerateKey(nil)
	hubPub, hubKey, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	verifier := &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev", Key: devPub}, Clock: clock}
	var gotKey string
	api := httpsig.Middleware(verifier, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey = r.Header.Get("Idempotency-Key")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		w.Write([]byte(`{"id":"c1","protocol":"2026/0000001","types":["residenza"],"fees":[{"kind":"bollo","cents":1600}],"total_cents":1600}`))
	}))
	for _, tt := range []struct {
		name    string
		signer  *httpsig.Signer // of the hub's answers
		wantErr bool
	}{
		{"signed by the hub", &httpsig.Signer{Key: hubKey, KeyID: "hub", Clock: clock}, false},
		{"signed by someone else", &httpsig.Signer{Key: devKey, KeyID: "hub", Clock: clock}, true},
		{"unsigned", nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Handler = api
			if tt.signer != nil {
				h = httpsig.ResponseSigner(tt.signer, api)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			tr := &SigningTransport{Signer: &httpsig.Signer{Key: devKey, KeyID: "dev", Clock: clock, Extra: []string{"idempotency-key"}},
				HubKey: hubPub, HubKID: "hub"}
			hub := &HTTPHub{Base: srv.URL, Client: &http.Client{Transport: tr}}
			is, err := hub.Issue(context.Background(), IssueRequest{Key: "kiosk-1", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}})
			if tt.wantErr {
				if err == nil {
					t.Fatal("accepted an answer the hub did not sign")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if gotKey != "kiosk-1" || is.Protocol != "2026/0000001" || is.TotalCents != 1600 || is.Fees[0].Kind != fees.Bollo {
				t.Errorf("key %q, issued %+v", gotKey, is)
			}
		})
	}
}

func TestQueuedRoundTrip(t *testing.T) {
	req := IssueRequest{Key: "kiosk-abc", SubjectCF: cfMaria, Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia},
		Exemption: fees.Exemption{Code: 99, Text: "art. 1 legge"}, RequesterCF: cfMario, Channel: certificate.SelfService}
	dir := t.TempDir()
	ob, err := outbox.Open(filepath.Join(dir, "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	q := &Queue{Outbox: ob}
	claim, err := q.Enqueue(context.Background(), req, 1652)
	if err != nil || claim == "" {
		t.Fatalf("enqueue: %q %v", claim, err)
	}
	if n, _ := q.Pending(); n != 1 {
		t.Fatalf("pending %d", n)
	}
	// The sender hands the hub exactly what was confirmed, and a refusal
	// leaves the queue as refused rather than retried for ever.
	hub := newFakeHub(testNow)
	if _, err := ob.NewSender(Deliverer(hub), outbox.SenderOptions{}).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(hub.issued) != 1 || !reflect.DeepEqual(hub.issued[0], req) {
		t.Fatalf("delivered %+v, want %+v", hub.issued, req)
	}
	hub.refuse = &Refusal{Status: 422, Reason: "not_eligible", Message: "no"}
	q.Enqueue(context.Background(), IssueRequest{Key: "kiosk-def", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}}, 0)
	ob.NewSender(Deliverer(hub), outbox.SenderOptions{}).Drain(context.Background())
	if st, _ := ob.Stats(); st.Pending != 0 || st.Refused != 1 {
		t.Errorf("after a refusal: %+v", st)
	}
	if _, err := DecodeQueued([]byte("{")); err == nil {
		t.Error("a broken payload decoded")
	}
}

func TestDirTransport(t *testing.T) {
	d := &DirTransport{Dir: filepath.Join(t.TempDir(), "out")}
	for _, j := range []printer.Job{{ID: "a", Format: printer.FormatPDF, Data: []byte("%PDF")}, {ID: "b", Format: printer.FormatESCPOS, Data: []byte{0x1b, 0x40}}} {
		if err := d.Send(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"a.pdf": "%PDF", "b.bin": "\x1b@"} {
		if b, err := os.ReadFile(filepath.Join(d.Dir, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	if _, err := d.Status(context.Background()); !errors.Is(err, printer.ErrNoStatus) {
		t.Errorf("status: %v", err)
	}
}
