package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/notify/appio/appiotest"
	"github.com/sportello/sportello/internal/notify/mail/smtptest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/bolt"
)

// householdOf finds, in a seeded registry no hub holds, two living
// residents of one famiglia anagrafica.
func householdOf(t *testing.T, data string) (requester, subject *registry.Person) {
	t.Helper()
	st, err := bolt.Open(registryPath(data), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ok := func(p *registry.Person) bool {
		_, res := p.CurrentResidence()
		return p.Alive() && res && !p.AIRE && !p.PartlyCertifiable
	}
	err = st.View(context.Background(), func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if p.Family == 0 || !ok(p) {
				return true, nil
			}
			ms, err := r.Members(p.Family)
			if err != nil {
				return false, err
			}
			for _, m := range ms {
				if m.ID != p.ID && ok(m) {
					requester, subject = p, m
					return false, nil
				}
			}
			return true, nil
		})
	})
	if err != nil || subject == nil {
		t.Fatalf("no household of two residents: %v", err)
	}
	return requester, subject
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
// restart": a certificate about a household member is issued, its first
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
	if r := hub(t, "seed", "--data", data, "--persons", "300"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	requester, subject := householdOf(t, data)
	io.AddProfile(subject.CF, true)
	keyFile := filepath.Join(t.TempDir(), "appio.key")
	if err := os.WriteFile(keyFile, []byte("service-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--data", data, "--addr", "127.0.0.1:0", "--insecure-plain-http",
		"--appio-url", io.URL, "--appio-key-file", keyFile,
		"--smtp-addr", smtp.Addr, "--smtp-from", "Comune di Milano <anagrafe@comune.example>",
		"--notify-retry", "1h"} // no retry while the first hub runs: only the restart delivers

	io.FailNext(http.StatusServiceUnavailable)
	smtp.FailNext("451 4.3.0 mailbox busy, try later")
	h := startServe(t, args...)
	if r := hub(t, "person", "contact", "--data", data, "--cf", subject.CF, "--email", "subject@example.org"); r.code != 0 {
		t.Fatalf("person contact: %s", r.stderr)
	}
	issue := func() {
		t.Helper()
		r := hub(t, "certificate", "issue", "--data", data, "--cf", subject.CF, "--requester", requester.CF, "--type", "residenza",
			"--out", filepath.Join(t.TempDir(), "c.pdf"))
		if r.code != 0 {
			t.Fatalf("certificate issue: %s", r.stderr)
		}
	}
	issue()
	list := func() string { return hub(t, "notify", "list", "--data", data).stdout }
	waitFor(t, "the first deliveries to fail", h, func() bool { return strings.Count(list(), "pending") == 2 })
	h.stop(t)
	if len(io.Messages())+len(smtp.Messages()) != 0 {
		t.Fatal("a failed delivery was recorded as received")
	}

	h = startServe(t, args...)
	waitFor(t, "delivery after the restart", h, func() bool { return len(io.Messages()) == 1 && len(smtp.Messages()) == 1 })
	waitFor(t, "both deliveries marked sent", h, func() bool { return strings.Count(list(), " sent ") == 2 })
	h.stop(t)

	// Started again, the hub sends nothing it sent before; a second
	// certificate's notice shows the start pass has run. App IO refuses
	// that one for its shape (400): failed, for staff, not retried.
	io.FailNext(http.StatusBadRequest)
	h = startServe(t, args...)
	issue()
	waitFor(t, "the second notice", h, func() bool { return len(smtp.Messages()) == 2 && strings.Contains(list(), "failed") })
	out := list()
	h.stop(t)
	if n := len(io.Messages()); n != 1 {
		t.Errorf("App IO received %d messages, want 1", n)
	}
	if n := len(smtp.Messages()); n != 2 {
		t.Errorf("the SMTP server received %d messages, want 2", n)
	}
	m := io.Messages()[0]
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
