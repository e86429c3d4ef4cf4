package pdf

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/debtest"

	"rsc.io/qr"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/certificate/pdf/sample"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// A fixed stand-in seal: the renderer only prints it, and real tokens
// (random keys) would change the golden images on every run.
const fakeToken = "eyJhbGciOiJFZERTQSIsImtpZCI6InRlc3Qta2V5In0.eyJqdGkiOiJ0ZXN0In0.c2lnbmF0dXJl"

func goldenDocs() map[string]certificate.Document {
	return map[string]certificate.Document{
		"residenza":         sample.Residenza(),
		"stato_di_famiglia": sample.StatoDiFamiglia(),
	}
}

func render(t testing.TB, d certificate.Document) []byte {
	t.Helper()
	b, err := Render(&d, Seal{Token: fakeToken, QR: d.VerifyURL + "#t=" + fakeToken})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRenderIsDeterministic(t *testing.T) {
	for name, d := range goldenDocs() {
		if a, b := render(t, d), render(t, d); !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings differ", name)
		}
	}
}

func TestRenderRefusesIncompleteDocuments(t *testing.T) {
	d := sample.Residenza()
	noID := d
	noID.ID = ""
	for name, tc := range map[string]struct {
		doc  *certificate.Document
		seal Seal
	}{
		"nil document": {nil, Seal{QR: "x"}},
		"no id":        {&noID, Seal{QR: "x"}},
		"no QR":        {&d, Seal{}},
	} {
		if _, err := Render(tc.doc, tc.seal); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}

func TestEuro(t *testing.T) {
	for cents, want := range map[int64]string{
		0: "0,00 €", 26: "0,26 €", 52: "0,52 €", 1600: "16,00 €", 1852: "18,52 €",
		123456: "1.234,56 €", 100000000: "1.000.000,00 €", -250: "-2,50 €",
	} {
		if got := Euro(cents); got != want {
			t.Errorf("Euro(%d) = %q, want %q", cents, got, want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"D'AMICO NICOLÒ":       "D'AMICO NICOLÒ",
		"Müller Jürgen":        "Müller Jürgen",
		"Ștefănescu Țugui":     "Ștefănescu Țugui",
		"Łukasz Wałęsa Dvořák": "Łukasz Wałęsa Dvořák",
		"16,00 € – “ok”":       "16,00 € – “ok”",
		"Nguyễn Thị Ánh":       "Nguyen Thi Ánh",
		"Ōsaka ‘x’":            "Osaka 'x’",
		"李":                    "?",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestGoldenText compares the text poppler extracts with testdata/*.txt:
// it proves the font encoding round-trips accented names.
func TestGoldenText(t *testing.T) {
	debtest.Need(t, "pdftotext")
	for name, d := range goldenDocs() {
		t.Run(name, func(t *testing.T) {
			in := writeTemp(t, render(t, d))
			got := debtest.Run(t, "pdftotext", "-layout", "-enc", "UTF-8", in, "-")
			for _, s := range []string{d.Subject.Name, d.Subject.CF, d.ID, d.Protocol, "Milano, 23/11/2026", d.Notices[0][:40]} {
				if !strings.Contains(got, s) {
					t.Errorf("extracted text lacks %q", s)
				}
			}
			golden(t, filepath.Join("testdata", name+".txt"), []byte(got), func(want []byte) bool {
				return bytes.Equal(want, []byte(got))
			})
		})
	}
}

// TestGoldenImage rasterises page 1 and compares it with testdata/*.png.
// Rendering is deterministic, so the images must match except for a few
// anti-aliased pixels should poppler's rasteriser change.
func TestGoldenImage(t *testing.T) {
	debtest.Need(t, "pdftoppm")
	for name, d := range goldenDocs() {
		t.Run(name, func(t *testing.T) {
			in := writeTemp(t, render(t, d))
			out := filepath.Join(t.TempDir(), "page")
			debtest.Run(t, "pdftoppm", "-r", "60", "-gray", "-png", "-singlefile", in, out)
			got, err := os.ReadFile(out + ".png")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", name+".png"), got, func(want []byte) bool {
				diff, total, err := pixelDiff(want, got)
				if err != nil {
					t.Log(err)
					return false
				}
				t.Logf("%d of %d pixels differ", diff, total)
				return diff*1000 <= total // 0.1 %
			})
		})
	}
}

func pixelDiff(a, b []byte) (diff, total int, err error) {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		return 0, 0, err
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return 0, 0, err
	}
	if ia.Bounds() != ib.Bounds() {
		return 1, 1, nil
	}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if gray(ia, x, y)-gray(ib, x, y) > 24 || gray(ib, x, y)-gray(ia, x, y) > 24 {
				diff++
			}
			total++
		}
	}
	return diff, total, nil
}

func gray(im image.Image, x, y int) int {
	r, g, b, _ := im.At(x, y).RGBA()
	return int((r + g + b) / 3 >> 8)
}

func golden(t *testing.T, path string, got []byte, same func(want []byte) bool) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !same(want) {
		t.Errorf("%s differs from the rendering (run go test -update after checking it)", path)
	}
}

func writeTemp(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "c.pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func BenchmarkRender(b *testing.B) {
	d := sample.StatoDiFamiglia()
	b.ReportAllocs()
	size := 0
	start := cpuTime()
	for b.Loop() {
		out, err := Render(&d, Seal{Token: fakeToken, QR: d.VerifyURL + "#t=" + fakeToken})
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	// The build machines are shared: CPU time per rendering is what other
	// processes' load does not inflate, as it does wall time.
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(size), "bytes/pdf")
}

// BenchmarkRenderVaried renders certificates of people with different
// names and codes, as a hub does: the font subsets then differ from one
// certificate to the next (BenchmarkRender's are always the same).
func BenchmarkRenderVaried(b *testing.B) {
	docs := []certificate.Document{sample.Residenza(), sample.StatoDiFamiglia()}
	rng := rand.New(rand.NewPCG(1, 2))
	// Capitals, and now and then a final accented vowel (NICOLÒ) or a
	// letter of a foreign name (ŁUKASZ).
	letters, accents := []rune("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), []rune("ÀÈÉÌÒÙÇÄÖÜŁŚŻĆĄĘŃÓ")
	word := func(n int) string {
		var w []rune
		for range n {
			w = append(w, letters[rng.IntN(len(letters))])
		}
		if rng.IntN(8) == 0 {
			w[n-1] = accents[rng.IntN(len(accents))]
		}
		return string(w)
	}
	b.ReportAllocs()
	size := 0
	start := cpuTime()
	for i := 0; b.Loop(); i++ {
		d := docs[i%len(docs)]
		d.Subject.Name = word(6) + " " + word(5)
		d.Subject.CF = word(6) + "85M12" + word(1) + "205" + word(1)
		out, err := Render(&d, Seal{Token: fakeToken, QR: d.VerifyURL + "#t=" + fakeToken})
		if err != nil {
			b.Fatal(err)
		}
		size = max(size, len(out))
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(size), "max-bytes/pdf")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestEncodeQRMatchesRSCQR: the cached plans give the symbols qr.Encode
// gives, for the three data encodings and several versions.
func TestEncodeQRMatchesRSCQR(t *testing.T) {
	for _, text := range []string{
		"12345678901234567890",
		"HTTPS://EXAMPLE.IT/V/ABC",
		"https://hub.example/v/C7Q2M9XK4T#t=" + fakeToken,
		"https://hub.example/v/C7Q2M9XK4T#t=" + strings.Repeat(fakeToken, 4),
	} {
		for range 2 { // the second time from the cache
			got, err := encodeQR(text)
			if err != nil {
				t.Fatal(err)
			}
			want, err := qr.Encode(text, qr.M)
			if err != nil {
				t.Fatal(err)
			}
			if got.Size != want.Size || !bytes.Equal(got.Bitmap, want.Bitmap) {
				t.Errorf("%q: the symbols differ", text)
			}
		}
	}
	if _, err := encodeQR(strings.Repeat("x", 4000)); err == nil {
		t.Error("a text too long for any version was encoded")
	}
}

// TestElisionInPDF: a subject born on the 11th is "nato ... l'11/08/1985"
// and a protocol of the 11th is "dell'11/...", never "il 11" or "del 11".
func TestElisionInPDF(t *testing.T) {
	debtest.Need(t, "pdftotext")
	d := sample.Residenza()
	d.Subject.BirthDate = "11/08/1985"
	d.Issued = d.Issued.AddDate(0, 0, 11-d.Issued.Day())
	got := debtest.Run(t, "pdftotext", "-layout", "-enc", "UTF-8", writeTemp(t, render(t, d)), "-")
	for _, want := range []string{"l'11/08/1985", "Protocollo n. " + d.Protocol + " dell'11/"} {
		if !strings.Contains(got, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"il 11/", "del 11/"} {
		if strings.Contains(got, bad) {
			t.Errorf("the PDF prints %q", bad)
		}
	}
}

// TestCodiceFiscaleNeverSplit: in a crowded family table (long names and
// places, five columns) every codice fiscale and date stays whole on one
// line, since a CF broken in two cannot be read or checked.
func TestCodiceFiscaleNeverSplit(t *testing.T) {
	debtest.Need(t, "pdftotext")
	d := sample.StatoDiFamiglia()
	long := "SAN GIOVANNI IN PERSICETO DI SOTTO (BO)"
	tab := &certificate.Table{Header: []string{"Cognome e nome", "Data di nascita", "Luogo di nascita", "Codice fiscale", "Rapporto con l'intestatario"}}
	for _, m := range d.Sections[0].Table.Rows {
		tab.Rows = append(tab.Rows, []string{m[0] + " DETTO ANCHE " + m[0] + " DE' BERNARDINIS", m[2], long, m[1], "intestatario della scheda di famiglia"})
	}
	d.Sections[0].Table = tab
	got := debtest.Run(t, "pdftotext", "-raw", "-enc", "UTF-8", writeTemp(t, render(t, d)), "-")
	for _, row := range tab.Rows {
		for _, whole := range []string{row[3], row[1]} { // the CF, and the date of birth
			if !strings.Contains(got, whole) {
				t.Errorf("%s is split across lines:\n%s", whole, got)
			}
		}
	}
}

// TestSealNeverAlone: however long the family table, the page that carries
// the QR seal also carries the signature line and the art. 40 notice.
func TestSealNeverAlone(t *testing.T) {
	debtest.Need(t, "pdftotext", "pdfinfo")
	base := sample.StatoDiFamiglia()
	rows := base.Sections[0].Table.Rows
	for n := 1; n <= 30; n++ {
		d := sample.StatoDiFamiglia()
		// A long rule of the city's own makes the signatory block taller.
		d.Issuer.SealRule = "Firma autografa sostituita dal sigillo elettronico qualificato del Comune di Milano, " +
			"il cui certificato è rilasciato da un prestatore di servizi fiduciari qualificato, ai sensi dell'art. 35 " +
			"del Regolamento UE 910/2014 (eIDAS) e degli artt. 20 e 24 del D.Lgs. 82/2005 (CAD)."
		tab := &certificate.Table{Header: d.Sections[0].Table.Header}
		for i := range n {
			tab.Rows = append(tab.Rows, rows[i%len(rows)])
		}
		d.Sections[0].Table = tab
		in := writeTemp(t, render(t, d))
		info := debtest.Run(t, "pdfinfo", in)
		pages := ""
		for _, l := range strings.Split(info, "\n") {
			if strings.HasPrefix(l, "Pages:") {
				pages = strings.TrimSpace(strings.TrimPrefix(l, "Pages:"))
			}
		}
		last := debtest.Run(t, "pdftotext", "-f", pages, "-l", pages, "-raw", "-enc", "UTF-8", in, "-")
		if !strings.Contains(last, "Certificato n. "+d.ID) {
			t.Fatalf("%d members: the seal is not on the last page (%s):\n%s", n, pages, last)
		}
		for _, want := range []string{"Firma autografa sostituita", "Maria Grazia Colombo", d.Notices[0][:30]} {
			if !strings.Contains(last, want) {
				t.Errorf("%d members: the seal's page %s lacks %q:\n%s", n, pages, want, last)
			}
		}
	}
}

// TestSignatoryPrinted: the closing block names the delegated officer with
// the act that delegates them and says the comune's seal replaces the
// signature under the city's rule; with no officer set it keeps the role
// alone, and with no rule set it prints the default one.
func TestSignatoryPrinted(t *testing.T) {
	debtest.Need(t, "pdftotext")
	const rule = "Documento sottoscritto con sigillo elettronico qualificato del Comune di Milano (art. 35 Reg. UE 910/2014)."
	tests := []struct {
		name          string
		issuer        func(*certificate.Issuer)
		want, wantNot []string
	}{
		{"delegated officer, default rule", func(*certificate.Issuer) {},
			[]string{"L'Ufficiale d'Anagrafe delegato", "Maria Grazia Colombo", "(delega: decreto sindacale n. 12 del 03/02/2025)", certificate.DefaultSealRule},
			nil},
		{"the city's own rule", func(i *certificate.Issuer) { i.SealRule = rule },
			[]string{"Maria Grazia Colombo", rule},
			[]string{certificate.DefaultSealRule}},
		{"no officer named", func(i *certificate.Issuer) { i.OfficerName, i.Delegation = "", "" },
			[]string{"L'Ufficiale d'Anagrafe", certificate.DefaultSealRule},
			[]string{"delegato", "delega:", "Colombo"}},
		{"officer without a delegation", func(i *certificate.Issuer) { i.Delegation = "" },
			[]string{"L'Ufficiale d'Anagrafe", "Maria Grazia Colombo"},
			[]string{"delegato", "delega:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := sample.Residenza()
			tc.issuer(&d.Issuer)
			// -raw keeps the reading order; the comparison ignores line
			// breaks, since the half-page column wraps the sentences.
			got := squash(debtest.Run(t, "pdftotext", "-raw", "-enc", "UTF-8", writeTemp(t, render(t, d)), "-"))
			for _, w := range tc.want {
				if !strings.Contains(got, squash(w)) {
					t.Errorf("the certificate lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(got, squash(w)) {
					t.Errorf("the certificate prints %q:\n%s", w, got)
				}
			}
		})
	}
}

func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
