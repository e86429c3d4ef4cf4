package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// issueOne seeds a city in data and issues a stato di famiglia to its first
// person, returning the certificate's id and the command's output.
func issueOne(t *testing.T, data string) (id, out string) {
	t.Helper()
	if r := hub(t, "seed", "--data", data, "--persons", "30"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	cf := strings.Fields(hub(t, "person", "list", "--data", data, "--limit", "1").stdout)[0]
	r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--out", filepath.Join(t.TempDir(), "c.pdf"))
	m := regexp.MustCompile(`issued (\w+), protocol `).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("issue: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return m[1], r.stdout
}

// TestCertificateRevokeNamesAuthoriser: a revocation names the staff member
// who authorised it, and one without an authoriser or a reason is refused
// with a sentence and changes nothing.
func TestCertificateRevokeNamesAuthoriser(t *testing.T) {
	data := t.TempDir()
	id, _ := issueOne(t, data)
	for _, args := range [][]string{
		{"--reason", "rilasciato alla persona sbagliata"},
		{"--reason", "rilasciato alla persona sbagliata", "--authorised-by", "  "},
		{"--reason", " ", "--authorised-by", "Laura Bianchi"},
	} {
		r := hub(t, append([]string{"certificate", "revoke", "--data", data, "--id", id}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "a revocation needs") {
			t.Errorf("revoke %q: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	if show := hub(t, "certificate", "show", "--data", data, "--id", id); !strings.Contains(show.stdout, "status     valid") {
		t.Fatalf("a refused revocation changed the certificate:\n%s%s", show.stdout, show.stderr)
	}
	r := hub(t, "certificate", "revoke", "--data", data, "--id", id, "--reason", "rilasciato alla persona sbagliata", "--authorised-by", "Laura Bianchi")
	if r.code != 0 || !strings.Contains(r.stdout, "authorised by Laura Bianchi") {
		t.Fatalf("revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	show := hub(t, "certificate", "show", "--data", data, "--id", id)
	if !strings.Contains(show.stdout, "rilasciato alla persona sbagliata (authorised by Laura Bianchi)") {
		t.Errorf("show after revocation:\n%s%s", show.stdout, show.stderr)
	}
}
