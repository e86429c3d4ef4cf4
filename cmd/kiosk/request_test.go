package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/synth"
	"github.com/sportello/sportello/internal/totp"
)

var validDocument = regexp.MustCompile(`(?m)^  document\s+\S+ (\S+?),? .*\(valid\)$`)

// TestRequestFileCommand: at a shop's counter, with a clerk logged in by
// password and code, `kiosk request file` files a change of address for a
// resident of the demo city identified by codice fiscale and document,
// prints the number and hash and a receipt carrying the number; a move to
// a street the city has not is refused in one sentence with exit 1; and
// `kiosk request show` reads the request back.
func TestRequestFileCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	ctx := context.Background()
	data := t.TempDir()
	h := startHub(t, data)
	dir := filepath.Join(t.TempDir(), "kiosk")
	args := []string{"enrol", "--hub", h.url, "--code", h.code, "--profile", dir, "--name", "pratiche", "--seal", "passphrase", "--secret-stdin"}
	if ca := filepath.Join(data, "tls", "cert.pem"); strings.HasPrefix(h.url, "https:") {
		args = append(args, "--hub-ca", ca)
	}
	const pass = "mercato coperto 1954"
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		c := &cli{stdin: strings.NewReader(pass + "\n"), stdout: &out, stderr: &errb, now: time.Now}
		code := c.run(ctx, args)
		return code, out.String(), errb.String()
	}
	if code, out, errs := run(args...); code != 0 {
		t.Fatalf("kiosk enrol: exit %d\n%s%s", code, out, errs)
	}
	r := h.resident(t)
	m := validDocument.FindStringSubmatch(h.run(t, "person", "show", "--data", data, "--cf", r.CF, "--purpose", "test: pratica"))
	if m == nil {
		t.Fatal("the resident's valid document is not shown")
	}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("una password di prova\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(operators.Rome)
	out := h.run(t, "clerk", "add", "--data", data, "--operator", "op-0001", "--cf", "RSSMRA50B17A558W", "--name", "Mario Rossi",
		"--trained", now.AddDate(0, 0, -1).Format("2006-01-02"), "--until", now.AddDate(1, 0, 0).Format("2006-01-02"), "--password-file", pw)
	secret := regexp.MustCompile(`TOTP secret [^:]*: ([A-Z2-7]+)`).FindStringSubmatch(out)
	if secret == nil {
		t.Fatalf("no TOTP secret in:\n%s", out)
	}
	form := filepath.Join(t.TempDir(), "form.json")
	write := func(street string) {
		body := `{"address_change": {"persons": ["` + r.CF + `"], "new_address": {"street": "` + street + `", "number": "5"}, "statement": true}}`
		if err := os.WriteFile(form, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	file := func(key string) (int, string, string) {
		code, err := operators.TOTPCode(secret[1], totp.StepAt(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		// A code is taken once: wait for the next step after a log-in.
		return run("request", "file", "--profile", dir, "--secret-stdin", "--kind", "cambio_indirizzo", "--form", form, "--cf", r.CF, "--document", m[1],
			"--key", key, "--clerk-cf", "RSSMRA50B17A558W", "--clerk-password-file", pw, "--clerk-totp", code,
			"--printer", "file://"+filepath.Join(t.TempDir(), "receipt.bin"))
	}
	write("Via Che Non Esiste")
	code, stdout, stderr := file("k1")
	if code != 1 || !strings.Contains(stderr, "request_address_unknown") || strings.Contains(stdout, "protocol") {
		t.Errorf("a street the city has not: exit %d\n%s%s", code, stdout, stderr)
	}
	for time.Now().Unix()%30 > 25 { // the next log-in needs a fresh code
		time.Sleep(time.Second)
	}
	time.Sleep(time.Until(time.Unix((time.Now().Unix()/30+1)*30, 0)))
	write(synth.DefaultCity().Streets[4].Name)
	code, stdout, stderr = file("k2")
	id := regexp.MustCompile(`request (\S+) filed: protocol (\S+)`).FindStringSubmatch(stdout)
	if code != 0 || id == nil || !regexp.MustCompile(`sha256: [0-9a-f]{64}`).MatchString(stdout) || !strings.Contains(stdout, "receipt printed") {
		t.Fatalf("filing: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = run("request", "show", "--profile", dir, "--secret-stdin", "--id", id[1])
	if code != 0 || !strings.Contains(stdout, id[2]) || !strings.Contains(stdout, "protocollata") {
		t.Errorf("request show: exit %d\n%s%s", code, stdout, stderr)
	}
}
