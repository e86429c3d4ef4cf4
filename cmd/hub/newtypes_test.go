package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/debtest"
)

// TestNewTypesIssueAndVerify: the death certificate and the two historical
// ones issue from the command line (--at for the date), each verifies with
// hub verify, and the hub file checks whole afterwards; bad dates are
// refused (exit 1, or 2 for a date that is no date) and write nothing.
func TestNewTypesIssueAndVerify(t *testing.T) {
	debtest.Need(t, "pdftotext")
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "300"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	var dead, living, since string
	for _, line := range strings.Split(strings.TrimSpace(hub(t, "person", "list", "--data", data, "--limit", "300").stdout), "\n") {
		if dead != "" && living != "" {
			break
		}
		cf := strings.Fields(line)[0]
		show := hub(t, "person", "show", "--data", data, "--cf", cf).stdout
		switch {
		case dead == "" && strings.Contains(show, "\n  died "):
			dead = cf
		case living == "" && strings.Contains(show, "\n  residence ") && !strings.Contains(show, "AIRE"):
			froms := regexp.MustCompile(`(?m)^  (?:residence|previously) .* from (\d\d)/(\d\d)/(\d{4})`).FindAllStringSubmatch(show, -1)
			if len(froms) > 0 {
				living = cf
				first := froms[len(froms)-1] // previous residences are listed after the current one
				since = first[3] + "-" + first[2] + "-" + first[1]
			}
		}
	}
	if dead == "" || living == "" {
		t.Fatalf("no deceased (%q) or living resident (%q) in the synthetic city", dead, living)
	}
	dir := t.TempDir()
	today := time.Now().Format("2006-01-02")
	for _, c := range []struct {
		cf, typ, at, want string
	}{
		{dead, "morte", "", "CERTIFICATO DI MORTE"},
		{living, "residenza_storica", since, "CERTIFICATO STORICO DI RESIDENZA"},
		{living, "stato_di_famiglia_storico", today, "CERTIFICATO STORICO DI STATO DI FAMIGLIA"},
	} {
		pdf := filepath.Join(dir, c.typ+".pdf")
		args := []string{"certificate", "issue", "--data", data, "--cf", c.cf, "--type", c.typ, "--out", pdf}
		if c.at != "" {
			args = append(args, "--at", c.at)
		}
		if r := hub(t, args...); r.code != 0 {
			t.Fatalf("%s: exit %d: %s", c.typ, r.code, r.stderr)
		}
		if r := hub(t, "verify", "--data", data, pdf); r.code != 0 || !strings.Contains(r.stdout, "VALID") {
			t.Errorf("%s does not verify: %s %s", c.typ, r.stdout, r.stderr)
		}
		if text := debtest.Run(t, "pdftotext", "-layout", pdf, "-"); !strings.Contains(text, c.want) {
			t.Errorf("%s text lacks %q:\n%s", c.typ, c.want, text)
		}
	}
	if r := hub(t, "check", "--data", data); r.code != 0 {
		t.Errorf("hub check after issuing: %s %s", r.stdout, r.stderr)
	}

	out := filepath.Join(dir, "refused.pdf")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no date", []string{"--cf", living, "--type", "residenza_storica"}, 1, "give the date"},
		{"future date", []string{"--cf", living, "--type", "residenza_storica", "--at", "2999-01-01"}, 1, "in the future"},
		{"before the records", []string{"--cf", living, "--type", "stato_di_famiglia_storico", "--at", "1800-01-01"}, 1, "before the registry's records"},
		{"not a date", []string{"--cf", living, "--type", "residenza_storica", "--at", "31/03/2015"}, 2, "--at"},
		{"date on a current type", []string{"--cf", living, "--type", "residenza", "--at", since}, 1, "describes the present"},
		{"death of a living person", []string{"--cf", living, "--type", "morte"}, 1, "not recorded as deceased"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := hub(t, append([]string{"certificate", "issue", "--data", data, "--out", out}, c.args...)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d (want %d): %s", r.code, c.code, r.stderr)
			}
		})
	}
}
