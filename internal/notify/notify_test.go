package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/notify/appio"
	"github.com/sportello/sportello/internal/notify/appio/appiotest"
	"github.com/sportello/sportello/internal/notify/mail"
	"github.com/sportello/sportello/internal/notify/mail/smtptest"
	"github.com/sportello/sportello/internal/store/bolt/notifybolt"
)

const cf = "RSSMRA50B17A558W"

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type rig struct {
	io    *appiotest.Server
	smtp  *smtptest.Server
	queue *notifybolt.Store
	db    *bbolt.DB
	clk   *clock
	s     *notify.Sender
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{io: appiotest.New("the-key"), clk: &clock{time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}}
	t.Cleanup(r.io.Close)
	var err error
	if r.smtp, err = smtptest.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.smtp.Close)
	r.db, err = bbolt.Open(filepath.Join(t.TempDir(), "hub.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Close() })
	if r.queue, err = notifybolt.New(r.db); err != nil {
		t.Fatal(err)
	}
	r.io.AddProfile(cf, true)
	r.s = &notify.Sender{Queue: r.queue, Now: r.clk.now, Log: slog.New(slog.DiscardHandler), Base: time.Minute, Max: time.Hour,
		Notifiers: []notify.Notifier{
			&appio.Client{BaseURL: r.io.URL, Key: "the-key"},
			&mail.Client{Addr: r.smtp.Addr, From: "Comune di Milano <anagrafe@comune.milano.it>", Now: r.clk.now},
		}}
	return r
}

func issued() notify.Issued {
	return notify.Issued{CertificateID: "C1", Protocol: "2026/0000012", Title: "Certificato di residenza",
		Issued: time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC), SubjectCF: cf, SubjectEmail: "mario.rossi@example.org",
		RequesterName: "ROSSI ANNA", Place: "Edicola Centrale"}
}

func (r *rig) enqueue(t *testing.T, it notify.Item) {
	t.Helper()
	if err := r.db.Update(func(tx *bbolt.Tx) error { return r.queue.Enqueue(tx, it) }); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) delivery(t *testing.T, id, ch string) notify.Delivery {
	t.Helper()
	items, err := r.queue.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.ID == id {
			return it.Delivery(ch)
		}
	}
	t.Fatalf("no item %s", id)
	return notify.Delivery{}
}

func TestMessageWithinAppIOLimits(t *testing.T) {
	m := issued().Message()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"05/12/2026 alle 10:30", "ROSSI ANNA", "Edicola Centrale", "2026/0000012", "certificato di residenza"} {
		if !strings.Contains(m.Markdown, want) {
			t.Errorf("the message does not say %q:\n%s", want, m.Markdown)
		}
	}
}

// A first delivery that fails on both channels is retried after the
// backoff and then arrives once; later runs send nothing again.
func TestRetriedThenDeliveredOnce(t *testing.T) {
	r := newRig(t)
	r.io.FailNext(http.StatusServiceUnavailable)
	r.smtp.FailNext("451 4.3.0 try again later")
	r.enqueue(t, issued().Item(r.clk.t))
	r.enqueue(t, issued().Item(r.clk.t)) // the same certificate again: still one item

	if n, err := r.s.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("first run: %d sent, %v; want 0 (both servers failed)", n, err)
	}
	d := r.delivery(t, "C1", "appio")
	if d.State != notify.Pending || d.Attempts != 1 || !d.NextAt.Equal(r.clk.t.Add(time.Minute)) {
		t.Fatalf("after a 503: %+v", d)
	}
	if n, _ := r.s.RunOnce(context.Background()); n != 0 {
		t.Fatalf("sent %d before the backoff ended", n)
	}
	r.clk.t = r.clk.t.Add(time.Minute)
	if n, err := r.s.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("second run: %d sent, %v; want 2", n, err)
	}
	r.clk.t = r.clk.t.Add(24 * time.Hour)
	if n, _ := r.s.RunOnce(context.Background()); n != 0 {
		t.Fatalf("resent %d delivered notifications", n)
	}
	msgs := r.io.Messages()
	if len(msgs) != 1 || msgs[0].FiscalCode != cf {
		t.Fatalf("App IO received %+v", msgs)
	}
	if d := r.delivery(t, "C1", "appio"); d.State != notify.Sent || d.Receipt != msgs[0].ID {
		t.Fatalf("App IO delivery %+v, want sent with id %s", d, msgs[0].ID)
	}
	mails := r.smtp.Messages()
	if len(mails) != 1 || mails[0].To[0] != "mario.rossi@example.org" || !strings.Contains(mails[0].Data, "Subject: Rilasciato un certificato che la riguarda") {
		t.Fatalf("SMTP received %+v", mails)
	}
	if !strings.Contains(mails[0].Data, "ROSSI ANNA") {
		t.Fatalf("the e-mail does not carry the text:\n%s", mails[0].Data)
	}
	// Delivered everywhere: the queue keeps the outcome, not the text.
	items, _ := r.queue.List()
	if m := items[0].Message; m.Markdown != "" || m.Email != "" || m.CF != cf {
		t.Errorf("the settled item keeps %+v", m)
	}
}

// A refusal for the message's shape (400) or the key (401) is permanent:
// recorded as failed and not retried; 429 and 5xx are retried.
func TestPermanentRefusalNotRetried(t *testing.T) {
	r := newRig(t)
	r.io.FailNext(http.StatusTooManyRequests, http.StatusBadRequest)
	r.smtp.FailNext("554 5.7.1 rejected")
	r.enqueue(t, issued().Item(r.clk.t))
	r.s.RunOnce(context.Background())
	if d := r.delivery(t, "C1", "appio"); d.State != notify.Pending {
		t.Fatalf("after 429: %+v, want pending", d)
	}
	if d := r.delivery(t, "C1", "email"); d.State != notify.Failed || !strings.Contains(d.LastError, "554") {
		t.Fatalf("after 554: %+v, want failed", d)
	}
	r.clk.t = r.clk.t.Add(time.Hour)
	r.s.RunOnce(context.Background())
	d := r.delivery(t, "C1", "appio")
	if d.State != notify.Failed || d.Attempts != 2 || !strings.Contains(d.LastError, "400") {
		t.Fatalf("after 400: %+v, want failed after 2 attempts", d)
	}
	r.clk.t = r.clk.t.Add(24 * time.Hour)
	r.s.RunOnce(context.Background())
	if d := r.delivery(t, "C1", "appio"); d.Attempts != 2 {
		t.Fatalf("a permanent failure was tried again: %+v", d)
	}
	if len(r.io.Messages())+len(r.smtp.Messages()) != 0 {
		t.Fatal("a refused message was recorded as received")
	}
}

// A citizen not on App IO, or with no e-mail, is skipped on that channel.
func TestNoRecipientSkipped(t *testing.T) {
	r := newRig(t)
	is := issued()
	is.SubjectCF, is.SubjectEmail = "CCCFBA85D03L219P", ""
	r.enqueue(t, is.Item(r.clk.t))
	if n, err := r.s.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("%d sent, %v", n, err)
	}
	for _, ch := range []string{"appio", "email"} {
		if d := r.delivery(t, "C1", ch); d.State != notify.Skipped {
			t.Errorf("%s: %+v, want skipped", ch, d)
		}
	}
}

// A delivery found "sending" (the hub stopped mid-send) is sent again once
// its lease has passed: never lost, and not taken from a hub still
// sending it.
func TestSendingAtStartResent(t *testing.T) {
	r := newRig(t)
	r.enqueue(t, issued().Item(r.clk.t))
	lease := r.clk.t.Add(time.Hour)
	for _, ch := range []string{"appio", "email"} {
		if err := r.queue.Mark("C1", ch, notify.Delivery{State: notify.Sending, Attempts: 1, NextAt: lease}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := r.s.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("%d sent within the lease, %v; want 0", n, err)
	}
	// A hub whose clock is ahead of the one that took the lease, by less
	// than the clocks may disagree, still leaves it.
	r.clk.t = lease.Add(notify.MaxClockSkew - time.Second)
	if n, err := r.s.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("%d sent just past the lease, within the clocks' skew, %v; want 0", n, err)
	}
	r.clk.t = lease.Add(notify.MaxClockSkew)
	if n, err := r.s.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("%d sent, %v; want 2", n, err)
	}
}

// Two senders on one queue (two hubs on one database) that read the same
// due delivery send it once: the claim is a compare-and-set.
func TestClaimOnce(t *testing.T) {
	r := newRig(t)
	r.enqueue(t, issued().Item(r.clk.t))
	seen := notify.Delivery{State: notify.Pending}
	claim := notify.Delivery{State: notify.Sending, Attempts: 1, NextAt: r.clk.t.Add(time.Minute)}
	if won, err := r.queue.Claim("C1", "appio", seen, claim); err != nil || !won {
		t.Fatalf("first claim: %v %v", won, err)
	}
	if won, err := r.queue.Claim("C1", "appio", seen, claim); err != nil || won {
		t.Fatalf("second claim of the same delivery: %v %v, want lost", won, err)
	}
	if _, err := r.queue.Claim("C9", "appio", seen, claim); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("claim of an unknown item: %v", err)
	}
}

// The App IO stand-in refuses what the real API refuses: a wrong key (401)
// and a message outside the length limits (400).
func TestAppIODoubleRefusesBadRequests(t *testing.T) {
	r := newRig(t)
	bad := &appio.Client{BaseURL: r.io.URL, Key: "wrong"}
	_, err := bad.Send(context.Background(), issued().Message())
	var ref *notify.Refused
	if !asRefused(err, &ref) || ref.Code != http.StatusUnauthorized || !ref.Permanent {
		t.Fatalf("wrong key: %v", err)
	}
	for _, body := range []string{
		`{"fiscal_code":"` + cf + `","content":{"subject":"short","markdown":"` + strings.Repeat("x", 100) + `"}}`,
		`{"fiscal_code":"` + cf + `","content":{"subject":"long enough subject","markdown":"too short"}}`,
		`{"fiscal_code":"not-a-cf","content":{"subject":"long enough subject","markdown":"` + strings.Repeat("x", 100) + `"}}`,
		`{"fiscal_code":"` + cf + `"}`,
	} {
		req, _ := http.NewRequest("POST", r.io.URL+"/api/v1/messages", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(appio.KeyHeader, "the-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", body, resp.StatusCode)
		}
	}
	if len(r.io.Messages()) != 0 {
		t.Fatal("a bad message was accepted")
	}
}

func asRefused(err error, ref **notify.Refused) bool {
	return errors.As(err, ref)
}

// Run's first pass, at the hub's start, tries deliveries still waiting out
// their backoff; it stops when ctx ends.
func TestRunStartsWithEveryPendingDelivery(t *testing.T) {
	r := newRig(t)
	r.io.FailNext(http.StatusServiceUnavailable)
	r.smtp.FailNext("451 4.3.0 try again later")
	r.enqueue(t, issued().Item(r.clk.t))
	r.s.RunOnce(context.Background())
	if d := r.delivery(t, "C1", "appio"); d.State != notify.Pending || !d.NextAt.After(r.clk.t) {
		t.Fatalf("after a failure: %+v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.s.Run(ctx, nil, func() (time.Time, bool) { cancel(); return time.Time{}, false })
	}()
	<-done
	if len(r.io.Messages()) != 1 || len(r.smtp.Messages()) != 1 {
		t.Fatalf("start pass delivered %d App IO and %d e-mail messages, want 1 and 1", len(r.io.Messages()), len(r.smtp.Messages()))
	}
}

// A notification past its Expires (an appointment's reminder once the
// appointment began: the hub was stopped until then) is skipped on every
// channel, not sent late; one still within it goes out.
func TestExpiredNotSentLate(t *testing.T) {
	r := newRig(t)
	late := issued().Item(r.clk.t)
	late.ID, late.Expires = "late", r.clk.t.Add(time.Hour)
	timely := issued().Item(r.clk.t)
	timely.ID, timely.Expires = "timely", r.clk.t.Add(3*time.Hour)
	r.enqueue(t, late)
	r.enqueue(t, timely)
	r.clk.t = r.clk.t.Add(2 * time.Hour)
	if n, err := r.s.RunOnce(context.Background()); err != nil || n != 2 {
		t.Fatalf("sent %d (%v); want 2, the timely one on both channels", n, err)
	}
	for _, ch := range []string{"appio", "email"} {
		if d := r.delivery(t, "late", ch); d.State != notify.Skipped || d.LastError != notify.ExpiredNote {
			t.Errorf("the expired one on %s: %+v", ch, d)
		}
		if d := r.delivery(t, "timely", ch); d.State != notify.Sent {
			t.Errorf("the timely one on %s: %+v", ch, d)
		}
	}
	if got := len(r.io.Messages()); got != 1 {
		t.Errorf("App IO received %d messages, want 1", got)
	}
}
