package admin

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/certbolt"
)

const requesterCF = "VRDLGU70A01F205R" // Verdi Luigi, 1.1.1970, Milano

// issue stores a certificate about f.cf asked for by requesterCF at the
// fixture's shop, at the fixture's clock.
func (f *fixture) issue(t *testing.T, id string) certificate.Record {
	t.Helper()
	rec, _, err := f.certs.Issue(context.Background(), f.con.now(), certbolt.Idempotency{}, func(n protocol.Number, at time.Time) (*certbolt.Built, error) {
		return &certbolt.Built{Record: certificate.Record{
			ID: id, Protocol: n.String(), Types: []certificate.Type{certificate.Residenza}, Title: "Certificato di residenza",
			SubjectCF: f.cf, SubjectName: "ROSSI MARIO", RequesterCF: requesterCF, Requester: certificate.RequesterOther,
			Channel: certificate.Counter, OperatorID: f.opID, ClerkID: "cl-0001", ClerkName: "Anna Bianchi",
			Fees:       []fees.Line{{Kind: fees.Bollo, Label: "Imposta di bollo", Cents: 1600}, {Kind: fees.Diritti, Label: "Diritti di segreteria", Cents: 52}},
			TotalCents: 1652, Facts: []certificate.Fact{{Key: "Residenza", Value: "Via Giuseppe Verdi 12, Milano"}},
		}, PDF: []byte("%PDF-1.7 certificate " + id)}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (f *fixture) auditOf(t *testing.T, cf, actor string) []audit.Entry {
	t.Helper()
	es, err := f.con.auditLog(nil).Search(audit.Query{Subject: cf, Actor: actor}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// A clerk finds a certificate by the requester's codice fiscale, by
// protocol number and by day; opens it; the reads that show whose it is
// are on the access log.
func TestCertificateSearchAndView(t *testing.T) {
	f := newFixture(t)
	rec := f.issue(t, "aaaabbbbccccdddd")
	c, _ := f.login(t, "clerk")
	purpose := "verifica su richiesta dell'interessato"

	// By codice fiscale: a purpose is needed, and the search is recorded.
	if resp, _ := get(t, c, f.srv.URL+"/admin/certificates?q="+requesterCF); resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get(reasonHeader) != "purpose_required" {
		t.Fatalf("search by CF without a purpose: %s %q", resp.Status, resp.Header.Get(reasonHeader))
	}
	resp, body := get(t, c, f.srv.URL+"/admin/certificates?q="+strings.ToLower(requesterCF)+"&purpose="+url.QueryEscape(purpose))
	if resp.StatusCode != 200 || !strings.Contains(body, rec.Protocol) || !strings.Contains(body, "ROSSI MARIO") || !strings.Contains(body, "richiedente") {
		t.Fatalf("search by the requester's CF: %s\n%s", resp.Status, body)
	}
	if es := f.auditOf(t, requesterCF, "staff:clerk"); len(es) != 1 || es[0].Purpose != purpose {
		t.Fatalf("the search by CF is recorded as %+v", es)
	}

	// By protocol number, as printed or short, or by id typed in upper
	// case: straight to the certificate.
	for _, q := range []string{rec.Protocol, "2026/1", strings.ToUpper(rec.ID)} {
		resp, _ := get(t, c, f.srv.URL+"/admin/certificates?q="+url.QueryEscape(q)+"&purpose="+url.QueryEscape(purpose))
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/certificates/"+rec.ID) {
			t.Fatalf("search by protocol %q: %s to %q", q, resp.Status, loc)
		}
	}
	if resp, _ := get(t, c, f.srv.URL+"/admin/certificates?q=2026/0000099"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unused protocol number: %s", resp.Status)
	}

	// By day: the list shows no one's name, and records nothing.
	before := len(f.auditOf(t, "", ""))
	resp, body = get(t, c, f.srv.URL+"/admin/certificates?q=07/04/2026")
	_, table, _ := strings.Cut(body, `id="cert-results"`)
	if resp.StatusCode != 200 || !strings.Contains(table, rec.Protocol) || strings.Contains(table, "ROSSI") || strings.Contains(table, f.cf) || strings.Contains(table, requesterCF) {
		t.Fatalf("the day's list: %s\n%s", resp.Status, body)
	}
	if after := len(f.auditOf(t, "", "")); after != before {
		t.Errorf("the day's list wrote %d audit entries", after-before)
	}

	// The certificate: without a purpose, the page asks for one and shows nothing.
	resp, body = get(t, c, f.srv.URL+"/admin/certificates/"+rec.ID)
	if resp.StatusCode != 200 || strings.Contains(body, "ROSSI") || !strings.Contains(body, `id="cert-purpose"`) {
		t.Fatalf("the certificate without a purpose: %s\n%s", resp.Status, body)
	}
	resp, body = get(t, c, f.srv.URL+"/admin/certificates/"+rec.ID+"?purpose="+url.QueryEscape(purpose))
	for _, want := range []string{"ROSSI MARIO", f.cf, requesterCF, "Edicola Test", "Anna Bianchi", "16,00 €", "16,52 €", "Via Giuseppe Verdi 12", "/v/" + rec.ID, "sportello dell&#39;esercente", "valido", "altra persona"} {
		if !strings.Contains(body, want) {
			t.Errorf("the certificate's page lacks %q", want)
		}
	}
	if resp.StatusCode != 200 {
		t.Fatalf("the certificate: %s", resp.Status)
	}
	for _, cf := range []string{f.cf, requesterCF} {
		if es := f.auditOf(t, cf, "staff:clerk"); len(es) == 0 || es[len(es)-1].Request != rec.ID {
			t.Errorf("opening the certificate is not recorded for %s: %+v", cf, es)
		}
	}

	// The PDF, to staff only and audited.
	resp, body = get(t, c, f.srv.URL+"/admin/certificates/"+rec.ID+"/pdf?purpose="+url.QueryEscape(purpose))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || body != "%PDF-1.7 certificate "+rec.ID {
		t.Fatalf("the PDF: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	anon := f.client(t)
	if resp, _ := get(t, anon, f.srv.URL+"/admin/certificates/"+rec.ID+"/pdf?purpose="+url.QueryEscape(purpose)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the PDF without a session: %s", resp.Status)
	}
	// Once retention deleted it: 410, the page says so.
	if _, err := (certbolt.Retention{DB: f.db}).DeletePDFs(f.con.now().Add(time.Hour), f.con.now(), 10); err != nil {
		t.Fatal(err)
	}
	resp, body = get(t, c, f.srv.URL+"/admin/certificates/"+rec.ID+"/pdf?purpose="+url.QueryEscape(purpose))
	if resp.StatusCode != http.StatusGone || resp.Header.Get(reasonHeader) != "pdf_expired" || !strings.Contains(body, "non è più conservato") {
		t.Errorf("the deleted PDF: %s %q", resp.Status, resp.Header.Get(reasonHeader))
	}
	if _, body := get(t, c, f.srv.URL+"/admin/certificates/"+rec.ID+"?purpose="+url.QueryEscape(purpose)); strings.Contains(body, `id="cert-pdf"`) || !strings.Contains(body, "PDF non più conservato") {
		t.Error("the page of a certificate whose PDF is gone still links it")
	}
}

// Revocation: a reason, a confirmation step, CSRF, the access log; the
// page shows it revoked with the reason; a second revocation is refused.
func TestCertificateRevoke(t *testing.T) {
	f := newFixture(t)
	rec := f.issue(t, "eeeeffffgggghhhh")
	c, csrf := f.login(t, "clerk")
	u := f.srv.URL + "/admin/certificates/" + rec.ID + "/revoke"
	purpose := "richiesta di revoca dell'ufficio"
	if resp, _ := post(t, c, u, url.Values{"reason": {"rilasciato per errore"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("revocation without the CSRF token: %s", resp.Status)
	}
	if resp, _ := post(t, c, u, url.Values{"csrf": {csrf}, "reason": {" "}, "confirm": {"1"}}); resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get(reasonHeader) != "revoke_reason_required" {
		t.Fatalf("revocation without a reason: %s", resp.Status)
	}
	if resp, _ := post(t, c, u, url.Values{"csrf": {csrf}, "reason": {"rilasciato\u202eper errore"}, "confirm": {"1"}}); resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get(reasonHeader) != certificate.ReasonRevocationBadText {
		t.Fatalf("a reason with a formatting character: %s", resp.Status)
	}
	resp, body := post(t, c, u, url.Values{"csrf": {csrf}, "reason": {"rilasciato per errore"}, "purpose": {purpose}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="revoke-confirm"`) || !strings.Contains(body, "rilasciato per errore") {
		t.Fatalf("the first step: %s", resp.Status)
	}
	if got, _ := f.certs.Get(rec.ID); got.Status != certificate.Valid {
		t.Fatal("the first step revoked the certificate")
	}
	// An auditor may not revoke.
	a, acsrf := f.login(t, "auditor")
	if resp, _ := post(t, a, u, url.Values{"csrf": {acsrf}, "reason": {"rilasciato per errore"}, "confirm": {"1"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an auditor's revocation: %s", resp.Status)
	}
	resp, _ = post(t, c, u, url.Values{"csrf": {csrf}, "reason": {"rilasciato per errore"}, "purpose": {purpose}, "confirm": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=cert_revoked") {
		t.Fatalf("the confirmation: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	got, _ := f.certs.Get(rec.ID)
	if got.Status != certificate.Revoked || got.RevokeReason != "rilasciato per errore" || !got.RevokedAt.Equal(f.con.now()) || got.RevokedBy != "staff:clerk" {
		t.Fatalf("the record after revocation: %+v", got)
	}
	es := f.auditOf(t, f.cf, "staff:clerk")
	if len(es) == 0 || !strings.Contains(es[len(es)-1].Data, "revoca") || !strings.Contains(es[len(es)-1].Purpose, "rilasciato per errore") {
		t.Errorf("the revocation's audit entry: %+v", es)
	}
	_, body = get(t, c, f.srv.URL+resp.Header.Get("Location"))
	if !strings.Contains(body, "Certificato revocato.") || !strings.Contains(body, `id="cert-status" class="revoked"`) || !strings.Contains(body, "rilasciato per errore") || !strings.Contains(body, `<dd id="cert-revokedby">staff:clerk</dd>`) || strings.Contains(body, `id="revoke"`) {
		t.Errorf("the page after revocation:\n%s", body)
	}
	if resp, _ := post(t, c, u, url.Values{"csrf": {csrf}, "reason": {"di nuovo per errore"}, "confirm": {"1"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("a second revocation: %s", resp.Status)
	}
}

// The revocation's confirmation step shows whose certificate it is (name,
// codici fiscali, facts) like the certificate's page, so it is on the
// access log as that page is: a read without a log entry would let a
// clerk see a record through the revoke form and leave no trace.
func TestCertificateRevokeConfirmationAudited(t *testing.T) {
	f := newFixture(t)
	rec := f.issue(t, "nnnnppppqqqqrrrr")
	c, csrf := f.login(t, "clerk")
	purpose := "richiesta di revoca dell'ufficio"
	before := map[string]int{}
	for _, cf := range []string{f.cf, requesterCF} {
		before[cf] = len(f.auditOf(t, cf, "staff:clerk"))
	}
	resp, body := post(t, c, f.srv.URL+"/admin/certificates/"+rec.ID+"/revoke", url.Values{"csrf": {csrf}, "reason": {"rilasciato per errore"}, "purpose": {purpose}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="revoke-confirm"`) || !strings.Contains(body, "ROSSI MARIO") {
		t.Fatalf("the confirmation step: %s", resp.Status)
	}
	for _, cf := range []string{f.cf, requesterCF} {
		es := f.auditOf(t, cf, "staff:clerk")
		if len(es) != before[cf]+1 || es[len(es)-1].Request != rec.ID || es[len(es)-1].Purpose != purpose {
			t.Errorf("the confirmation step showed %s's certificate with the access log at %+v", cf, es)
		}
	}
}

// A search by the requester's codice fiscale lists the certificates they
// asked for with the name of the person each is about: that person's name
// is shown, so their read is on the access log too, as the persons page's
// search by name records each person it lists.
func TestCertificateSearchByRequesterAuditsSubjects(t *testing.T) {
	f := newFixture(t)
	f.issue(t, "sssstttuuuuvvvv")
	c, _ := f.login(t, "clerk")
	purpose := "verifica su richiesta dell'interessato"
	resp, body := get(t, c, f.srv.URL+"/admin/certificates?q="+requesterCF+"&purpose="+url.QueryEscape(purpose))
	if resp.StatusCode != 200 || !strings.Contains(body, "ROSSI MARIO") {
		t.Fatalf("search by the requester's CF: %s", resp.Status)
	}
	if es := f.auditOf(t, f.cf, "staff:clerk"); len(es) != 1 || es[0].Purpose != purpose || !strings.Contains(es[0].Data, requesterCF) {
		t.Errorf("the subject listed by the search is recorded as %+v", es)
	}
	if es := f.auditOf(t, requesterCF, "staff:clerk"); len(es) != 1 {
		t.Errorf("the searched code is recorded as %+v", es)
	}
}

// racingRevoke is a store where another clerk revokes the certificate
// between the confirmation's checks and its own revocation.
type racingRevoke struct{ certificate.Store }

func (s racingRevoke) Revoke(id, reason, by string, at time.Time) (certificate.Record, error) {
	if _, err := s.Store.Revoke(id, "revocato da un collega", "staff:other", at); err != nil {
		return certificate.Record{}, err
	}
	return s.Store.Revoke(id, reason, by, at)
}

// A revocation that loses the race to another clerk's is told in the
// clerk's language, with the time of the other revocation, not with the
// store's English error.
func TestCertificateRevokeRaceInItalian(t *testing.T) {
	f := newFixture(t)
	rec := f.issue(t, "wwwwxxxxyyyyzzzz")
	f.con.Certs = racingRevoke{f.con.Certs}
	c, csrf := f.login(t, "clerk")
	resp, body := post(t, c, f.srv.URL+"/admin/certificates/"+rec.ID+"/revoke", url.Values{"csrf": {csrf}, "reason": {"rilasciato per errore"}, "purpose": {"richiesta di revoca dell'ufficio"}, "confirm": {"1"}})
	if resp.StatusCode != http.StatusConflict || resp.Header.Get(reasonHeader) != "already_revoked" {
		t.Fatalf("the lost race: %s %q", resp.Status, resp.Header.Get(reasonHeader))
	}
	if !strings.Contains(body, "Il certificato è già stato revocato il ") || strings.Contains(body, "already revoked") {
		t.Errorf("the lost race is told as:\n%s", body)
	}
}

// Roles that read no personal data do not see certificates.
func TestCertificatePermissions(t *testing.T) {
	f := newFixture(t)
	rec := f.issue(t, "jjjjkkkkllllmmmm")
	for _, role := range []string{"finance", "auditor"} {
		c, _ := f.login(t, role)
		for _, p := range []string{"/admin/certificates?q=" + requesterCF + "&purpose=verifica+ufficio", "/admin/certificates/" + rec.ID + "?purpose=verifica+ufficio", "/admin/register?day=2026-04-07&purpose=verifica+ufficio"} {
			if resp, _ := get(t, c, f.srv.URL+p); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s opens %s: %s", role, p, resp.Status)
			}
		}
	}
}

// The register of a day, on the page and as CSV, names the requesters:
// each is recorded.
func TestRegisterByDay(t *testing.T) {
	f := newFixture(t)
	rec := f.issue(t, "nnnnppppqqqqrrrr")
	c, _ := f.login(t, "clerk")
	if resp, body := get(t, c, f.srv.URL+"/admin/register?day=2026-04-07"); resp.StatusCode != 200 || strings.Contains(body, requesterCF) {
		t.Fatalf("the register without a purpose shows it: %s", resp.Status)
	}
	q := "?day=2026-04-07&purpose=" + url.QueryEscape("conservazione del registro")
	resp, body := get(t, c, f.srv.URL+"/admin/register"+q)
	if resp.StatusCode != 200 || !strings.Contains(body, rec.Protocol) || !strings.Contains(body, requesterCF) {
		t.Fatalf("the register: %s\n%s", resp.Status, body)
	}
	resp, body = get(t, c, f.srv.URL+"/admin/register.csv"+q)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("the CSV: %s", resp.Status)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	col := map[string]int{} // by name: the layout leads with the register's codes
	for i, name := range append([][]string{nil}, rows...)[min(1, len(rows))] {
		col[name] = i
	}
	if err != nil || len(rows) != 2 || rows[1][col["numero"]] != rec.Protocol || rows[1][col["riferimento"]] != rec.ID {
		t.Fatalf("the CSV rows %q, %v", rows, err)
	}
	// It is exactly what the protocol package writes for the day.
	es, _ := f.certs.ProtocolDay(protocol.DayOf(f.con.now()))
	var want bytes.Buffer
	if _, err := protocol.WriteCSV(&want, protocol.DayOf(f.con.now()), es); err != nil || want.String() != body {
		t.Errorf("the CSV differs from protocol.WriteCSV's")
	}
	if es := f.auditOf(t, requesterCF, "staff:clerk"); len(es) != 2 {
		t.Errorf("the register's reads of the requester: %d entries, want 2 (page and CSV)", len(es))
	}
	if resp, _ := get(t, c, f.srv.URL+"/admin/register?day=31/02/2026&purpose=verifica"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a day that does not exist: %s", resp.Status)
	}
}

// A mistyped codice fiscale is explained character by character, in
// Italian and English, from the rule codicefiscale names.
func TestCertificateSearchExplainsCF(t *testing.T) {
	f := newFixture(t)
	c, _ := f.login(t, "clerk")
	// RSSMRA50B17A558W with the check character changed.
	resp, body := get(t, c, f.srv.URL+"/admin/certificates?q=RSSMRA50B17A558X&purpose=verifica+ufficio")
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get(reasonHeader) != "invalid_cf" {
		t.Fatalf("a wrong check character: %s %q", resp.Status, resp.Header.Get(reasonHeader))
	}
	if !strings.Contains(body, "Il carattere 16 («X») non è il carattere di controllo") || !strings.Contains(body, "dovrebbe essere «W»") || !strings.Contains(body, `<td class="wrong"><code>X</code>`) {
		t.Errorf("the explanation:\n%s", body)
	}
	// A month letter that is none, in English.
	_, body = get(t, c, f.srv.URL+"/admin/certificates?q=RSSMRA50Z17A558W&lang=en")
	if !strings.Contains(body, "Character 9 (&#34;Z&#34;) is not a month letter") {
		t.Errorf("the English explanation:\n%s", body)
	}
}
