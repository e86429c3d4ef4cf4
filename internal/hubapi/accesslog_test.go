package hubapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/sportello/sportello/internal/registry"
)

// nisIdentifier stands in for the hub's verifier of requester evidence in
// these tests: it finds the CIE's holder by NIS and, for self-service,
// wants the PIN proved. The access log's own checks are what is tested.
func nisIdentifier(st registry.Store) RequesterIdentifier {
	return func(r *http.Request, ev api.RequesterEvidence, selfService bool) (*registry.Person, error) {
		if ev.Method != api.EvidenceCIE || (selfService && !ev.PINProved) {
			return nil, fmt.Errorf("%w: no CIE with a proved PIN", ErrIdentification)
		}
		var p *registry.Person
		err := st.View(r.Context(), func(rd registry.Reader) (err error) { p, err = rd.PersonByNIS(ev.NIS); return })
		if errors.Is(err, registry.ErrNotFound) {
			return nil, fmt.Errorf("%w: unknown NIS", ErrIdentification)
		}
		return p, err
	}
}

type logFixture struct {
	srv    *httptest.Server
	signer *httpsig.Signer
	desk   *issuancetest.Desk
	keyID  string
	server *Server
}

func newLogFixture(t *testing.T) *logFixture {
	t.Helper()
	d := issuancetest.New(t, 200, 3, testNow)
	shop := newActiveShop(t, d)
	ops := shop.ops
	s := &Server{Store: d.Store, Desk: d.Service, Operators: ops, Now: d.Now, Log: slog.New(slog.DiscardHandler),
		Verifier:          &httpsig.Verifier{Keys: ops, Clock: d.Now},
		IdentifyRequester: nisIdentifier(d.Store)}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &logFixture{srv: srv, desk: d, keyID: shop.keyID, server: s, signer: &httpsig.Signer{Key: shop.key, KeyID: shop.keyID, Clock: d.Now}}
}

func (f *logFixture) post(t *testing.T, body any, sign bool) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.srv.URL+api.PathAccessLog, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, out := send(t, req, signerIf(sign, f.signer), b)
	return resp.StatusCode, out
}

// A citizen who taps their CIE and proves the PIN sees, newest first, their
// own look-up, the certificate a shop issued about them and the shop's
// read of their record, named by the shop, never by a key id; their
// look-up is in the audit log.
func TestAccessLogShowsReadsAndCertificates(t *testing.T) {
	f := newLogFixture(t)
	var who *registry.Person
	f.desk.Store.View(context.Background(), func(r registry.Reader) error {
		for _, cf := range f.desk.Residents {
			p, err := r.PersonByCF(cf)
			if err != nil {
				return err
			}
			if d, ok := p.ValidDocument(registry.DateOf(testNow)); ok && d.Kind == registry.CIE {
				who = p
				return nil
			}
		}
		return nil
	})
	if who == nil {
		t.Fatal("no resident with a CIE")
	}
	cie, _ := who.ValidDocument(registry.DateOf(testNow))
	device := audit.Actor{Kind: audit.Device, ID: f.keyID}
	ctx := context.Background()
	if err := f.desk.Audit.Record(ctx, audit.Entry{Time: testNow.Add(-time.Hour), Actor: device, Purpose: personPurpose, Subject: who.CF,
		Data: "nome, data di nascita, famiglia anagrafica", Channel: "counter"}); err != nil {
		t.Fatal(err)
	}
	res, err := f.desk.Issue(ctx, issuance.Request{SubjectCF: who.CF, Evidence: f.desk.Evidence(t, who.CF), Types: []string{"residenza"}, Channel: certificate.Counter,
		Operator: issuance.Operator{ID: "op"}, Actor: device})
	if err != nil {
		t.Fatal(err)
	}
	// Someone else's read is not in this citizen's log.
	other := f.desk.Residents[0]
	if other == who.CF {
		other = f.desk.Residents[1]
	}
	f.desk.Audit.Record(ctx, audit.Entry{Actor: device, Purpose: personPurpose, Subject: other, Data: "nome", Channel: "counter"})

	tap := api.RequesterEvidence{Method: api.EvidenceCIE, NIS: cie.NIS, PINProved: true}
	status, body := f.post(t, api.AccessLogRequest{Requester: tap}, true)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var log api.AccessLog
	if err := json.Unmarshal(body, &log); err != nil {
		t.Fatal(err)
	}
	if log.CF != who.CF || log.Total != 3 || len(log.Lines) != 3 || log.From != "2025-11-23" {
		t.Fatalf("log %+v", log)
	}
	kinds := []string{log.Lines[0].Kind, log.Lines[1].Kind, log.Lines[2].Kind}
	if strings.Join(kinds, ",") != "access_log,certificate,read" {
		t.Errorf("kinds newest first %v", kinds)
	}
	for _, l := range log.Lines {
		if l.Place != "Edicola Centrale" {
			t.Errorf("line %+v: place is not the shop's name", l)
		}
	}
	if c := log.Lines[1]; c.Reference != res.Record.Protocol || c.What != "certificato di residenza" {
		t.Errorf("certificate line %+v", c)
	}
	if strings.Contains(string(body), f.keyID) {
		t.Errorf("the answer shows the device's key id:\n%s", body)
	}
	es, err := f.desk.Audit.Search(audit.Query{Subject: who.CF}, 0)
	if err != nil || es[len(es)-1].Data != "registro degli accessi ai propri dati, ultimi 12 mesi" || es[len(es)-1].Actor != device {
		t.Errorf("the look-up is not audited: %+v %v", es, err)
	}

	// Looking again adds a second look-up: four lines, so page 2 of size
	// 2 holds the certificate and the read.
	status, body = f.post(t, api.AccessLogRequest{Requester: tap, Page: 2, PageSize: 2}, true)
	var p2 api.AccessLog
	json.Unmarshal(body, &p2)
	if status != 200 || p2.Pages != 2 || p2.Total != 4 || len(p2.Lines) != 2 || p2.Lines[0].Kind != "certificate" || p2.Lines[1].Kind != "read" {
		t.Errorf("page 2: %d %s", status, body)
	}

	// Refusals. A failed identification is one answer whatever its cause.
	noPIN := tap
	noPIN.PINProved = false
	unknown := tap
	unknown.NIS = "999999999999"
	_, a := f.post(t, api.AccessLogRequest{Requester: noPIN}, true)
	_, b := f.post(t, api.AccessLogRequest{Requester: unknown}, true)
	if !bytes.Equal(a, b) {
		t.Errorf("identification failures differ:\n%s\n%s", a, b)
	}
	if es, _ := f.desk.Audit.Search(audit.Query{Subject: "NIS 999999999999"}, 0); len(es) != 1 || !strings.Contains(es[0].Purpose, "identificazione non riuscita") {
		t.Errorf("the failed identification is not audited: %+v", es)
	}
	for _, tt := range []struct {
		name   string
		body   any
		sign   bool
		status int
		reason string
	}{
		{"no evidence", api.AccessLogRequest{}, true, 400, api.ReasonRequesterEvidenceRequired},
		{"PIN not proved", api.AccessLogRequest{Requester: noPIN}, true, 403, api.ReasonIdentificationFailed},
		{"unknown card", api.AccessLogRequest{Requester: unknown}, true, 403, api.ReasonIdentificationFailed},
		{"page past the end", api.AccessLogRequest{Requester: tap, Page: 9}, true, 400, api.ReasonBadPage},
		{"bad channel", api.AccessLogRequest{Requester: tap, Channel: "web"}, true, 400, "bad_request"},
		{"unsigned", api.AccessLogRequest{Requester: tap}, false, 401, ""},
	} {
		status, body := f.post(t, tt.body, tt.sign)
		var p api.Problem
		json.Unmarshal(body, &p)
		if status != tt.status || (tt.reason != "" && p.Reason != tt.reason) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, status, body, tt.status, tt.reason)
		}
	}
}
