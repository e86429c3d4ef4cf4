package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/debtest"
)

// TestCertificateUseAndBolloFlags: --use, --diritti-exempt and
// --contrassegno reach the desk. The registry office pays the bollo
// virtually, so a contrassegno there is refused; so are an unknown use, a
// court use in bollo and the diritti flag without code 99; none writes a
// PDF or consumes a number. A court certificate under exemption 3 replaces
// the art. 40 sentence, and code 99 with the flag waives the diritti.
func TestCertificateUseAndBolloFlags(t *testing.T) {
	debtest.Need(t, "pdftotext")
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "50"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	cf := strings.Fields(hub(t, "person", "list", "--data", data, "--limit", "1").stdout)[0]
	out := filepath.Join(t.TempDir(), "x.pdf")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"contrassegno at the office", []string{"--contrassegno", "01234567890123"}, "shop's counter"},
		{"unknown use", []string{"--use", "vacanze"}, "destination of use"},
		{"court use in bollo", []string{"--use", "giudiziario"}, "exempt from bollo"},
		{"diritti flag without 99", []string{"--exemption", "9", "--diritti-exempt"}, "code 99"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"certificate", "issue", "--data", data, "--out", out, "--cf", cf, "--type", "stato_di_famiglia"}, tt.args...)
			r := hub(t, args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d: %s", r.code, r.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused request wrote a PDF")
			}
		})
	}
	r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--use", "giudiziario", "--exemption", "3", "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "/0000001,") {
		t.Fatalf("court use: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	text := strings.Join(strings.Fields(debtest.Run(t, "pdftotext", "-raw", "-enc", "UTF-8", out, "-")), " ")
	if !strings.Contains(text, "rilasciato per cause giudiziarie") || strings.Contains(text, "non può essere prodotto") {
		t.Errorf("court certificate:\n%s", text)
	}
	out2 := filepath.Join(t.TempDir(), "y.pdf")
	r = hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "stato_di_famiglia", "--exemption", "99",
		"--exemption-text", "art. 10 L. 533/1973", "--diritti-exempt", "--out", out2)
	if r.code != 0 || !strings.Contains(r.stdout, "total 0,00 EUR") {
		t.Fatalf("code 99 with the diritti flag: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	text = strings.Join(strings.Fields(debtest.Run(t, "pdftotext", "-raw", "-enc", "UTF-8", out2, "-")), " ")
	if !strings.Contains(text, "dall'imposta di bollo e dai diritti di segreteria") {
		t.Errorf("diritti-exempt certificate:\n%s", text)
	}
}
