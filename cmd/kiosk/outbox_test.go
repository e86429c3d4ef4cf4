package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/outbox"
)

// TestOutboxCommands: the operator sees what waits for the hub and what was
// set aside, with the hub's reason, and puts a set-aside sale back or drops
// it; the limits in force are shown.
func TestOutboxCommands(t *testing.T) {
	const pass = "una passphrase di prova"
	dir, keys := sealedProfile(t, pass)
	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{Key: keys.Outbox})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"bad-cf", "good"} {
		if _, err := ob.Enqueue(ctx, outbox.Op{Kind: "certificate.request", IdempotencyKey: k, Payload: []byte(k), PersonalData: true, AmountCents: 1852}); err != nil {
			t.Fatal(err)
		}
	}
	hubDown := outbox.DelivererFunc(func(_ context.Context, e outbox.Entry) (outbox.Result, error) {
		if e.IdempotencyKey == "bad-cf" {
			return outbox.Result{}, outbox.ClassifyHTTP(422, 0, "invalid_cf", `the subject's codice fiscale "RSSMRA50B17F205X" is not valid`)
		}
		return outbox.Result{}, outbox.ClassifyHTTP(503, 0, "unavailable", "try later")
	})
	if _, err := ob.NewSender(hubDown, outbox.SenderOptions{}).Drain(ctx); err == nil {
		t.Fatal("the drain did not stop at the unavailable hub")
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runKioskIn(t, pass, append(args, "--profile", dir, "--secret-stdin")...)
	}
	code, out, errs := run("outbox", "list")
	for _, want := range []string{"offline limits: 50,00 EUR a sale, 500,00 EUR in all, 100 sales, 24h0m0s",
		"1 sales waiting for the hub, 18,52 EUR", "unavailable", "1 sales set aside", "refused by the hub", "invalid_cf", "RSSMRA50B17F205X"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("outbox list: exit %d, no %q in\n%s%s", code, want, out, errs)
		}
	}
	if code, _, errs := run("outbox", "dismiss", "--id", "2"); code != 1 || !strings.Contains(errs, "not among the refused") {
		t.Errorf("dismissing a waiting sale: exit %d: %s", code, errs)
	}
	if code, _, errs := run("outbox", "requeue", "--id", "x"); code != 2 || !strings.Contains(errs, "--id") {
		t.Errorf("a bad id: exit %d: %s", code, errs)
	}
	if code, out, errs := run("outbox", "requeue", "--id", "1"); code != 0 || !strings.Contains(out, "sale 1 back in the queue") {
		t.Errorf("requeue: exit %d: %s%s", code, out, errs)
	}
	if _, out, _ := run("outbox", "list"); !strings.Contains(out, "2 sales waiting for the hub, 37,04 EUR") || !strings.Contains(out, "no sales set aside") {
		t.Errorf("after the requeue:\n%s", out)
	}
}
