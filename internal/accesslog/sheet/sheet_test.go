package sheet

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// The printed sheet says whose log it is, each line's time, place, clerk,
// what and why, and that older lines were left out when there are more than
// fit in one answer; pdftotext reads it back.
func TestSheetReadsBack(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	at := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	l := &api.AccessLog{CF: "RSSMRA50B17A558W", Name: "ROSSI MARIO", From: "2025-11-23", To: "2026-11-23", Page: 1, Pages: 2, Total: 130}
	for i := range 100 {
		l.Lines = append(l.Lines, api.AccessLine{Time: at.Add(-time.Duration(i) * time.Hour), Kind: "certificate", Place: "Tabaccheria Bianchi",
			Clerk: "Luca Verdi", What: "certificato di stato di famiglia", Why: "rilascio certificato anagrafico (art. 33 DPR 223/1989)",
			Reference: "2026/00012" + string(rune('0'+i%10))})
	}
	pdf, err := Render(l, "it", at)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "log.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"ROSSI MARIO", "RSSMRA50B17A558W", "23/11/2026", "11:30", "Tabaccheria Bianchi", "operatore: Luca Verdi",
		"Certificato rilasciato", "2026/000129)", "Dal 23/11/2025 al 23/11/2026", "Sono stampate le 100 registrazioni più recenti di 130"} {
		if !strings.Contains(text, want) {
			t.Errorf("the sheet does not say %q", want)
		}
	}
	if n := strings.Count(text, "Certificato rilasciato"); n != 100 {
		t.Errorf("%d lines printed, want 100", n)
	}
}
