package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/notify/appio/appiotest"
	"github.com/sportello/sportello/internal/notify/mail/smtptest"
	"github.com/sportello/sportello/internal/registry"
)

// householdOf finds, through the running hub, a living resident with a
// valid identity document (the requester at the counter) and another living
// member of their famiglia anagrafica (the subject).
func householdOf(t *testing.T, data string) (requester, subject *registry.Person, ev *api.RequesterEvidence) {
	t.Helper()
	today := registry.DateOf(time.Now())
	usable := func(p *registry.Person) bool {
		_, res := p.CurrentResidence()
		return p.Alive() && res && !p.AIRE && !p.PartlyCertifiable
	}
	list := hub(t, "person", "list", "--data", data, "--limit", "200")
	for _, line := range strings.Split(strings.TrimSpace(list.stdout), "\n") {
		var rec struct {
			Person  registry.Person    `json:"person"`
			Family  *registry.Family   `json:"family"`
			Members []*registry.Person `json:"members"`
		}
		show := hub(t, "person", "show", "--data", data, "--cf", strings.Fields(line)[0], "--json")
		if json.Unmarshal([]byte(show.stdout), &rec) != nil || rec.Family == nil || rec.Family.Kind != registry.Famiglia || !usable(&rec.Person) {
			continue
		}
		d, ok := rec.Person.ValidDocument(today)
		if !ok {
			continue
		}
		for _, m := range rec.Members {
			if m.CF != rec.Person.CF && usable(m) {
				return &rec.Person, m, &api.RequesterEvidence{Method: api.EvidenceDocument, CF: rec.Person.CF, Document: d.Number}
			}
		}
	}
	t.Fatalf("no household of two residents, one with a valid document, among: %s", list.stdout)
	return nil, nil, nil
}

// waitFor polls cond until it holds; the hub delivers in the background.
func waitFor(t *testing.T, what string, h *runningHub, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s\nhub log:\n%s", what, h.logs.String())
		}
	}
}

// TestNotificationsExactlyOnceAcrossRestart is issue 13's "App IO and SMTP
// notifications arrive at the local test servers exactly once across a hub
// restart": a shop's enrolled kiosk issues, through the signed API, a
// certificate about a household member of the requester it identified by
// their document; the notice's first
// delivery fails on both channels, the hub stops and starts again, and each
// server then holds the message once; a further restart sends nothing again,
// and a message App IO refuses for its shape is recorded as failed for staff
// rather than retried.
func TestNotificationsExactlyOnceAcrossRestart(t *testing.T) {
	io := appiotest.New("service-key")
	defer io.Close()
	smtp, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()

	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "appio.key")
	if err := os.WriteFile(keyFile, []byte("service-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The same address each time: the enrolled kiosk signs for it.
	addr := freeAddr(t)
	flags := []string{"--appio-url", io.URL, "--appio-key-file", keyFile,
		"--smtp-addr", smtp.Addr, "--smtp-from", "Comune di Milano <anagrafe@comune.example>",
		"--notify-retry", "1h", // no retry while the first hub runs: only the restart delivers
		"--reminders=false"} // the demo's scheduled reminders would take the servers' first failures

	io.FailNext(http.StatusServiceUnavailable)
	smtp.FailNext("451 4.3.0 mailbox busy, try later")
	h := startHub(t, data, addr, flags...)
	requester, subject, ev := householdOf(t, data)
	io.AddProfile(subject.CF, true)
	if r := hub(t, "person", "contact", "--data", data, "--cf", subject.CF, "--email", "subject@example.org"); r.code != 0 {
		t.Fatalf("person contact: %s", r.stderr)
	}
	// A shop's kiosk, enrolled with the demo's code, issues at the
	// counter a certificate about the subject to the requester, who shows
	// their identity document: the shop path of issue 13.
	ctx := t.Context()
	kiosk := &hubclient.Client{}
	if _, err := kiosk.Enrol(ctx, h.URL, h.Code, "Cassa", hubclient.EnrolOptions{HubCAPEM: h.CAPEM(t)}); err != nil {
		t.Fatalf("enrol: %v", err)
	}
	logInClerk(t, ctx, kiosk, data)
	n := 0
	issue := func() {
		t.Helper()
		n++
		req := hubclient.CertificateRequest{CF: subject.CF, Types: []string{"residenza"}, Requester: ev, IdempotencyKey: fmt.Sprintf("notify-%d", n)}
		if _, err := kiosk.IssueCertificate(ctx, req); err != nil {
			t.Fatalf("issue: %v\n%s", err, h.logs.String())
		}
	}
	issue()
	// What staff see of the subject's notices (the demo's own certificates
	// may queue others).
	list := func() string {
		var out []string
		for _, l := range strings.Split(hub(t, "notify", "list", "--data", data).stdout, "\n") {
			if strings.Contains(l, subject.CF) {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	mine := func(ms []appiotest.Message) (out []appiotest.Message) {
		for _, m := range ms {
			if m.FiscalCode == subject.CF {
				out = append(out, m)
			}
		}
		return out
	}
	waitFor(t, "the first deliveries to fail", h, func() bool { return strings.Count(list(), "pending") == 2 })
	h.stop(t)
	if len(mine(io.Messages()))+len(smtp.Messages()) != 0 {
		t.Fatal("a failed delivery was recorded as received")
	}

	h = startHub(t, data, addr, flags...)
	waitFor(t, "delivery after the restart", h, func() bool { return len(mine(io.Messages())) == 1 && len(smtp.Messages()) == 1 })
	waitFor(t, "both deliveries marked sent", h, func() bool { return strings.Count(list(), " sent ") == 2 })
	h.stop(t)

	// Started again, the hub sends nothing it sent before; a second
	// certificate's notice shows the start pass has run. App IO refuses
	// that one for its shape (400): failed, for staff, not retried.
	io.FailNext(http.StatusBadRequest)
	h = startHub(t, data, addr, flags...)
	issue()
	waitFor(t, "the second notice", h, func() bool { return len(smtp.Messages()) == 2 && strings.Contains(list(), "failed") })
	out := list()
	h.stop(t)
	if n := len(mine(io.Messages())); n != 1 {
		t.Errorf("App IO received %d messages for the subject, want 1", n)
	}
	if n := len(smtp.Messages()); n != 2 {
		t.Errorf("the SMTP server received %d messages, want 2", n)
	}
	m := mine(io.Messages())[0]
	if m.FiscalCode != subject.CF || !strings.Contains(m.Markdown, requester.FullName()) {
		t.Errorf("App IO message %+v", m)
	}
	mail := smtp.Messages()[0]
	if mail.To[0] != "subject@example.org" || !strings.Contains(mail.Data, requester.FullName()) {
		t.Errorf("e-mail %+v", mail)
	}
	if !strings.Contains(out, "failed") || !strings.Contains(out, "400") {
		t.Errorf("hub notify list does not show the refused message:\n%s", out)
	}
}
