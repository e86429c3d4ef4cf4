package kiosk

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
)

// tapReader is a card reader holding one virtual CIE: each tap is the
// chip's real answer over the device's challenge, which the hub verifies.
type tapReader struct {
	t    *testing.T
	nis  string
	mode virtual.Mode
}

func (r tapReader) ReadCard(context.Context) (*api.RequesterEvidence, error) {
	return issuancetest.API(issuancetest.CIETap(r.t, r.mode, "dev-1", r.nis, testNow, false)), nil
}
func (tapReader) VerifyPIN(context.Context, string) error { return nil }
func (tapReader) Status(context.Context) string           { return "" }

// Issue 13's "a citizen at the self-service kiosk sees the reads and
// certificates about them", through the signed client against the hub's
// real handler: after the CIE and its PIN the kiosk shows the shop's read
// of their record and the certificate issued about them, newest first, with
// the look-up itself on top; a cloned card sees nothing.
func TestSelfServiceAccessLogThroughHub(t *testing.T) {
	ctx := context.Background()
	h := newRealHub(t)
	device := audit.Actor{Kind: audit.Device, ID: "dev-1"}
	if err := h.desk.Audit.Record(ctx, audit.Entry{Time: testNow.Add(-time.Hour), Actor: device, Purpose: "identificazione del richiedente",
		Subject: h.who.CF, Data: "nome, data di nascita, famiglia anagrafica", Channel: "counter", Clerk: audit.Clerk{ID: "clk-1", Name: "Luca Verdi"}}); err != nil {
		t.Fatal(err)
	}
	res, err := h.desk.Issue(ctx, issuance.Request{SubjectCF: h.who.CF, Evidence: h.desk.Evidence(t, h.who.CF), Types: []string{"residenza"},
		Channel: certificate.Counter, Operator: issuance.Operator{ID: "op-1"}, Actor: device, IdempotencyKey: "op-1/k1"})
	if err != nil {
		t.Fatal(err)
	}
	kioskFor := func(mode virtual.Mode) *Flow {
		r := newRig(t, SelfService)
		f, err := New(Config{Mode: SelfService, Shop: "Postazione Municipio 1"},
			Deps{Hub: h.hub, Reader: tapReader{t, h.cie.NIS, mode}, Printers: r.prn, Outbox: r.out, Clock: r.clock})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := kioskFor(virtual.Genuine)
	if err := f.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.EnterPIN(ctx, "12345678"); err != nil {
		t.Fatal(err)
	}
	if err := f.ShowAccessLog(ctx); err != nil {
		t.Fatal(err)
	}
	v := f.View()
	if v.Step != StepAccessLog || v.AccessLog == nil {
		t.Fatalf("step %s, log %+v, problem %v", v.Step, v.AccessLog, v.Problem)
	}
	l := v.AccessLog
	var kinds []string
	for _, ln := range l.Lines {
		kinds = append(kinds, ln.Kind)
	}
	// The look-up the kiosk made to identify the citizen is a read too.
	if l.CF != h.who.CF || len(kinds) < 3 || kinds[0] != "access_log" {
		t.Fatalf("log of %s: %v", l.CF, kinds)
	}
	var cert, read *api.AccessLine
	for i := range l.Lines {
		switch ln := &l.Lines[i]; {
		case ln.Kind == "certificate" && cert == nil:
			cert = ln
		case ln.Kind == "read" && ln.Clerk == "Luca Verdi":
			read = ln
		}
	}
	if cert == nil || cert.Reference != res.Record.Protocol || cert.What != "certificato di residenza" {
		t.Errorf("certificate line %+v", cert)
	}
	if read == nil || read.What != "nome, data di nascita, famiglia anagrafica" {
		t.Errorf("the shop's read with its clerk is not shown: %+v", l.Lines)
	}

	// A cloned card's tap, PIN or not, shows no one's log: the hub checks
	// the chip's answer itself.
	cloned := issuancetest.API(issuancetest.CIETap(t, virtual.Cloned, "dev-1", h.cie.NIS, testNow, true))
	_, err = h.hub.AccessLog(ctx, api.AccessLogRequest{Requester: *cloned, Channel: api.ChannelSelfService, Page: 1, PageSize: 10})
	var ref *Refusal
	if !errors.As(err, &ref) || ref.Reason != api.ReasonIdentificationFailed {
		t.Fatalf("a cloned card's tap: %v", err)
	}
}
