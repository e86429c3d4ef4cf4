package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/debtest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/citybolt"
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
	// The account that ran it is on the access log with the authoriser.
	log := hub(t, "audit", "search", "--data", data, "--actor", me(t))
	if !strings.Contains(log.stdout, "revoca del certificato: rilasciato alla persona sbagliata (autorizzata da Laura Bianchi)") {
		t.Errorf("audit after revocation:\n%s%s", log.stdout, log.stderr)
	}
	// A second revocation is refused, and the access log does not record
	// a revocation that did not happen.
	if r := hub(t, "certificate", "revoke", "--data", data, "--id", id, "--reason", "di nuovo", "--authorised-by", "Laura Bianchi"); r.code == 0 || !strings.Contains(r.stderr, "already revoked") {
		t.Errorf("second revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if log := hub(t, "audit", "search", "--data", data, "--actor", me(t)); strings.Count(log.stdout, "revoca del certificato:") != 1 {
		t.Errorf("audit after a refused second revocation:\n%s%s", log.stdout, log.stderr)
	}
}

// setRegisterCodes stores the city's register codes in data's hub file
// directly, as a file written before hub city set refused partly set codes
// may hold them.
func setRegisterCodes(t *testing.T, data string, reg protocol.Register) {
	t.Helper()
	db, err := bbolt.Open(registryPath(data), 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := citybolt.Init(tx); err != nil {
			return err
		}
		c, err := citybolt.Get(tx)
		if err != nil {
			return err
		}
		c.IPACode, c.AOOCode, c.RegisterCode = reg.IPA, reg.AOO, reg.Code
		return citybolt.Put(tx, c)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCertificateNumbersCarryTheRegister: with the city's IPA, AOO and
// register codes set, a certificate's number is the register's whole
// identifier, printed on the PDF and kept by the record; the day's
// register names the codes on each row; a change of the register code
// takes effect from the next number, which continues the year's sequence,
// and the numbers already given keep theirs.
func TestCertificateNumbersCarryTheRegister(t *testing.T) {
	debtest.Need(t, "pdftotext")
	data := t.TempDir()
	_, first := issueOne(t, data) // before the codes: a bare number
	if !regexp.MustCompile(`protocol \d{4}/0000001,`).MatchString(first) {
		t.Fatalf("first issuance: %s", first)
	}
	if r := hub(t, "city", "set", "--data", data, "--ipa-code", "c_f205", "--aoo-code", "A1B2C3D", "--register-code", "CERT", "--by", "m.bianchi"); r.code != 0 {
		t.Fatalf("city set: %s", r.stderr)
	}
	cf := strings.Fields(hub(t, "person", "list", "--data", data, "--limit", "1").stdout)[0]
	pdf := filepath.Join(t.TempDir(), "c.pdf")
	r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--out", pdf)
	m := regexp.MustCompile(`issued (\w+), protocol (c_f205\.A1B2C3D\.CERT\.(\d{4})/0000002),`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("issue with the codes set: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	id, number, year := m[1], m[2], m[3]
	if text := debtest.Run(t, "pdftotext", "-layout", pdf, "-"); !strings.Contains(text, "Protocollo n. "+number+" del ") {
		t.Errorf("the PDF does not print %s:\n%s", number, text)
	}
	if r := hub(t, "city", "set", "--data", data, "--register-code", "CERTANAG", "--by", "m.bianchi"); r.code != 0 {
		t.Fatalf("city set: %s", r.stderr)
	}
	r = hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--out", pdf)
	if want := "protocol c_f205.A1B2C3D.CERTANAG." + year + "/0000003,"; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("after the register code changed: exit %d, want %q\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	if show := hub(t, "certificate", "show", "--data", data, "--id", id); !strings.Contains(show.stdout, "protocol   "+number+",") {
		t.Errorf("the number given before the change:\n%s%s", show.stdout, show.stderr)
	}
	// Partly set codes do not identify a register: hub city set refuses
	// them, and a file holding them has its issuances refused, no number
	// used.
	if r := hub(t, "city", "set", "--data", data, "--aoo-code", "", "--by", "m.bianchi"); r.code == 0 || !strings.Contains(r.stderr, "set all three or none") {
		t.Errorf("clearing the AOO alone: exit %d\n%s", r.code, r.stderr)
	}
	setRegisterCodes(t, data, protocol.Register{IPA: "c_f205"})
	if r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--out", pdf); r.code == 0 || !strings.Contains(r.stderr, "AOO code is not set") {
		t.Errorf("issue with partly set codes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	setRegisterCodes(t, data, protocol.Register{IPA: "c_f205", AOO: "A1B2C3D", Code: "CERTANAG"})
	if r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--out", pdf); !strings.Contains(r.stdout, "."+year+"/0000004,") {
		t.Errorf("the refusal used a number: %s%s", r.stdout, r.stderr)
	}
	csv := hub(t, "protocol", "export", "--data", data, "--day", protocol.DayOf(time.Now()).String())
	lines := strings.Split(strings.TrimSpace(csv.stdout), "\n")
	if csv.code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "codice_amministrazione,codice_aoo,codice_registro,numero,") ||
		!strings.HasPrefix(lines[1], ",,,"+year+"/0000001,") || !strings.HasPrefix(lines[2], "c_f205,A1B2C3D,CERT,"+year+"/0000002,") ||
		!strings.HasPrefix(lines[3], "c_f205,A1B2C3D,CERTANAG,"+year+"/0000003,") {
		t.Errorf("the day's register:\n%s%s", csv.stdout, csv.stderr)
	}
}
