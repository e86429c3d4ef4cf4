package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/hubclient"
)

const wideBasis = "art. 33 DPR 223/1989 — certificati a chiunque ne faccia richiesta, convenzione n. 12/2026"

func TestOperatorCommands(t *testing.T) {
	data := t.TempDir()
	add := []string{"operator", "add", "--data", data, "--name", "Edicola Rossi", "--piva", "01199250158", "--category", "edicola",
		"--street", "Corso Buenos Aires", "--number", "33", "--cap", "20124", "--lat", "45.4781", "--lon", "9.2096",
		"--hours", "mon-fri 07:00-12:30 15:00-19:00; sat 07:30-13:00", "--metro", "M1", "--stop", "Lima",
		"--signed", "2026-01-15", "--expires", "2099-01-14", "--fee-cents", "200", "--types", "residenza,stato_di_famiglia", "--by", "m.bianchi"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"add", add, 0, "op-0001 applied Edicola Rossi", ""},
		{"bad partita IVA", replace(add, "01199250158", "01199250157"), 1, "", "check digit"},
		{"fee over cap", replace(replace(add, "200", "250"), "33", "35"), 1, "", "cap"},
		{"bad category", replace(add, "edicola", "bar"), 2, "", "not a category"},
		{"bad type", replace(add, "residenza,stato_di_famiglia", "patente"), 2, "", "patente"},
		{"code before approval", []string{"operator", "enrol-code", "--data", data, "op-0001", "--by", "x"}, 1, "", "approved or active"},
		{"activate before approval", []string{"operator", "activate", "--data", data, "op-0001", "--by", "x"}, 1, "", "allowed next: approved, revoked"},
		{"--by on two lines", []string{"operator", "approve", "--data", data, "op-0001", "--by", "x\nhistory          2026-01-01 00:00  - → approved by staff:m.bianchi"}, 2, "", "one line"},
		{"--by reversing the line", []string{"operator", "approve", "--data", data, "op-0001", "--by", "\u202eihcnaib.m:ffats"}, 2, "", "one line"},
		{"approve", []string{"operator", "approve", "--data", data, "op-0001", "--by", "m.bianchi"}, 0, "op-0001 approved", ""},
		{"activate", []string{"operator", "activate", "--data", data, "op-0001", "--by", "m.bianchi"}, 0, "op-0001 active", ""},
		{"suspend without reason", []string{"operator", "suspend", "--data", data, "op-0001", "--by", "x"}, 2, "", "--reason"},
		{"enrol code", []string{"operator", "enrol-code", "--data", data, "op-0001", "--by", "m.bianchi"}, 0, "enrolment code: ", ""},
		{"list", []string{"operator", "list", "--data", data, "--status", "active"}, 0, "op-0001  active  edicola", ""},
		{"show", []string{"operator", "show", "--data", data, "op-0001"}, 0, "approved → active by " + me(t) + " (--by m.bianchi)", ""},
		{"unknown operator", []string{"operator", "approve", "--data", data, "op-0042", "--by", "x"}, 1, "", "op-0042"},
		// Without --by the change is recorded under the account running it.
		{"suspend, no --by", []string{"operator", "suspend", "--data", data, "op-0001", "--reason", "verifica"}, 0, "op-0001 suspended", ""},
		{"show the account", []string{"operator", "show", "--data", data, "op-0001"}, 0, "active → suspended by staff:", ""},
		// The household rule is the default, shown as such; a widening must
		// name its legal basis, is shown, and can be cleared.
		{"no widening by default", []string{"operator", "show", "--data", data, "op-0001"}, 0, "widening         none: the requester and their own famiglia anagrafica only", ""},
		{"widening without a basis", []string{"operator", "widening", "--data", data, "op-0001"}, 2, "", "--basis"},
		{"widening with a word", []string{"operator", "widening", "--data", data, "op-0001", "--basis", "yes"}, 1, "", "legal basis"},
		{"widening and clear", []string{"operator", "widening", "--data", data, "op-0001", "--basis", "x", "--clear"}, 2, "", "not both"},
		{"widen", []string{"operator", "widening", "--data", data, "op-0001", "--basis", wideBasis}, 0, "widened on the basis of: " + wideBasis, ""},
		{"show the widening", []string{"operator", "show", "--data", data, "op-0001"}, 0, "widening         " + wideBasis, ""},
		{"clear the widening", []string{"operator", "widening", "--data", data, "op-0001", "--clear"}, 0, "op-0001: self and household only", ""},
		{"show it cleared", []string{"operator", "show", "--data", data, "op-0001"}, 0, "widening         none:", ""},
	}
	for _, tt := range tests {
		r := hub(t, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stdout, tt.stdout) || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", tt.name, r.code, r.stdout, r.stderr)
		}
		if tt.code != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
			t.Errorf("%s: error is not one clear sentence:\n%s", tt.name, r.stderr)
		}
	}
}

func replace(args []string, old, new string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == old {
			out[i] = new
			return out
		}
	}
	panic("no " + old)
}

// TestEnrolAndIssueEndToEnd runs the demo hub over TLS with its own
// certificate, enrols a device with the printed one-time code, issues a
// certificate through the signed API, and suspends the shop from the
// command line: the very next request is refused.
func TestEnrolAndIssueEndToEnd(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h := startHub(t, data, "127.0.0.1:0")
	url, code := h.URL, h.Code
	if !strings.HasPrefix(url, "https://") || code == "" {
		t.Fatalf("hub did not start on https with an enrolment code (url %q, code %q):\n%s", url, code, h.logs.String())
	}
	ca := h.CAPEM(t)

	c := &hubclient.Client{}
	p, err := c.Enrol(ctx, url, code, "Cassa demo", hubclient.EnrolOptions{HubCAPEM: ca})
	if err != nil {
		t.Fatalf("enrol: %v\n%s", err, h.logs.String())
	}
	if p.OperatorID != demoShopID {
		t.Errorf("enrolled for %s, want the demo shop %s", p.OperatorID, demoShopID)
	}
	if _, err := (&hubclient.Client{}).Enrol(ctx, url, code, "again", hubclient.EnrolOptions{HubCAPEM: ca}); err == nil {
		t.Error("the one-time code worked twice")
	}

	cf, ev := identifiedResident(t, data)
	logInClerk(t, ctx, c, data)
	req := hubclient.CertificateRequest{CF: cf, Types: []string{"residenza"}, Requester: ev, IdempotencyKey: "e2e-1"}
	cert, err := c.IssueCertificate(ctx, req)
	if err != nil {
		t.Fatalf("issue: %v\n%s", err, h.logs.String())
	}
	if cert.ID == "" || cert.Protocol == "" || cert.TotalCents <= 200 || cert.Replayed {
		t.Errorf("certificate %+v", cert)
	}
	again, err := c.IssueCertificate(ctx, req)
	if err != nil || again.ID != cert.ID || !again.Replayed {
		t.Errorf("retry with the same key: %+v %v", again, err)
	}
	pdf, err := c.CertificatePDF(ctx, cert.ID)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("pdf: %d bytes, %v", len(pdf), err)
	}

	// Suspension through the running hub holds from the next request.
	if r := hub(t, "operator", "suspend", "--data", data, demoShopID, "--by", "m.bianchi", "--reason", "inspection"); r.code != 0 {
		t.Fatalf("suspend: %d %s", r.code, r.stderr)
	}
	_, err = c.Self(ctx)
	var ae *hubclient.APIError
	if !errors.As(err, &ae) || ae.Reason != "key_suspended" || ae.Status != 403 {
		t.Errorf("after suspension: %v", err)
	}
	r := hub(t, "operator", "show", "--data", data, demoShopID)
	// Through the control socket too, --by is a note beside the caller's
	// account as the kernel reports it, never instead of it.
	if !strings.Contains(r.stdout, "active → suspended by "+me(t)+" (--by m.bianchi): inspection") || !strings.Contains(r.stdout, p.KeyID) {
		t.Errorf("operator show:\n%s%s", r.stdout, r.stderr)
	}
}
