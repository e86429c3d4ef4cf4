package pdf

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/certificate/pdf/sample"
	"github.com/sportello/sportello/internal/debtest"
)

// TestForeignBirthInPDF: a subject born abroad whose town the registry does
// not keep is "nata in EGITTO", never "nata a EGITTO" (issue 14 item 7).
func TestForeignBirthInPDF(t *testing.T) {
	debtest.Need(t, "pdftotext")
	d := sample.Residenza()
	d.Subject.Sex, d.Subject.BirthPlace, d.Subject.BirthPrep = "F", "EGITTO", "in"
	got := debtest.Run(t, "pdftotext", "-raw", "-enc", "UTF-8", writeTemp(t, render(t, d)), "-")
	if !strings.Contains(got, "nata in EGITTO") || strings.Contains(got, "a EGITTO") {
		t.Errorf("the PDF does not read \"nata in EGITTO\":\n%s", got)
	}
	d.Subject.BirthPlace, d.Subject.BirthPrep = "IL CAIRO (EGITTO)", ""
	got = debtest.Run(t, "pdftotext", "-raw", "-enc", "UTF-8", writeTemp(t, render(t, d)), "-")
	if !strings.Contains(got, "nata a IL CAIRO (EGITTO)") {
		t.Errorf("the PDF does not read \"nata a IL CAIRO (EGITTO)\":\n%s", got)
	}
}
