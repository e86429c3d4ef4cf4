package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoCertificatesVerify: the demo seeds this month's past days with
// certificates signed as of those days, and each of them must pass hub
// verify. Before the demo made its keys as of the month's start, the seal
// certificate was younger than every one of them and all were refused.
// The hub's clock is moved to the 20th of next month, so there are always
// past days to seed whatever day the test runs.
func TestDemoCertificatesVerify(t *testing.T) {
	now := time.Now()
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	y, m, _ := now.In(rome).Date()
	target := time.Date(y, m+1, 20, 12, 0, 0, 0, rome)
	offset := "+" + target.Sub(now).Round(time.Second).String()
	t.Setenv(clockOffsetEnv, offset)

	data := t.TempDir()
	h := startHub(t, data, "127.0.0.1:0")
	h.stop(t)

	var pdfs []string
	filepath.WalkDir(filepath.Join(data, "pdf"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			pdfs = append(pdfs, p)
		}
		return nil
	})
	if len(pdfs) < 19 { // at least one certificate on each of 19 past days
		t.Fatalf("the demo seeded %d PDFs up to the 20th; want at least one a day", len(pdfs))
	}
	env := []string{clockOffsetEnv + "=" + offset}
	failed := 0
	for _, p := range pdfs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "%PDF-") {
			continue // not a certificate PDF
		}
		if r := hubEnv(t, "", env, "verify", "--data", data, p); r.code != 0 {
			failed++
			if failed <= 3 {
				t.Errorf("hub verify of the demo's %s = %d\n%s%s", filepath.Base(p), r.code, r.stdout, r.stderr)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d demo certificates fail hub verify", failed, len(pdfs))
	}
}
