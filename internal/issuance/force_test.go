package issuance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/registry"
)

// TestForzaCertificazione: at the office the registry officer may force a
// certificate ANPR lets be forced (here: a procedure open on the subject,
// italia/anpr src/controllo-certificati/, "Se procedimento aperto e
// forzaCertificazione assente o uguale a 0"); unforced it is refused with
// no protocol number, forced it is issued, its record says so and so does
// the audit entry of the read.
func TestForzaCertificazione(t *testing.T) {
	d := issuancetest.New(t, 100, 5, now)
	cf := d.Residents[0]
	err := d.Store.Update(context.Background(), func(w registry.Writer) error {
		p, err := w.PersonByCF(cf)
		if err != nil {
			return err
		}
		p.ProcedureOpen = registry.Date{Year: 2026, Month: 10, Day: 1}
		return w.PutPerson(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	req := issuance.Request{SubjectCF: cf, Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk}
	if _, err := d.Issue(context.Background(), req); err == nil {
		t.Fatal("issued unforced while a procedure is open")
	} else if r, ok := certificate.AsRefusal(err); !ok || r.Reason != certificate.ReasonOpenProcedure {
		t.Fatalf("got %v, want refusal %s", err, certificate.ReasonOpenProcedure)
	}
	req.Force = true
	res, err := d.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("forced at the office: %v", err)
	}
	if !res.Record.Forced {
		t.Error("the record of a forced certificate does not say it was forced")
	}
	es, err := d.Audit.Search(audit.Query{Actor: "staff:clerk1"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range es {
		found = found || e.Request == res.Record.ID && strings.Contains(e.Purpose, "forzata")
	}
	if !found {
		t.Errorf("no audit entry says the certificate was forced: %+v", es)
	}
}
