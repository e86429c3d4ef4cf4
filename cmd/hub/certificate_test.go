package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/debtest"
)

// TestCertificateLifecycle is issue 3's "done when": a residenza issued on
// the demo city reads right, its QR decodes, hub verify and pdfsig accept it,
// and one altered byte is caught.
func TestCertificateLifecycle(t *testing.T) {
	debtest.Need(t, "pdftotext", "pdfsig", "zbarimg", "certutil")
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "300"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	// A living resident with an address: take the first that residenza accepts.
	r := hub(t, "person", "list", "--data", data, "--limit", "40")
	var cf, pdf string
	dir := t.TempDir()
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		candidate := strings.Fields(line)[0]
		pdf = filepath.Join(dir, candidate+".pdf")
		if r := hub(t, "certificate", "issue", "--data", data, "--cf", candidate, "--type", "residenza", "--out", pdf); r.code == 0 {
			cf = candidate
			if !regexp.MustCompile(`issued \w+, protocol \d{4}/\d{7}`).MatchString(r.stdout) {
				t.Errorf("issue said %q", r.stdout)
			}
			break
		} else if r.code != 1 {
			t.Fatalf("issue: exit %d: %s", r.code, r.stderr)
		}
	}
	if cf == "" {
		t.Fatal("no resident among the first 40 could get a residenza")
	}
	show := hub(t, "person", "show", "--data", data, "--cf", cf).stdout
	m := regexp.MustCompile(`(?m)^  residence        ([^,]+)`).FindStringSubmatch(show)
	if m == nil {
		t.Fatalf("person show has no residence:\n%s", show)
	}
	street := m[1]

	text := debtest.Run(t, "pdftotext", "-layout", pdf, "-")
	for _, want := range []string{"CERTIFICATO DI RESIDENZA", cf, street, "Il presente certificato non può essere prodotto"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate text lacks %q:\n%s", want, text)
		}
	}

	debtest.Run(t, "pdftoppm", "-r", "150", "-png", "-singlefile", pdf, filepath.Join(dir, "page"))
	qr := debtest.Run(t, "zbarimg", "-q", "--raw", filepath.Join(dir, "page.png"))
	if !regexp.MustCompile(`^http://127\.0\.0\.1:8080/v/\w+#t=[\w-]+\.[\w-]+\.[\w-]+\s*$`).MatchString(qr) {
		t.Errorf("QR content %q is not a verification URL with a token", qr)
	}

	if r := hub(t, "verify", "--data", data, pdf); r.code != 0 || !strings.Contains(r.stdout, "VALID") {
		t.Errorf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// An office that only has the published CA and key set can check it too.
	nss := t.TempDir()
	debtest.Run(t, "certutil", "-N", "-d", "sql:"+nss, "--empty-password")
	debtest.Run(t, "certutil", "-A", "-d", "sql:"+nss, "-n", "Sportello Hub CA", "-t", "C,C,C", "-i", filepath.Join(data, "keys", "ca.pem"))
	sig := debtest.Run(t, "pdfsig", "-nssdir", "sql:"+nss, pdf)
	for _, want := range []string{"Signature Validation: Signature is Valid.", "Certificate Validation: Certificate is Trusted."} {
		if !strings.Contains(sig, want) {
			t.Errorf("pdfsig lacks %q:\n%s", want, sig)
		}
	}

	b, _ := os.ReadFile(pdf)
	for _, at := range []int{len(b) / 3, len(b) - 10} {
		bad := append([]byte(nil), b...)
		bad[at] ^= 0x01
		badFile := filepath.Join(dir, "altered.pdf")
		os.WriteFile(badFile, bad, 0o644)
		if r := hub(t, "verify", "--data", data, badFile); r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("altered byte %d: exit %d: %s", at, r.code, r.stderr)
		}
	}

	// The protocol register of the day holds the issuance with the PDF's hash.
	day := time.Now().In(time.FixedZone("", 0)).Format("2006-01-02")
	reg := hub(t, "protocol", "export", "--data", data, "--day", day)
	if reg.code != 0 || !strings.Contains(reg.stdout, cf) {
		// The Rome day can differ from UTC around midnight; try the next day.
		day = time.Now().Add(2 * time.Hour).Format("2006-01-02")
		reg = hub(t, "protocol", "export", "--data", data, "--day", day)
	}
	if reg.code != 0 || !strings.Contains(reg.stdout, cf) || !strings.Contains(reg.stderr, "sha-256") {
		t.Errorf("protocol export: exit %d\n%s%s", reg.code, reg.stdout, reg.stderr)
	}
}

func TestCertificateRefusals(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "50"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	cf := strings.Fields(hub(t, "person", "list", "--data", data, "--limit", "1").stdout)[0]
	out := filepath.Join(t.TempDir(), "x.pdf")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown type", []string{"--cf", cf, "--type", "patente"}, 1, "not a certificate type"},
		{"unknown subject", []string{"--cf", "CCCFBA85D03L219P", "--type", "residenza"}, 1, "registry"},
		{"exemption 99 without reason", []string{"--cf", cf, "--type", "residenza", "--exemption", "99"}, 1, "reason"},
		{"unknown exemption", []string{"--cf", cf, "--type", "residenza", "--exemption", "42"}, 1, "42"},
		{"exemption 10 for a private person", []string{"--cf", cf, "--type", "residenza", "--exemption", "10"}, 1, "public administration"},
		{"no type", []string{"--cf", cf}, 2, "--type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"certificate", "issue", "--data", data, "--out", out}, tt.args...)
			r := hub(t, args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d (want %d): %s", r.code, tt.code, r.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused request wrote a PDF")
			}
		})
	}
	// No refusal consumed a protocol number.
	r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--out", out)
	if r.code == 0 && !strings.Contains(r.stdout, "/0000001,") {
		t.Errorf("first issuance after refusals is not number 1: %s", r.stdout)
	}
}
