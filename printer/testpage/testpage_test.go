package testpage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPDFText(t *testing.T) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext is not installed; run make deps (it installs poppler-utils)")
	}
	lines := []string{"Città: Milano (MI)", "Importo: 16,00 €", `back\slash`}
	path := filepath.Join(t.TempDir(), "p.pdf")
	if err := os.WriteFile(path, PDF("Pagina di prova", lines), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range append(lines, "Pagina di prova") {
		if !strings.Contains(string(out), want) {
			t.Errorf("pdftotext output lacks %q:\n%s", want, out)
		}
	}
}
