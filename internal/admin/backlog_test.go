package admin

import (
	"crypto/ed25519"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/operators"
)

// TestDeviceBacklogShown: the operator page's device list shows what each
// kiosk last reported of its offline queue, or that it never reported.
func TestDeviceBacklogShown(t *testing.T) {
	f := newFixture(t)
	if _, err := f.ops.SetStatus(f.opID, operators.Approved, "test", ""); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, name := range []string{"Cassa 1", "Cassa 2", "Cassa 3"} {
		code, _, err := f.ops.IssueCode(f.opID, "test", 0)
		if err != nil {
			t.Fatal(err)
		}
		pub, _, _ := ed25519.GenerateKey(nil)
		d, err := f.ops.Enrol(code, pub, name)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, d.KeyID)
	}
	if _, err := f.ops.SetBacklog(keys[0], operators.Backlog{Pending: 4, Refused: 2, OldestAge: 3 * time.Hour, AmountCents: 7208}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ops.SetBacklog(keys[1], operators.Backlog{}); err != nil {
		t.Fatal(err)
	}
	c, _ := f.login(t, "clerk")
	for _, lang := range []struct{ q, pending, empty, never string }{
		{"it", "<strong>4</strong> · 72,08 € · in attesa dal 07/04/2026 07:00 · 2 rifiutate (segnalata il 07/04/2026 10:00)", "vuota (segnalata il 07/04/2026 10:00)", "non segnalata"},
		{"en", "<strong>4</strong> · 72,08 € · waiting since 07/04/2026 07:00 · 2 refused (reported 07/04/2026 10:00)", "empty (reported 07/04/2026 10:00)", "not reported"},
	} {
		resp, page := get(t, c, f.srv.URL+"/admin/operators/"+f.opID+"?lang="+lang.q)
		if resp.StatusCode != 200 {
			t.Fatalf("operator page: %s", resp.Status)
		}
		cells := map[string]string{}
		for _, k := range keys {
			m := regexp.MustCompile(`<code>` + regexp.QuoteMeta(k) + `</code>(?:.*?</td>){4}<td>(.*?)</td>`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no row for device %s in:\n%s", k, page)
			}
			cells[k] = html.UnescapeString(strings.ReplaceAll(strings.ReplaceAll(m[1], "<small>", ""), "</small>", ""))
		}
		for i, want := range []string{lang.pending, lang.empty, lang.never} {
			if cells[keys[i]] != want {
				t.Errorf("%s: device %d's backlog cell reads %q, want %q", lang.q, i+1, cells[keys[i]], want)
			}
		}
	}
}
