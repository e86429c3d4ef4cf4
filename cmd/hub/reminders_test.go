package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/notify/appio/appiotest"
	"github.com/sportello/sportello/internal/notify/mail/smtptest"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// expiringCIE finds, in the stopped hub's file, a resident whose CIE
// expires within 90 days: the demo city's cards expire on every day of
// the decade.
func expiringCIE(t *testing.T, data string) reminder.Reminder {
	t.Helper()
	s, err := bolt.Open(registryPath(data), registrybolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var found []reminder.Reminder
	err = s.View(context.Background(), func(tx store.Tx) (err error) {
		found, err = reminder.CIEExpiringSource[store.Tx]("")(tx, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("the demo city has no CIE expiring within 90 days")
	}
	return found[0]
}

// TestRemindersExactlyOnceAcrossRestart is issue 17's "reminders arrive at
// the local App IO and SMTP test servers exactly once": the hub's daily
// scan, run at start, queues the reminder of a CIE expiring within 90
// days; while both servers are unreachable it stays queued across a stop,
// the next start delivers it once on each channel, and a third start
// (whose scan finds the same card again) sends nothing more.
func TestRemindersExactlyOnceAcrossRestart(t *testing.T) {
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
	addr := freeAddr(t)
	// The demo city, seeded with notifications off: no reminder queued.
	h := startHub(t, data, addr)
	h.stop(t)
	r := expiringCIE(t, data)
	io.AddProfile(r.CF, true)
	if res := hub(t, "person", "contact", "--data", data, "--cf", r.CF, "--email", "cittadina@example.org"); res.code != 0 {
		t.Fatalf("person contact: %s", res.stderr)
	}
	// Staff record the citizen's choices: e-mail only for appointments;
	// the CIE's reminder keeps both channels. A kind that does not exist
	// is refused.
	if res := hub(t, "reminders", "set", "--data", data, "--cf", r.CF, "--kind", "appointment", "--channel", "email", "--by", "anna"); res.code != 0 {
		t.Fatalf("reminders set: %s", res.stderr)
	}
	if res := hub(t, "reminders", "set", "--data", data, "--cf", r.CF, "--kind", "birthday", "--channel", "email", "--by", "anna"); res.code == 0 || !strings.Contains(res.stderr, "birthday") {
		t.Errorf("reminders set --kind birthday: exit %d, %s", res.code, res.stderr)
	}
	show := hub(t, "reminders", "show", "--data", data, "--cf", r.CF).stdout
	if !strings.Contains(show, "appointment      email") || !strings.Contains(show, "cie-expiry       both") || !strings.Contains(show, "staff:anna") {
		t.Errorf("reminders show:\n%s", show)
	}
	list := func() string {
		var out []string
		for _, l := range strings.Split(hub(t, "notify", "list", "--data", data).stdout, "\n") {
			if strings.HasPrefix(l, r.ID()+" ") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	mineIO := func() (n int, md string) {
		for _, m := range io.Messages() {
			if m.FiscalCode == r.CF {
				n, md = n+1, m.Markdown
			}
		}
		return n, md
	}
	mineMail := func() (n int, body string) {
		for _, m := range smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == "cittadina@example.org" {
				n, body = n+1, m.Data
			}
		}
		return n, body
	}
	notifyFlags := func(appioURL, smtpAddr string) []string {
		return []string{"--appio-url", appioURL, "--appio-key-file", keyFile,
			"--smtp-addr", smtpAddr, "--smtp-from", "Comune di Milano <anagrafe@comune.example>",
			"--notify-retry", "1h"} // no retry while a hub runs: only a restart delivers
	}

	// Both servers unreachable: the scan queues the reminder, both
	// deliveries fail and wait.
	h = startHub(t, data, addr, notifyFlags("http://"+freeAddr(t), freeAddr(t))...)
	waitFor(t, "the reminder queued and its deliveries failed", h, func() bool { return strings.Count(list(), "pending") == 2 })
	h.stop(t)

	h = startHub(t, data, addr, notifyFlags(io.URL, smtp.Addr)...)
	waitFor(t, "the reminder delivered after the restart", h, func() bool {
		a, _ := mineIO()
		b, _ := mineMail()
		return a == 1 && b == 1 && strings.Count(list(), " sent ") == 2
	})
	h.stop(t)

	// A third start: its scan finds the same card and queues nothing.
	h = startHub(t, data, addr, notifyFlags(io.URL, smtp.Addr)...)
	waitFor(t, "the scan at the third start", h, func() bool { return strings.Contains(h.logs.String(), "reminder scan done") })
	logs := h.logs.String()
	h.stop(t)
	if !strings.Contains(logs, "queued=0") {
		t.Errorf("the third start's scan queued reminders again:\n%s", logs)
	}
	nIO, md := mineIO()
	nMail, body := mineMail()
	if nIO != 1 || nMail != 1 {
		t.Errorf("App IO received %d reminders, the SMTP server %d; want 1 each", nIO, nMail)
	}
	if !strings.Contains(md, "carta d'identità elettronica") || !strings.Contains(body, "carta d") {
		t.Errorf("the reminder does not speak of the identity card:\n%s\n%s", md, body)
	}
}
