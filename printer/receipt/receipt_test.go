package receipt

import (
	"bytes"
	"flag"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/escpos/escposdec"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current encoder")

var demoTime = time.Date(2026, 3, 12, 14, 5, 0, 0, time.FixedZone("CET", 3600))

func TestEncode(t *testing.T) {
	tests := []struct {
		model  string
		paper  int
		lang   Lang
		want   []string // lines that must appear, exactly
		native bool
	}{
		{"tm-t20", 80, Italian, []string{
			"Edicola Città Studi", "Operatore: OP-0042", "12/03/2026 14:05",
			"Certificato di residenza", "  Prot. 2026/000123",
			"Certificato di stato di famiglia", "  Prot. 2026/000124",
			"Imposta di bollo" + strings.Repeat(" ", 48-16-7) + "16,00 €",
			"Bollo" + strings.Repeat(" ", 48-5-6) + "esente",
			"Diritti di segreteria" + strings.Repeat(" ", 48-21-6) + "0,52 €",
			"Servizio" + strings.Repeat(" ", 48-8-6) + "2,00 €",
			"TOTALE" + strings.Repeat(" ", 48-6-7) + "18,52 €",
			"Verifica l'autenticità del certificato:",
		}, true},
		{"tm-t88", 80, English, []string{
			"Edicola Città Studi", "Operator: OP-0042", "12/03/2026 14:05",
			"Certificate of residence", "  Ref. 2026/000123",
			"Stamp duty (bollo)" + strings.Repeat(" ", 42-18-6) + "€16.00",
			"TOTAL" + strings.Repeat(" ", 42-5-6) + "€18.52",
		}, true},
		// PC437 has à and è but no €: the euro is spelled out.
		{"generic", 58, Italian, []string{
			"Edicola Città Studi",
			"Imposta di bollo" + strings.Repeat(" ", 32-16-9) + "16,00 EUR",
			"TOTALE" + strings.Repeat(" ", 32-6-9) + "18,52 EUR",
		}, false},
	}
	for _, tt := range tests {
		name := tt.model + "_" + itoa(tt.paper) + "_" + string(tt.lang)
		t.Run(name, func(t *testing.T) {
			p, err := escpos.Lookup(tt.model, tt.paper)
			if err != nil {
				t.Fatal(err)
			}
			r := Demo(demoTime, tt.lang)
			got, err := Encode(r, p)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, got)
			doc := readBack(t, got, p, tt.want, tt.native, r.VerifyURL)
			if l, ok := doc.Find("Edicola"); !ok || !l.Bold || l.Align != 1 || l.Height != 2 {
				t.Errorf("shop name line is %+v, want bold, centred, double height", l)
			}
		})
	}
}

// readBack decodes a receipt as a printer would print it and checks what
// every receipt must hold: no line wider than the paper, each line of want,
// a bold total, one cut, the privacy notice, and one QR (the printer's own
// when native) that scans to qr.
func readBack(t *testing.T, got []byte, p escpos.Profile, want []string, native bool, qr string) *escposdec.Document {
	t.Helper()
	doc, err := escposdec.Decode(got)
	if err != nil {
		t.Fatalf("our own output does not decode: %v", err)
	}
	have := map[string]bool{}
	for _, l := range doc.Lines {
		have[l.Text] = true
		if w := len([]rune(l.Text)) * l.Width; w > p.Paper.Columns {
			t.Errorf("line %q is %d columns wide, paper has %d", l.Text, w, p.Paper.Columns)
		}
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("receipt lacks the line %q; it reads:\n%s", w, doc.Text())
		}
	}
	if l, ok := doc.Find("TOT"); !ok || !l.Bold {
		t.Errorf("total line is %+v, want bold", l)
	}
	if doc.Cuts != 1 {
		t.Errorf("receipt cuts %d times, want 1", doc.Cuts)
	}
	if !strings.Contains(doc.Text(), "2016/679") {
		t.Errorf("receipt has no privacy notice:\n%s", doc.Text())
	}
	if len(doc.Images) != 1 {
		t.Fatalf("receipt has %d images, want one QR", len(doc.Images))
	}
	img := doc.Images[0]
	if native != (img.Kind == "qr") {
		t.Errorf("QR printed as %s on %s", img.Kind, p.Name)
	}
	if img.Kind == "qr" && img.QRData != qr {
		t.Errorf("native QR holds %q, want %q", img.QRData, qr)
	}
	if got := scanQR(t, img.Img); got != qr {
		t.Errorf("zbarimg reads %q from the QR, want %q", got, qr)
	}
	return doc
}

func TestValidate(t *testing.T) {
	ok := Demo(demoTime, Italian)
	tests := []struct {
		name   string
		change func(*Receipt)
		want   string
	}{
		{"language", func(r *Receipt) { r.Lang = "de" }, "language"},
		{"shop", func(r *Receipt) { r.Shop = " " }, "shop"},
		{"time", func(r *Receipt) { r.Time = time.Time{} }, "date"},
		{"no certificate", func(r *Receipt) { r.Certificates = nil }, "no certificate"},
		{"protocol", func(r *Receipt) { r.Certificates[0].Protocol = "" }, "protocol"},
		{"negative", func(r *Receipt) { r.Fees[0].Cents = -1 }, "negative"},
		{"exemption code", func(r *Receipt) { r.Fees[1].Code = "" }, "exemption code"},
		{"total", func(r *Receipt) { r.TotalCents = 1800 }, "differs"},
		{"url", func(r *Receipt) { r.VerifyURL = "" }, "verification URL"},
	}
	p, _ := escpos.Lookup("tm-t20", 80)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Demo(demoTime, Italian)
			r.Certificates = append([]Certificate(nil), r.Certificates...)
			r.Fees = append([]Fee(nil), r.Fees...)
			tt.change(&r)
			_, err := Encode(r, p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Encode error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("demo receipt does not validate: %v", err)
	}
}

func TestUnknownTypeAndLongWords(t *testing.T) {
	p, _ := escpos.Lookup("generic", 58)
	r := Demo(demoTime, English)
	r.Certificates = []Certificate{{Type: "nuovo_tipo_futuro", Protocol: "X1"}}
	r.VerifyURL = "https://hub.example.it/v/" + strings.Repeat("A", 60)
	b, err := Encode(r, p)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := escposdec.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Find("nuovo tipo futuro"); !ok {
		t.Errorf("unknown type not printed legibly:\n%s", doc.Text())
	}
	var url strings.Builder
	for _, l := range doc.Lines {
		if len(l.Text) > 32 {
			t.Errorf("line %q exceeds 32 columns", l.Text)
		}
		if strings.HasPrefix(l.Text, "https://") || (url.Len() > 0 && strings.Trim(l.Text, "A") == "") {
			url.WriteString(l.Text)
		}
	}
	if url.String() != r.VerifyURL {
		t.Errorf("wrapped URL reassembles to %q, want %q", url.String(), r.VerifyURL)
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, m := range []string{"tm-t20", "generic"} {
		b.Run(m, func(b *testing.B) {
			p, _ := escpos.Lookup(m, 0)
			r := Demo(demoTime, Italian)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(r, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("encoding differs from %s at byte %d (got %d bytes, want %d); if intended, run go test -update", path, i, len(got), len(want))
	}
}

// scanQR reads a QR code with zbarimg, an implementation independent of the
// one that drew it.
func scanQR(t *testing.T, img image.Image) string {
	t.Helper()
	png, err := escposdec.PNG(img, 16)
	if err != nil {
		t.Fatal(err)
	}
	got, err := escposdec.Scan(png)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestLongProtocolNumber: a number with its register's codes is printed
// whole on a line of its own when it does not fit beside its label.
func TestLongProtocolNumber(t *testing.T) {
	const number = "c_f205.A1B2C3D.CERT.2026/0000123"
	for _, c := range []struct {
		paper int
		want  []string
	}{
		{58, []string{"  Prot.", number}},
		{80, []string{"  Prot. " + number}},
	} {
		p, err := escpos.Lookup("generic", c.paper)
		if err != nil {
			t.Fatal(err)
		}
		r := Demo(demoTime, Italian)
		r.Certificates[0].Protocol = number
		got, err := Encode(r, p)
		if err != nil {
			t.Fatal(err)
		}
		readBack(t, got, p, c.want, false, r.VerifyURL)
	}
}
