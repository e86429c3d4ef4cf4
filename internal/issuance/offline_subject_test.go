package issuance_test

import (
	"context"
	"testing"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
)

// TestEmptySubjectIsTheRequester: a kiosk that served a new customer while
// the hub could not be reached, identified by a CIE tap, knows no codice
// fiscale (the chip's level 1 gives only the NIS) and sends the request
// with no subject: the hub issues it about the requester the evidence
// identifies, in the same transaction that verifies the tap, and audits
// the read under their codice fiscale. A tap the hub does not accept is
// refused as any other. Before, an empty subject was refused as a
// malformed codice fiscale.
func TestEmptySubjectIsTheRequester(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	tap := issuancetest.CIETap(t, virtual.Genuine, device, issuancetest.CIENIS(t, d.Store, c.Requester, now), now, true)
	for _, ch := range []certificate.Channel{certificate.Counter, certificate.SelfService} {
		req := counter("", tap)
		req.Channel = ch
		if ch == certificate.SelfService {
			paidFor(t, d, payments(t, d), &req) // self-service prints only what is paid (issue 15)
		}
		res, err := d.Issue(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", ch, err)
		}
		if res.Record.SubjectCF != c.Requester || res.Record.RequesterCF != c.Requester {
			t.Errorf("%s: issued about %s for %s, want %s for themself", ch, res.Record.SubjectCF, res.Record.RequesterCF, c.Requester)
		}
	}
	es, err := d.Audit.Search(audit.Query{Subject: c.Requester}, 0)
	if err != nil || len(es) == 0 {
		t.Fatalf("no audit entry names the requester as subject: %v", err)
	}
	// A cloned chip identifies nobody: refused, not issued about anyone.
	_, err = d.Issue(ctx, counter("", issuancetest.CIETap(t, virtual.Cloned, device, issuancetest.CIENIS(t, d.Store, c.Requester, now), now, true)))
	wantRefusal(t, "a cloned chip with no subject", err, certificate.ReasonIdentificationFailed)
	// Document evidence with no subject: the person of the document.
	res, err := d.Issue(ctx, counter("", d.Evidence(t, c.Member)))
	if err != nil || res.Record.SubjectCF != c.Member {
		t.Fatalf("document evidence, no subject: %v %+v", err, res.Record.SubjectCF)
	}
}
