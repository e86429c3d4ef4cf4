package receipt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/escpos/escposdec"
)

// paper is a decoded receipt as it lies on the paper, one printed line a
// row between bars, aligned and widened as the printer does, with its
// style after it (B bold, 2x2 double width and height) and each picture
// as a bracketed row: what a reviewer reads in a text golden.
func paper(doc *escposdec.Document, cols int) string {
	var b strings.Builder
	img := 0
	put := func(text string, align byte, w int, style string) {
		if w > 1 {
			// A double-width character takes two columns.
			var wide strings.Builder
			for _, r := range text {
				wide.WriteRune(r)
				wide.WriteString(strings.Repeat(" ", w-1))
			}
			text = strings.TrimRight(wide.String(), " ")
		}
		n := len([]rune(text))
		pad := 0
		switch align {
		case 1:
			pad = max(0, (cols-n)/2)
		case 2:
			pad = max(0, cols-n)
		}
		row := strings.Repeat(" ", pad) + text
		row += strings.Repeat(" ", max(0, cols-len([]rune(row))))
		fmt.Fprintf(&b, "%s\n", strings.TrimRight("|"+row+"| "+style, " "))
	}
	for i := 0; i <= len(doc.Lines); i++ {
		for img < len(doc.Images) && doc.Images[img].After == i {
			im := doc.Images[img]
			what := fmt.Sprintf("[%s %dx%d dots]", im.Kind, im.Img.Bounds().Dx(), im.Img.Bounds().Dy())
			if im.Kind == "qr" {
				what = fmt.Sprintf("[QR %q]", im.QRData)
			}
			put(what, 1, 1, "")
			img++
		}
		if i == len(doc.Lines) {
			break
		}
		l := doc.Lines[i]
		style := ""
		if l.Bold {
			style += "B "
		}
		if l.Width > 1 || l.Height > 1 {
			style += fmt.Sprintf("%dx%d", l.Width, l.Height)
		}
		put(l.Text, l.Align, l.Width, strings.TrimSpace(style))
	}
	fmt.Fprintf(&b, "(%d cut)\n", doc.Cuts)
	return b.String()
}

// textGolden compares the receipt as printed on paper with
// testdata/NAME.txt, or rewrites it with -update.
func textGolden(t *testing.T, name string, got []byte, p escpos.Profile) *escposdec.Document {
	t.Helper()
	doc, err := escposdec.Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	text := paper(doc, p.Paper.Columns)
	path := filepath.Join("testdata", name+".txt")
	writePaperPNG(t, name, doc, p.Paper.Columns)
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != text {
		t.Errorf("%s differs from the receipt printed now (if intended, go test -update):\n%s", path, text)
	}
	return doc
}

// TestReceiptOnPaper: the counter receipt and the claim receipt as they
// come out of the printer, in Italian and English, kept as text goldens a
// reviewer reads: the shop's sign, its registered name, address and
// partita IVA, the time in Rome, the protocol numbers, the marca da
// bollo's number under the bollo it paid, COPIA on a reprint.
func TestReceiptOnPaper(t *testing.T) {
	// 13:05 UTC on 12 March is 14:05 in Rome (CET); 12:05 UTC on 12
	// July is 14:05 too (CEST). Built in UTC, as the hub answers.
	winter := time.Date(2026, 3, 12, 13, 5, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 12, 12, 5, 0, 0, time.UTC)
	p, err := escpos.Lookup("tm-t20", 80)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []Lang{Italian, English} {
		r := Demo(winter, lang)
		r.Fees = []Fee{{Kind: Bollo, Cents: 1600, Contrassegno: "01234567890123"}, {Kind: Diritti, Cents: 52}, {Kind: Service, Cents: 200}}
		r.TotalCents = 0
		got, err := Encode(r, p)
		if err != nil {
			t.Fatal(err)
		}
		doc := textGolden(t, "paper_receipt_"+string(lang), got, p)
		stamp := map[Lang]string{Italian: "  Contrassegno n. 01234567890123", English: "  Revenue stamp no. 01234567890123"}[lang]
		want := []string{"Rossi Giornali S.n.c.", "Piazza Leonardo da Vinci 32, Milano", stamp, "12/03/2026 14:05",
			map[Lang]string{Italian: "P.IVA 01234567897", English: "VAT no. (P.IVA) 01234567897"}[lang]}
		for _, w := range want {
			if _, ok := doc.Find(w); !ok {
				t.Errorf("%s: the receipt lacks %q:\n%s", lang, w, doc.Text())
			}
		}
		r.Time, r.Copy = summer, true
		got, err = Encode(r, p)
		if err != nil {
			t.Fatal(err)
		}
		doc = textGolden(t, "paper_receipt_copy_"+string(lang), got, p)
		if _, ok := doc.Find("12/07/2026 14:05"); !ok {
			t.Errorf("%s: a summer time is not printed in Rome's (CEST):\n%s", lang, doc.Text())
		}
		c := DemoClaim(winter, lang)
		c.IdentityPending = true
		got, err = EncodeClaim(c, p)
		if err != nil {
			t.Fatal(err)
		}
		doc = textGolden(t, "paper_claim_new_customer_"+string(lang), got, p)
		for _, w := range []string{"Rossi Giornali S.n.c.", "12/03/2026 14:05"} {
			if _, ok := doc.Find(w); !ok {
				t.Errorf("%s: the claim receipt lacks %q:\n%s", lang, w, doc.Text())
			}
		}
	}
	// The sign alone when the registered name is the sign's.
	r := Demo(winter, Italian)
	r.LegalName = "EDICOLA CITTÀ STUDI"
	got, _ := Encode(r, p)
	doc, _ := escposdec.Decode(got)
	if n := strings.Count(strings.ToUpper(doc.Text()), "EDICOLA CITTÀ STUDI"); n != 1 {
		t.Errorf("the name is printed %d times when the registered name is the sign:\n%s", n, doc.Text())
	}
}
