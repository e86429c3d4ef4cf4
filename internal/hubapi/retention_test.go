package hubapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/certbolt"
)

// TestRetainedCertificateAnswers: once retention has deleted a
// certificate's PDF, the device that issued it is told 410 pdf_expired
// (not "unknown") and the verification page still says valid; once the
// record is purged, the page answers 410 "purged" with the issue day and
// nothing about the person.
func TestRetainedCertificateAnswers(t *testing.T) {
	f := newFixture(t)
	cf := f.cfs[0]
	resp, body := f.post(t, "k1", map[string]any{"cf": cf, "types": []string{"residenza"}}, true)
	var got api.Certificate
	if err := json.Unmarshal(body, &got); resp.StatusCode != http.StatusCreated || err != nil {
		t.Fatalf("issue: %d %s", resp.StatusCode, body)
	}
	rec, err := f.desk.Certs.Get(got.ID)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, sign bool) (int, string) {
		req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
		req.Header.Set("Accept", "application/json")
		if sign {
			f.signer.SignRequest(req, nil)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	pdfPath, vPath := "/api/v1/certificates/"+got.ID+"/pdf", "/v/"+got.ID
	if code, _ := get(pdfPath, true); code != http.StatusOK {
		t.Fatalf("PDF before retention: %d", code)
	}
	// The desk's registry is the hub's one bbolt file, certificates too.
	store := certbolt.Retention{DB: f.desk.Registry.(interface{ DB() *bbolt.DB }).DB()}
	later := rec.Issued.AddDate(0, 1, 1)
	if n, err := store.DeletePDFs(later, later, 10); n != 1 || err != nil {
		t.Fatalf("delete PDFs: %d %v", n, err)
	}
	code, b := get(pdfPath, true)
	var p api.Problem
	json.Unmarshal([]byte(b), &p)
	if code != http.StatusGone || p.Reason != api.ReasonPDFExpired || !strings.Contains(p.Message, "no longer kept") {
		t.Errorf("PDF after its window: %d %s", code, b)
	}
	code, b = get(vPath, false)
	var v verification
	json.Unmarshal([]byte(b), &v)
	if code != http.StatusOK || v.Status != "valid" || v.Subject == "" {
		t.Errorf("verification after the PDF went: %d %s", code, b)
	}

	if n, err := store.PurgeRecords(later.AddDate(3, 0, 0), later.AddDate(3, 0, 0), 10); n != 1 || err != nil {
		t.Fatalf("purge: %d %v", n, err)
	}
	code, b = get(vPath, false)
	v = verification{}
	json.Unmarshal([]byte(b), &v)
	if code != http.StatusGone || v.Status != "purged" || v.Issued != rec.Issued.In(protocol.Rome).Format("02/01/2006") || v.Title != "" || v.Subject != "" || len(v.Facts) != 0 || v.Protocol != "" {
		t.Errorf("verification after the purge: %d %s", code, b)
	}
	for _, personal := range []string{cf, rec.SubjectName, rec.Protocol} {
		if strings.Contains(b, personal) {
			t.Errorf("the purged certificate's page still shows %q: %s", personal, b)
		}
	}
	req, _ := http.NewRequest("GET", f.srv.URL+vPath, nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusGone || !strings.Contains(string(page), "dati non più conservati") || strings.Contains(string(page), cf) {
		t.Errorf("page after the purge: %d\n%s", r.StatusCode, page)
	}
	if code, _ := get(pdfPath, true); code != http.StatusNotFound {
		t.Errorf("PDF after the purge: %d", code)
	}
}
