package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/debtest"
	"github.com/sportello/sportello/internal/seal/sealtest"
)

// TestCertificateSealedWithPKCS12 is issue 14's "the officer's name is
// printed" and "the seal from PKCS#12 with its chain verified by pdfsig" at
// the command line: the city names its delegated officer, a certificate is
// issued with the comune's seal from a trust service's PKCS#12 file, the
// PDF names the officer and the delegation, pdfsig trusts it with only the
// trust service's root in its NSS database, and hub verify accepts it once
// told that root. A wrong password is refused in one sentence, before
// the desk opens, so nothing is issued.
func TestCertificateSealedWithPKCS12(t *testing.T) {
	debtest.Need(t, "pdftotext", "pdfsig", "certutil")
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "120"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	if r := hub(t, "city", "set", "--data", data, "--officer", "Maria Grazia Colombo",
		"--delegation", "decreto sindacale n. 12 del 03/02/2025", "--by", "m.bianchi"); r.code != 0 {
		t.Fatalf("city set: %s", r.stderr)
	}
	dir := t.TempDir()
	files := sealtest.New(t, time.Now()).Write(t, dir)
	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cfs := strings.Split(strings.TrimSpace(hub(t, "person", "list", "--data", data, "--limit", "40").stdout), "\n")
	bad := filepath.Join(dir, "bad.pdf")
	r := hub(t, "certificate", "issue", "--data", data, "--cf", strings.Fields(cfs[0])[0], "--type", "residenza", "--out", bad,
		"--seal-p12", files.P12, "--seal-p12-password-file", wrong)
	if r.code != 1 || !strings.Contains(r.stderr, "does not open with the password") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("wrong password: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("a certificate was written with a seal that did not open")
	}
	if r := hub(t, "certificate", "issue", "--data", data, "--cf", "X", "--type", "residenza", "--out", bad, "--seal-p12", files.P12); r.code != 2 || !strings.Contains(r.stderr, "--seal-p12-password-file") {
		t.Errorf("--seal-p12 without a password file: exit %d: %s", r.code, r.stderr)
	}

	pdf := filepath.Join(dir, "c.pdf")
	issued, out := false, ""
	for _, line := range cfs {
		r := hub(t, "certificate", "issue", "--data", data, "--cf", strings.Fields(line)[0], "--type", "residenza", "--out", pdf,
			"--seal-p12", files.P12, "--seal-p12-password-file", files.Password)
		if r.code == 0 {
			issued, out = true, r.stdout
			break
		} else if r.code != 1 {
			t.Fatalf("issue: exit %d: %s", r.code, r.stderr)
		}
	}
	if !issued {
		t.Fatal("no resident among the first 40 could get a residenza")
	}
	text := words(debtest.Run(t, "pdftotext", "-raw", pdf, "-"))
	for _, want := range []string{"L'Ufficiale d'Anagrafe delegato", "Maria Grazia Colombo", "(delega: decreto sindacale n. 12 del 03/02/2025)", "Firma autografa sostituita dal sigillo elettronico del Comune"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate text lacks %q:\n%s", want, text)
		}
	}

	nss := t.TempDir()
	debtest.Run(t, "certutil", "-N", "-d", "sql:"+nss, "--empty-password")
	debtest.Run(t, "certutil", "-A", "-d", "sql:"+nss, "-n", "Prova Root", "-t", "C,C,C", "-i", files.RootPEM)
	sig := debtest.Run(t, "pdfsig", "-nssdir", "sql:"+nss, pdf)
	for _, want := range []string{"Signer Certificate Common Name: " + sealtest.SealName, "Signature Validation: Signature is Valid.", "Certificate Validation: Certificate is Trusted."} {
		if !strings.Contains(sig, want) {
			t.Errorf("pdfsig lacks %q:\n%s", want, sig)
		}
	}

	// The record says who signed, for the verification page and the staff.
	id := regexp.MustCompile(`issued (\w+),`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("issue said %q", out)
	}
	if r := hub(t, "certificate", "show", "--data", data, "--id", id[1]); !strings.Contains(r.stdout, "signed by  L'Ufficiale d'Anagrafe delegato Maria Grazia Colombo") ||
		!strings.Contains(r.stdout, "seal       "+sealtest.SealName+" (certificato rilasciato da Prova Qualified eSeal CA)") {
		t.Errorf("certificate show:\n%s%s", r.stdout, r.stderr)
	}

	if r := hub(t, "verify", "--data", data, "--ca", files.RootPEM, pdf); r.code != 0 || !strings.Contains(r.stdout, "VALID") || !strings.Contains(r.stdout, sealtest.SealName) {
		t.Errorf("verify with the trust service's root: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "verify", "--data", data, pdf); r.code != 1 || !strings.Contains(r.stdout, "not issued by a trusted CA") {
		t.Errorf("verify with the hub's demo CA alone: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestServeSealsWithPKCS12: hub serve given the comune's PKCS#12 seal
// seals what it issues with it, including a certificate issued from the
// command line through the running hub, and logs which seal it uses; a
// command that tries to bring its own seal to the running hub is refused.
// A wrong password stops hub serve at start with one sentence.
func TestServeSealsWithPKCS12(t *testing.T) {
	debtest.Need(t, "pdfsig")
	dir := t.TempDir()
	files := sealtest.New(t, time.Now()).Write(t, dir)
	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("nope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := hub(t, "serve", "--demo", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--seal-p12", files.P12, "--seal-p12-password-file", wrong); r.code != 1 ||
		!strings.Contains(r.stderr, "does not open with the password") {
		t.Errorf("serve with a wrong seal password: exit %d: %s", r.code, r.stderr)
	}

	data := t.TempDir()
	h := startHub(t, data, "127.0.0.1:0", "--seal-p12", files.P12, "--seal-p12-password-file", files.Password)
	if logs := h.logs.String(); !strings.Contains(logs, "sealed with the comune's own seal") || !strings.Contains(logs, sealtest.SealName) {
		t.Errorf("hub serve does not say which seal it uses:\n%s", logs)
	}
	pdf := filepath.Join(dir, "c.pdf")
	list := strings.Split(strings.TrimSpace(hub(t, "person", "list", "--data", data, "--limit", "40").stdout), "\n")
	if r := hub(t, "certificate", "issue", "--data", data, "--cf", strings.Fields(list[0])[0], "--type", "residenza", "--out", pdf,
		"--seal-p12", files.P12, "--seal-p12-password-file", files.Password); r.code != 2 || !strings.Contains(r.stderr, "give --seal-p12 to hub serve") {
		t.Errorf("a seal brought to the running hub: exit %d: %s", r.code, r.stderr)
	}
	issued := false
	for _, line := range list {
		r := hub(t, "certificate", "issue", "--data", data, "--cf", strings.Fields(line)[0], "--type", "residenza", "--out", pdf)
		if r.code == 0 {
			issued = true
			break
		}
	}
	if !issued {
		t.Fatal("no resident among the first 40 could get a residenza")
	}
	if sig := debtest.Run(t, "pdfsig", "-nocert", pdf); !strings.Contains(sig, "Signer Certificate Common Name: "+sealtest.SealName) {
		t.Errorf("the running hub did not seal with the PKCS#12 seal:\n%s", sig)
	}
}
