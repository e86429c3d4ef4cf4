package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/protocol"
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
