package main

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// TestProtocolExportClosesPastDays: exporting a day that is over closes
// it, and every later export gives the same bytes; today's register is
// exported as it stands and the day stays open, so issuance goes on.
func TestProtocolExportClosesPastDays(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "30"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	today := protocol.DayOf(time.Now())
	yesterday := protocol.DayOf(today.Start().Add(-time.Hour))
	sha := regexp.MustCompile(`sha-256 ([0-9a-f]{64})`)
	out := filepath.Join(t.TempDir(), "register.csv")
	first := hub(t, "protocol", "export", "--data", data, "--day", yesterday.String(), "--out", out)
	if first.code != 0 || !strings.Contains(first.stdout, "is closed") || sha.FindString(first.stdout) == "" {
		t.Fatalf("export of yesterday: exit %d\n%s%s", first.code, first.stdout, first.stderr)
	}
	again := hub(t, "protocol", "export", "--data", data, "--day", yesterday.String())
	if again.code != 0 || sha.FindString(again.stderr) != sha.FindString(first.stdout) || !strings.Contains(again.stderr, "is closed") {
		t.Errorf("second export of the closed day: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	open := hub(t, "protocol", "export", "--data", data, "--day", today.String())
	if open.code != 0 || !strings.Contains(open.stderr, "provisional") {
		t.Errorf("export of today: exit %d\n%s", open.code, open.stderr)
	}
	cf := strings.Fields(hub(t, "person", "list", "--data", data, "--limit", "1").stdout)[0]
	r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--out", filepath.Join(t.TempDir(), "c.pdf"))
	if r.code != 0 || !strings.Contains(r.stdout, "/0000001") {
		t.Errorf("issuance after the exports: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestProtocolExportRecordsRecovery: numbers a stopped hub left reserved
// below a registered one are annulled when a command next opens the file,
// and each annulment is in the audit log.
func TestProtocolExportRecordsRecovery(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "10"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	// A hub reserves two numbers, registers the second and stops.
	ctx := context.Background()
	s, err := bolt.Open(registryPath(data), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, _, err := s.Numbering().Reserve(ctx, now, protocol.Register{}); err != nil {
		t.Fatal(err)
	}
	n2, at2, err := s.Numbering().Reserve(ctx, now, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	e := protocol.Entry{Number: n2, Time: at2, Direction: protocol.Outgoing, Correspondent: "RSSMRA50B17A558W", Subject: "prova",
		DocType: "certificato anagrafico", DocSHA256: sha256.Sum256([]byte("prova")), Ref: "c2"}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Protocol().Write(e) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r := hub(t, "protocol", "export", "--data", data, "--day", protocol.DayOf(at2).String())
	if r.code != 0 || !strings.Contains(r.stdout, "annullato") || !strings.Contains(r.stdout, protocol.ReasonRecovered) {
		t.Fatalf("export after the stop: exit %d, want number 1 annulled\n%s%s", r.code, r.stdout, r.stderr)
	}
	a := hub(t, "audit", "search", "--data", data, "--actor", "system:protocollo", "--json")
	if a.code != 0 || !strings.Contains(a.stdout, protocol.Number{Year: n2.Year, Seq: 1}.String()) {
		t.Fatalf("audit search: exit %d, want the annulment of number 1\n%s%s", a.code, a.stdout, a.stderr)
	}
}
