package hubapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/auditbolt"
	"github.com/sportello/sportello/internal/registry"
)

func (f *fixture) get(t *testing.T, path string, sign bool) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	if sign {
		if err := f.signer.SignRequest(req, nil); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestPersonLookup(t *testing.T) {
	f := newFixture(t)
	st := f.desk.Registry
	// A person with a valid CIE and a family of at least two.
	var who *registry.Person
	var members int
	var cie registry.Document
	st.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			d, ok := p.ValidDocument(registry.DateOf(testNow))
			if !ok || d.Kind != registry.CIE || p.Family == 0 || !p.Alive() {
				return true, nil
			}
			ms, err := r.Members(p.Family)
			if err != nil || len(ms) < 2 {
				return true, err
			}
			who, cie, members = p, d, len(ms)
			return false, nil
		})
	})
	if who == nil {
		t.Fatal("no resident with a CIE and a family in the fixture")
	}
	tests := []struct {
		name   string
		query  url.Values
		sign   bool
		status int
		reason string
	}{
		{"by NIS", url.Values{"nis": {cie.NIS}}, true, 200, ""},
		{"by CF and document", url.Values{"cf": {who.CF}, "document": {cie.Number}, "channel": {"counter"}}, true, 200, ""},
		{"unsigned", url.Values{"nis": {cie.NIS}}, false, 401, ""},
		{"CF without document", url.Values{"cf": {who.CF}}, true, 400, "document_required"},
		{"CF with another document", url.Values{"cf": {who.CF}, "document": {"XX00000XX"}}, true, 422, "document_mismatch"},
		{"unknown NIS", url.Values{"nis": {"999999999999"}}, true, 404, "not_found"},
		{"malformed NIS", url.Values{"nis": {"12ab"}}, true, 400, "bad_nis"},
		{"bad CF", url.Values{"cf": {"RSSMRA50B17A558X"}, "document": {"CA1"}}, true, 400, "bad_cf"},
		{"both", url.Values{"nis": {cie.NIS}, "cf": {who.CF}}, true, 400, "bad_request"},
		{"nothing", url.Values{}, true, 400, "bad_request"},
		{"bad channel", url.Values{"nis": {cie.NIS}, "channel": {"web"}}, true, 400, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.get(t, "/api/v1/persons?"+tt.query.Encode(), tt.sign)
			if tt.status == 401 {
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Fatalf("unsigned look-up answered %d", resp.StatusCode)
				}
				return
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				var p api.Problem
				json.Unmarshal(body, &p)
				if p.Reason != tt.reason || p.Message == "" {
					t.Errorf("problem %+v, want reason %s", p, tt.reason)
				}
				return
			}
			var v api.Person
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			if v.CF != who.CF || v.Surname != who.Surname || len(v.Family) == 0 || len(v.Family) > members-1 {
				t.Errorf("view %+v", v)
			}
			for _, m := range v.Family {
				if m.CF == who.CF || m.Relationship == 0 {
					t.Errorf("family member %+v", m)
				}
			}
		})
	}

	// Two successful look-ups: each person shown was recorded, as the device.
	db := f.desk.Registry.(interface{ DB() *bbolt.DB }).DB()
	rec, err := auditbolt.New(db, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	es, err := rec.Search(audit.Query{Subject: who.CF}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Actor != (audit.Actor{Kind: audit.Device, ID: "dev-1"}) || es[0].Channel != "counter" {
		t.Fatalf("audit entries for the subject: %+v", es)
	}
	// And so was every family member shown, once per look-up.
	if h, err := rec.Verify(); err != nil || h.Seq != uint64(2*members) {
		t.Errorf("audit chain head %+v (%v), want %d entries: two look-ups of %d persons", h, err, 2*members, members)
	}
}
