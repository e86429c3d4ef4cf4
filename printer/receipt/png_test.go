package receipt

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/sportello/sportello/printer/escpos/escposdec"
)

// paperPNG draws a decoded receipt as the printer would lay it on the
// paper, for a person to look at: one character cell of 12×24 dots (so
// 48 columns fill 80 mm paper's 576 dots), double width and height as
// printed, bold in a bold face, pictures (QR codes) at their dot size.
func paperPNG(t *testing.T, doc *escposdec.Document, cols int) []byte {
	t.Helper()
	const cw, ch = 12, 24
	faces := map[bool]map[int]font.Face{false: {}, true: {}}
	face := func(bold bool, h int) font.Face {
		if f, ok := faces[bold][h]; ok {
			return f
		}
		data := gomono.TTF
		if bold {
			data = gomonobold.TTF
		}
		ft, err := opentype.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		// Go Mono's advance is 0.6 em: a 20-point face at 72 dpi is 12
		// dots wide, a cell.
		f, err := opentype.NewFace(ft, &opentype.FaceOptions{Size: 20 * float64(h), DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			t.Fatal(err)
		}
		faces[bold][h] = f
		return f
	}
	height := 16
	for _, l := range doc.Lines {
		height += ch * max(1, l.Height)
	}
	for _, im := range doc.Images {
		height += im.Img.Bounds().Dy() + 8
	}
	width := cols*cw + 32
	img := image.NewGray(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	y, next := 8, 0
	pictures := func(i int) {
		for next < len(doc.Images) && doc.Images[next].After == i {
			p := doc.Images[next].Img
			x := 16 + max(0, (cols*cw-p.Bounds().Dx())/2)
			draw.Draw(img, image.Rect(x, y, x+p.Bounds().Dx(), y+p.Bounds().Dy()), p, p.Bounds().Min, draw.Src)
			y += p.Bounds().Dy() + 8
			next++
		}
	}
	for i, l := range doc.Lines {
		pictures(i)
		w, h := max(1, l.Width), max(1, l.Height)
		runes := []rune(l.Text)
		x := 16
		switch l.Align {
		case 1:
			x += max(0, (cols-len(runes)*w)/2) * cw
		case 2:
			x += max(0, cols-len(runes)*w) * cw
		}
		// The face as wide as the cell; a taller cell (double height
		// alone) keeps it, on the cell's baseline.
		d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face(l.Bold, w)}
		for j, r := range runes {
			d.Dot = fixed.P(x+j*w*cw, y+ch*h-6*w)
			d.DrawString(string(r))
		}
		y += ch * h
	}
	pictures(len(doc.Lines))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img.SubImage(image.Rect(0, 0, width, y+8))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writePaperPNG keeps the picture of a receipt in testdata for review
// when the goldens are rewritten (go test -update); the text golden is
// what the test compares.
func writePaperPNG(t *testing.T, name string, doc *escposdec.Document, cols int) {
	t.Helper()
	if !*update {
		return
	}
	if err := os.WriteFile(filepath.Join("testdata", name+".png"), paperPNG(t, doc, cols), 0o644); err != nil {
		t.Fatal(err)
	}
}
