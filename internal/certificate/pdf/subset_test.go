package pdf

import (
	"bytes"
	"compress/zlib"
	"io"
	"regexp"
	"strconv"
	"testing"

	"github.com/sportello/sportello/internal/certificate/pdf/sample"
)

// streams returns the decompressed streams of a finished PDF whose
// dictionary has /Length1 (the embedded fonts), in file order.
func fontStreams(t *testing.T, pdf []byte) [][]byte {
	t.Helper()
	re := regexp.MustCompile(`<</Filter /FlateDecode /Length (\d+) /Length1 (\d+)>>\nstream\n`)
	var out [][]byte
	for _, m := range re.FindAllSubmatchIndex(pdf, -1) {
		n, _ := strconv.Atoi(string(pdf[m[2]:m[3]]))
		n1, _ := strconv.Atoi(string(pdf[m[4]:m[5]]))
		zr, err := zlib.NewReader(bytes.NewReader(pdf[m[1] : m[1]+n]))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != n1 {
			t.Fatalf("a font stream has %d bytes, its /Length1 says %d", len(b), n1)
		}
		out = append(out, b)
	}
	return out
}

// TestFontSubset: each embedded font is a TrueType file holding the
// outlines of the glyphs the page shows, byte for byte those of the whole
// font, and no others.
func TestFontSubset(t *testing.T) {
	fo, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	d := sample.Residenza()
	fonts := fontStreams(t, render(t, d))
	if len(fonts) != 2 {
		t.Fatalf("%d fonts embedded, want 2", len(fonts))
	}
	// sameGlyph: the subset packs glyphs on four-byte boundaries.
	sameGlyph := func(sub, orig []byte) bool {
		return len(sub) >= len(orig) && len(sub)-len(orig) < 4 && bytes.Equal(sub[:len(orig)], orig)
	}
	var regular, bold *ttfFont
	for _, b := range fonts {
		if len(b) > 12<<10 {
			t.Errorf("an embedded font has %d bytes", len(b))
		}
		sub, err := parseTTF(b, fo.toByte)
		if err != nil {
			t.Fatalf("the embedded font does not parse: %v", err)
		}
		orig := fo.regular.ttf
		if g := orig.byCode['C']; !sameGlyph(sub.glyphs[g], orig.glyphs[g]) {
			orig, bold = fo.bold.ttf, sub
		} else {
			regular = sub
		}
		kept := 0
		for g := range sub.glyphs {
			if len(sub.glyphs[g]) == 0 {
				continue
			}
			kept++
			if !sameGlyph(sub.glyphs[g], orig.glyphs[g]) {
				t.Fatalf("glyph %d differs from the whole font's", g)
			}
		}
		if kept < 20 || kept > 120 {
			t.Errorf("%d glyphs kept of %d: not a subset of one page's", kept, len(orig.glyphs))
		}
	}
	if regular == nil || bold == nil {
		t.Fatal("the fonts embedded are not DejaVu Sans and its bold")
	}
	// Letters the page shows are kept, letters it does not are dropped:
	// "Ò" of NICOLÒ in bold, "Q" of the codice fiscale in regular, "W"
	// nowhere.
	has := func(f *ttfFont, r rune) bool { return len(f.glyphs[f.byCode[fo.toByte[r]]]) > 0 }
	if !has(bold, 'Ò') || !has(regular, 'Q') {
		t.Error("a glyph the page shows is missing from its font")
	}
	if has(regular, 'W') || has(bold, 'W') {
		t.Error("a glyph the page does not show was embedded")
	}
}

func TestShownCodes(t *testing.T) {
	used := map[string]*[256]bool{"regular": new([256]bool), "bold": new([256]bool)}
	res := map[string]string{"F1": "regular", "F2": "bold"}
	page := []byte("BT /F1 10.00 Tf ET\nBT 1 2 Td (a\\(b\\)\\\\c\\101\\r) Tj ET\n" +
		"BT /F2 12 Tf ET\nq BT 1 2 Td (x (nested) y)Tj ET Q\n0 0 1 1 re f\n")
	if err := shownCodes(page, res, used); err != nil {
		t.Fatal(err)
	}
	got := func(u *[256]bool) string {
		var s []byte
		for c, ok := range u {
			if ok {
				s = append(s, byte(c))
			}
		}
		return string(s)
	}
	if g := got(used["regular"]); g != "\r()A\\abc" {
		t.Errorf("regular shows %q, want %q", g, "\r()A\\abc")
	}
	if g := got(used["bold"]); g != " ()denstxy" {
		t.Errorf("bold shows %q, want %q", g, " ()densxty")
	}
	if err := shownCodes([]byte("BT /F9 10 Tf ET"), res, used); err == nil {
		t.Error("a font not embedded was accepted")
	}
}

func TestShownWidthsAndDifferences(t *testing.T) {
	var used [256]bool
	for _, c := range []byte{32, 34, 127, 128, 132, 133} {
		used[c] = true
	}
	w := shownWidths([]byte("[318 401 460 838]\n"), &used)
	if string(w) != "[318 0 460 0]\n" {
		t.Errorf("widths %q", w)
	}
	d := shownDifferences([]byte("<</Type /Encoding /Differences [127 /Euro /quoteright 131 /endash /emdash /abreve 200 /x]>>"), &used)
	if want := "<</Type /Encoding /Differences [127 /Euro /quoteright 132 /emdash /abreve]>>"; string(d) != want {
		t.Errorf("differences %q, want %q", d, want)
	}
}
