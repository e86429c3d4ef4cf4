package issuance_test

import (
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/registry"
)

const device = "dev-0001"

var kiosk = audit.Actor{Kind: audit.Device, ID: device}

func castDesk(t *testing.T) (*issuancetest.Desk, issuancetest.Cast) {
	t.Helper()
	d := issuancetest.New(t, 400, 5, now)
	return d, d.Cast(t)
}

func counter(subject string, ev identify.Evidence) issuance.Request {
	return issuance.Request{SubjectCF: subject, Types: []string{"residenza"}, Evidence: ev, Channel: certificate.Counter,
		Operator: issuance.Operator{ID: "op-0001"}, Actor: kiosk}
}

func wantRefusal(t *testing.T, what string, err error, reason string) *certificate.Refusal {
	t.Helper()
	ref, ok := certificate.AsRefusal(err)
	if !ok || ref.Reason != reason {
		t.Fatalf("%s: %v, want a refusal %s", what, err, reason)
	}
	return ref
}

// TestHouseholdRule: at a counter the requester obtains certificates about
// themself and their own famiglia anagrafica, not about a stranger nor a
// fellow member of a convivenza, unless the agreement names a legal basis
// that widens it; self-service is never widened; the office is exempt.
func TestHouseholdRule(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	ev := d.Evidence(t, c.Requester)

	for _, subj := range []string{c.Requester, c.Member} {
		res, err := d.Issue(ctx, counter(subj, ev))
		if err != nil {
			t.Fatalf("requester %s about %s of their household: %v", c.Requester, subj, err)
		}
		if res.Record.RequesterCF != c.Requester {
			t.Errorf("record names requester %q, want %s", res.Record.RequesterCF, c.Requester)
		}
	}
	wantRefusal(t, "about a stranger", func() error { _, err := d.Issue(ctx, counter(c.Stranger, ev)); return err }(), certificate.ReasonNotRequesterHousehold)
	_, err := d.Issue(ctx, counter(c.Colodger, d.Evidence(t, c.Lodger)))
	wantRefusal(t, "a convivenza is not a household", err, certificate.ReasonNotRequesterHousehold)
	if _, err := d.Issue(ctx, counter(c.Lodger, d.Evidence(t, c.Lodger))); err != nil {
		t.Errorf("a lodger about themself: %v", err)
	}

	const basis = "art. 33 DPR 223/1989 — certificati a chiunque ne faccia richiesta, convenzione n. 12/2026"
	wide := counter(c.Stranger, ev)
	wide.Operator.Widening = basis
	wide.IdempotencyKey = "op-0001/wide"
	res, err := d.Issue(ctx, wide)
	if err != nil {
		t.Fatalf("with the agreement widened: %v", err)
	}
	es, err := d.Audit.Search(audit.Query{Subject: c.Stranger}, 10)
	if err != nil {
		t.Fatal(err)
	}
	named := false
	for _, e := range es {
		named = named || e.Request == res.Record.ID && strings.Contains(e.Purpose, basis) && strings.Contains(e.Purpose, c.Requester)
	}
	if !named {
		t.Errorf("the widened issuance's audit entry does not name the legal basis and the requester: %+v", es)
	}
	self := wide
	self.Channel, self.IdempotencyKey = certificate.SelfService, ""
	self.Evidence = issuancetest.CIETap(t, virtual.Genuine, device, issuancetest.CIENIS(t, d.Store, c.Requester, now), now, true)
	_, err = d.Issue(ctx, self)
	wantRefusal(t, "widening at self-service", err, certificate.ReasonNotRequesterHousehold)

	office := issuance.Request{SubjectCF: c.Stranger, Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk}
	if _, err := d.Issue(ctx, office); err != nil {
		t.Errorf("the registry office about anyone: %v", err)
	}
}

// TestNoOracleAtTheDesk: about a subject outside the household, every
// refusal is the same, whatever the subject is or whether it exists.
func TestNoOracleAtTheDesk(t *testing.T) {
	d, c := castDesk(t)
	ev := d.Evidence(t, c.Requester)
	var first *certificate.Refusal
	for _, subj := range []string{c.Stranger, c.Dead, c.AIRE, c.Missing, strings.ToLower(c.Missing)} {
		req := counter(subj, ev)
		req.Types = []string{"stato_libero"}
		_, err := d.Issue(context.Background(), req)
		ref := wantRefusal(t, subj, err, certificate.ReasonNotRequesterHousehold)
		if first == nil {
			first = ref
		} else if ref.Message != first.Message {
			t.Errorf("about %s: %q, about %s: %q", subj, ref.Message, c.Stranger, first.Message)
		}
		if strings.Contains(ref.Message, subj) || strings.Contains(strings.ToUpper(ref.Message), "DECEASED") {
			t.Errorf("the refusal tells about the subject: %q", ref.Message)
		}
	}
	// The audit entry of a refusal records the subject as given.
	es, err := d.Audit.Search(audit.Query{Subject: c.Missing}, 10)
	if err != nil || len(es) == 0 || !strings.Contains(es[0].Purpose, "fuori dalla famiglia anagrafica") {
		t.Errorf("refusal about a code nobody has: %v %+v", err, es)
	}
}

// TestIdentification: what identifies a requester, and that every failure
// is one answer with its cause only in the audit log.
func TestIdentification(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	nis := issuancetest.CIENIS(t, d.Store, c.Requester, now)
	tap := func(mode virtual.Mode, at time.Time) identify.Evidence {
		return issuancetest.CIETap(t, mode, device, nis, at, true)
	}
	issue := func(ev identify.Evidence, ch certificate.Channel) error {
		req := counter(c.Requester, ev)
		req.Channel = ch
		_, err := d.Issue(ctx, req)
		return err
	}
	// The payment is checked after the requester is identified (issue
	// 15): a request refused for want of it was identified.
	if err := issue(tap(virtual.Genuine, now.Add(-time.Minute)), certificate.SelfService); err != nil && !errors.Is(err, payment.ErrRequired) {
		t.Fatalf("a genuine tap with the PIN at self-service: %v", err)
	}
	// A request that waited in a kiosk's outbox within the city's offline
	// age limit (24 hours by default) still passes.
	if err := issue(tap(virtual.Genuine, now.Add(-23*time.Hour)), certificate.Counter); err != nil {
		t.Fatalf("a tap 23 hours old: %v", err)
	}

	otherDevice := tap(virtual.Genuine, now)
	otherDevice.Device = "dev-0002" // the hub takes the device from the request's signature
	noPIN := tap(virtual.Genuine, now)
	noPIN.PINProved = false
	expiredDoc := d.Evidence(t, c.Member)
	deadReq := d.Evidence(t, c.Colodger)
	err := d.Store.Update(ctx, func(w registry.Writer) error {
		p, err := w.PersonByCF(c.Member)
		if err != nil {
			return err
		}
		for i := range p.Documents {
			p.Documents[i].Revoked = true
		}
		if err := w.PutPerson(p); err != nil {
			return err
		}
		// The colodger dies, their document still valid on paper.
		if p, err = w.PersonByCF(c.Colodger); err != nil {
			return err
		}
		p.DeathDate = registry.DateOf(now.AddDate(0, -1, 0))
		return w.PutPerson(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	notTheirs := d.Evidence(t, c.Requester)
	notTheirs.CF = c.Stranger
	unknownNIS := issuancetest.CIETap(t, virtual.Genuine, device, "999999999998", now, true)

	cases := []struct {
		name  string
		ev    identify.Evidence
		ch    certificate.Channel
		cause string
	}{
		{"no evidence", identify.Evidence{}, certificate.Counter, ""},
		{"a tap for another device", otherDevice, certificate.Counter, "chip-auth-failed"},
		{"a stale tap", tap(virtual.Genuine, now.Add(-25*time.Hour)), certificate.Counter, "older than"},
		{"a tap from the future", tap(virtual.Genuine, now.Add(10*time.Minute)), certificate.Counter, "ahead of the hub's clock"},
		{"a cloned chip", tap(virtual.Cloned, now), certificate.Counter, "chip-auth-failed"},
		{"altered card data", tap(virtual.Tampered, now), certificate.Counter, "nis-hash-mismatch"},
		{"an unknown NIS", unknownNIS, certificate.Counter, "no person of the registry holds"},
		{"self-service without the PIN", noPIN, certificate.SelfService, "PIN"},
		{"document evidence at self-service", d.Evidence(t, c.Requester), certificate.SelfService, "self-service needs the CIE"},
		{"a document that is not theirs", notTheirs, certificate.Counter, "holds no document"},
		{"a dead requester", deadReq, certificate.Counter, ""},
		{"a revoked document", expiredDoc, certificate.Counter, "expired or revoked"},
		{"a document number typed wrong", func() identify.Evidence { e := expiredDoc; e.Document = "ZZ00000ZZ"; return e }(), certificate.Counter, "holds no document"},
	}
	var msg string
	var es []audit.Entry
	for _, tt := range cases {
		err := issue(tt.ev, tt.ch)
		if tt.name == "no evidence" {
			wantRefusal(t, tt.name, err, certificate.ReasonRequesterEvidenceRequired)
			continue
		}
		ref := wantRefusal(t, tt.name, err, certificate.ReasonIdentificationFailed)
		if msg == "" {
			msg = ref.Message
		} else if ref.Message != msg {
			t.Errorf("%s: %q, others: %q", tt.name, ref.Message, msg)
		}
		if ref.Err == nil || !strings.Contains(ref.Err.Error(), tt.cause) {
			t.Errorf("%s: cause %v, want it to say %q", tt.name, ref.Err, tt.cause)
		}
	}
	es, err = d.Audit.Search(audit.Query{Subject: c.Requester}, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range es {
		found = found || strings.Contains(e.Purpose, "identificazione non riuscita") && strings.Contains(e.Purpose, "older than")
	}
	if !found {
		t.Errorf("no audit entry records the stale tap's cause: %+v", es)
	}
}

// TestNoCSCANoTap: a hub with no CSCA configured identifies nobody by CIE.
func TestNoCSCANoTap(t *testing.T) {
	d, c := castDesk(t)
	d.Identify = &identify.Verifier{CSCAs: []*x509.Certificate{}}
	ev := issuancetest.CIETap(t, virtual.Genuine, device, issuancetest.CIENIS(t, d.Store, c.Requester, now), now, true)
	_, err := d.Issue(context.Background(), counter(c.Requester, ev))
	ref := wantRefusal(t, "no CSCA", err, certificate.ReasonIdentificationFailed)
	if !strings.Contains(ref.Err.Error(), "no CSCA") {
		t.Errorf("cause %v", ref.Err)
	}
}
