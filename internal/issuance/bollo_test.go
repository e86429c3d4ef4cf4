package issuance_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/debtest"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/protobolt"
)

func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return debtest.Run(t, "pdftotext", "-raw", "-enc", "UTF-8", path, "-")
}

// TestContrassegnoUsedOnce: a certificate whose bollo is paid with a
// contrassegno telematico prints its identifier and records it; the same
// identifier is refused on a second certificate (409 at the hub), even
// after the first is revoked, with nothing issued and no protocol number
// consumed, and the refusal is audited; a malformed identifier and one on
// another channel are refused too.
func TestContrassegnoUsedOnce(t *testing.T) {
	debtest.Need(t, "pdftotext")
	d, c := castDesk(t)
	ctx := context.Background()
	const marca = "01234567890123"
	req := counter(c.Requester, d.Evidence(t, c.Requester))
	req.Contrassegno = marca
	req.IdempotencyKey = "op-0001/k1"
	first, err := d.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.Record.Contrassegno != marca || first.Record.Protocol != "2026/0000001" {
		t.Errorf("record %+v", first.Record)
	}
	if text := pdfText(t, first.PDF); !strings.Contains(strings.Join(strings.Fields(text), " "), "Imposta di bollo assolta mediante contrassegno telematico n. "+marca) {
		t.Errorf("the PDF does not state the contrassegno:\n%s", text)
	}
	// The same request retried is the same certificate, not a second use.
	again, err := d.Issue(ctx, req)
	if err != nil || !again.Replayed || again.Record.ID != first.Record.ID {
		t.Fatalf("retry: %+v %v", again.Record, err)
	}
	if _, err := d.Certs.Revoke(first.Record.ID, "errore materiale", "Responsabile Anagrafe", now); err != nil {
		t.Fatal(err)
	}
	second := req
	second.IdempotencyKey = "op-0001/k2"
	second.Types = []string{"stato_di_famiglia"}
	_, err = d.Issue(ctx, second)
	ref := wantRefusal(t, "second use", err, certificate.ReasonContrassegnoUsed)
	if !strings.Contains(ref.Message, marca) {
		t.Errorf("message %q", ref.Message)
	}
	for name, bad := range map[string]string{"13 digits": "0123456789012", "letters": "0123456789012X"} {
		r := req
		r.IdempotencyKey, r.Contrassegno = "op-0001/"+name, bad
		_, err := d.Issue(ctx, r)
		wantRefusal(t, name, err, fees.ReasonContrassegnoInvalid)
	}
	office := issuance.Request{SubjectCF: c.Requester, Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk, Contrassegno: "99999999999999"}
	_, err = d.Issue(ctx, office)
	wantRefusal(t, "registry office", err, certificate.ReasonContrassegnoNotAtCounter)

	// No refusal consumed a number: the next certificate is the second,
	// and the register has no annulment.
	next := req
	next.IdempotencyKey, next.Contrassegno = "op-0001/k3", "01234567890124"
	res, err := d.Issue(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if res.Record.Protocol != "2026/0000002" {
		t.Errorf("protocol %s: a refusal consumed a number", res.Record.Protocol)
	}
	var entries []protocol.Entry
	if err := d.Store.DB().View(func(tx *bbolt.Tx) (err error) {
		entries, err = protobolt.Day(tx, protocol.DayOf(now))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Direction == protocol.Annulled {
			t.Errorf("annulled entry %s: %s", e.Number, e.Reason())
		}
	}
	if len(entries) != 2 {
		t.Errorf("%d register entries, want 2", len(entries))
	}
	es, err := d.Audit.Search(audit.Query{Subject: c.Requester}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var refused int
	for _, e := range es {
		if strings.Contains(e.Purpose, "richiesta rifiutata") {
			refused++
		}
	}
	if refused < 4 {
		t.Errorf("%d refusals audited, want at least 4", refused)
	}
}

// TestUseGiudiziario: a certificate for a court case, exempt under code 3,
// replaces the art. 40 sentence with ANPR's wording and records its use;
// the same use in bollo is refused before anything is numbered.
func TestUseGiudiziario(t *testing.T) {
	debtest.Need(t, "pdftotext")
	d, c := castDesk(t)
	ctx := context.Background()
	req := counter(c.Requester, d.Evidence(t, c.Requester))
	req.Use = "giudiziario"
	_, err := d.Issue(ctx, req)
	wantRefusal(t, "in bollo", err, certificate.ReasonUseConflictsExemption)
	req.Exemption = fees.Exemption{Code: 9}
	_, err = d.Issue(ctx, req)
	wantRefusal(t, "foreign pension", err, certificate.ReasonUseConflictsExemption)
	req.Use = "tribunale"
	_, err = d.Issue(ctx, req)
	wantRefusal(t, "unknown use", err, certificate.ReasonUnknownUse)

	req.Use, req.Exemption = "giudiziario", fees.Exemption{Code: 3}
	res, err := d.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Record.Use != certificate.UseGiudiziario || res.Record.Protocol != "2026/0000001" {
		t.Errorf("record use %q protocol %s", res.Record.Use, res.Record.Protocol)
	}
	text := strings.Join(strings.Fields(pdfText(t, res.PDF)), " ")
	if !strings.Contains(text, "il presente certificato è rilasciato per cause giudiziarie") || strings.Contains(text, "non può essere prodotto") {
		t.Errorf("the PDF keeps the art. 40 sentence or lacks the use:\n%s", text)
	}
}
