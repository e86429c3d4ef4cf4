package pdffont

import (
	"bytes"
	"math"
	"testing"
)

// The documents print Italian names in both weights: a family that is not
// registered, or a weight missing, makes fpdf fail the whole document.
func TestNewA4(t *testing.T) {
	for _, orientation := range []string{"P", "L"} {
		f, err := NewA4(orientation)
		if err != nil {
			t.Fatal(err)
		}
		f.AddPage()
		for _, style := range []string{"", "B"} {
			f.SetFont(Family, style, 10)
			f.CellFormat(0, 5, "Niccolò D'Amelio — città", "", 1, "L", false, 0, "")
		}
		w, h := f.GetPageSize()
		w, h = math.Round(w), math.Round(h)
		if orientation == "P" && (w != 210 || h != 297) || orientation == "L" && (w != 297 || h != 210) {
			t.Errorf("%s: page %.0f×%.0f mm, want A4 in that orientation", orientation, w, h)
		}
		var out bytes.Buffer
		if err := f.Output(&out); err != nil {
			t.Fatalf("%s: %v", orientation, err)
		}
		// fpdf names an embedded UTF-8 font "utf8" + family + style.
		for _, want := range []string{"/FontName /utf8dejavu\n", "/FontName /utf8dejavuB\n", "/Creator (\xfe\xff\x00S\x00p\x00o\x00r\x00t\x00e\x00l\x00l\x00o)"} {
			if !bytes.Contains(out.Bytes(), []byte(want)) {
				t.Errorf("%s: the PDF lacks %q", orientation, want)
			}
		}
	}
}
