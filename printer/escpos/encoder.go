package escpos

import (
	"fmt"
	"image"
	"image/color"
	"unicode/utf8"

	"github.com/skip2/go-qrcode"
	"golang.org/x/text/unicode/norm"
)

// Command bytes (ESC/POS Application Programming Guide).
const (
	esc = 0x1B
	gs  = 0x1D
	dle = 0x10
	eot = 0x04
	lf  = 0x0A
)

// Align is a justification for ESC a.
type Align byte

const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

// ECC is a QR error-correction level.
type ECC byte

const (
	ECCLow      ECC = 'L'
	ECCMedium   ECC = 'M'
	ECCQuartile ECC = 'Q'
	ECCHigh     ECC = 'H'
)

// Encoder builds one ESC/POS document for one profile. Methods append to an
// internal buffer; the first error sticks and is returned by Bytes, so a
// layout can be written as a straight list of calls.
type Encoder struct {
	p   Profile
	buf []byte
	err error
}

// NewEncoder starts a document: ESC @ resets the printer, ESC t selects the
// profile's code page.
func NewEncoder(p Profile) *Encoder {
	e := &Encoder{p: p, buf: make([]byte, 0, 2048)}
	e.buf = append(e.buf, esc, '@', esc, 't', p.CodePage.N)
	return e
}

// Profile returns the profile the encoder writes for.
func (e *Encoder) Profile() Profile { return e.p }

// Bold turns emphasis on or off (ESC E n).
func (e *Encoder) Bold(on bool) *Encoder {
	e.buf = append(e.buf, esc, 'E', b2n(on))
	return e
}

// Size sets character width and height multipliers 1-8 (GS ! n).
func (e *Encoder) Size(w, h int) *Encoder {
	if w < 1 || w > 8 || h < 1 || h > 8 {
		e.fail(fmt.Errorf("character size %dx%d is outside 1-8", w, h))
		return e
	}
	e.buf = append(e.buf, gs, '!', byte((w-1)<<4|(h-1)))
	return e
}

// Align sets justification (ESC a n); it applies from the start of a line.
func (e *Encoder) Align(a Align) *Encoder {
	e.buf = append(e.buf, esc, 'a', byte(a))
	return e
}

// Text appends text in the profile's code page, without a line feed.
// Characters the code page lacks are transliterated (€ → EUR, à → a when the
// page has no à) or printed as '?', never sent as raw UTF-8.
func (e *Encoder) Text(s string) *Encoder {
	e.buf = e.p.CodePage.AppendEncoded(e.buf, s)
	return e
}

// Line appends text and a line feed.
func (e *Encoder) Line(s string) *Encoder {
	e.Text(s)
	e.buf = append(e.buf, lf)
	return e
}

// Feed prints and feeds n lines (ESC d n).
func (e *Encoder) Feed(n int) *Encoder {
	if n < 0 || n > 255 {
		e.fail(fmt.Errorf("feed of %d lines is outside 0-255", n))
		return e
	}
	e.buf = append(e.buf, esc, 'd', byte(n))
	return e
}

// Cut feeds the paper past the cutter and cuts partially (GS V 66 n), or
// feeds only when the model has no cutter.
func (e *Encoder) Cut() *Encoder {
	if !e.p.Cutter {
		return e.Feed(4)
	}
	e.buf = append(e.buf, gs, 'V', 66, 3)
	return e
}

// Drawer kicks the cash drawer on pin 2 (ESC p 0 t1 t2; pulse 50 ms on,
// 500 ms off, in units of 2 ms), if the model has a drawer port.
func (e *Encoder) Drawer() *Encoder {
	if e.p.Drawer {
		e.buf = append(e.buf, esc, 'p', 0, 25, 250)
	}
	return e
}

// QR prints data as a QR code of the given module size in dots, natively
// when the model can, else as a raster image.
func (e *Encoder) QR(data string, module int, ecc ECC) *Encoder {
	if module < 1 || module > 16 {
		e.fail(fmt.Errorf("QR module size %d is outside 1-16 dots", module))
		return e
	}
	if data == "" {
		e.fail(fmt.Errorf("QR code has no data"))
		return e
	}
	if e.p.NativeQR {
		return e.nativeQR(data, module, ecc)
	}
	level := map[ECC]qrcode.RecoveryLevel{ECCLow: qrcode.Low, ECCMedium: qrcode.Medium, ECCQuartile: qrcode.High, ECCHigh: qrcode.Highest}[ecc]
	q, err := qrcode.New(data, level)
	if err != nil {
		e.fail(fmt.Errorf("cannot make a QR code of %d bytes: %w", len(data), err))
		return e
	}
	q.DisableBorder = true
	return e.Image(bitmapImage{q.Bitmap(), module})
}

// nativeQR is the GS ( k sequence for model 2 (function 165 select model,
// 167 module size, 169 error correction, 180 store, 181 print).
func (e *Encoder) nativeQR(data string, module int, ecc ECC) *Encoder {
	if len(data) > 7089 {
		e.fail(fmt.Errorf("QR data of %d bytes is longer than a QR code holds", len(data)))
		return e
	}
	eccN := map[ECC]byte{ECCLow: 48, ECCMedium: 49, ECCQuartile: 50, ECCHigh: 51}[ecc]
	if eccN == 0 {
		e.fail(fmt.Errorf("QR error correction %q is not L, M, Q or H", ecc))
		return e
	}
	e.buf = append(e.buf,
		gs, '(', 'k', 4, 0, 49, 65, 50, 0,
		gs, '(', 'k', 3, 0, 49, 67, byte(module),
		gs, '(', 'k', 3, 0, 49, 69, eccN)
	n := len(data) + 3
	e.buf = append(e.buf, gs, '(', 'k', byte(n), byte(n>>8), 49, 80, 48)
	e.buf = append(e.buf, data...)
	e.buf = append(e.buf, gs, '(', 'k', 3, 0, 49, 81, 48)
	return e
}

// Image prints an image as black (dark) and white dots with GS v 0, in
// bands no taller than the profile allows. It is cropped to the paper.
func (e *Encoder) Image(img image.Image) *Encoder {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > e.p.Paper.Dots {
		e.fail(fmt.Errorf("image %d dots wide does not fit %d dots of paper", w, e.p.Paper.Dots))
		return e
	}
	if w == 0 || h == 0 {
		return e
	}
	bytesPerRow := (w + 7) / 8
	isDark := func(x, y int) bool { return dark(img.At(b.Min.X+x, b.Min.Y+y)) }
	if bm, ok := img.(bitmapImage); ok {
		// Skips a colour interface value per dot: QR codes are most of a
		// receipt's encoding time on printers without native QR.
		isDark = func(x, y int) bool { return bm.bits[y/bm.module][x/bm.module] }
	}
	band := e.p.MaxBandRows
	if band <= 0 {
		band = 256
	}
	for y0 := 0; y0 < h; y0 += band {
		rows := min(band, h-y0)
		e.buf = append(e.buf, gs, 'v', '0', 0,
			byte(bytesPerRow), byte(bytesPerRow>>8), byte(rows), byte(rows>>8))
		for y := y0; y < y0+rows; y++ {
			for xb := 0; xb < bytesPerRow; xb++ {
				var v byte
				for bit := 0; bit < 8; bit++ {
					x := xb*8 + bit
					if x < w && isDark(x, y) {
						v |= 0x80 >> bit
					}
				}
				e.buf = append(e.buf, v)
			}
		}
	}
	return e
}

// Raw appends bytes as they are, for commands this encoder does not know.
func (e *Encoder) Raw(b []byte) *Encoder {
	e.buf = append(e.buf, b...)
	return e
}

// Bytes returns the document, or the first error met while building it.
func (e *Encoder) Bytes() ([]byte, error) {
	if e.err != nil {
		return nil, e.err
	}
	return e.buf, nil
}

func (e *Encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func b2n(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func dark(c color.Color) bool {
	r, g, b, a := c.RGBA()
	if a < 0x8000 {
		return false
	}
	// Rec. 601 luma on 16-bit channels.
	return (299*r+587*g+114*b)/1000 < 0x8000
}

// bitmapImage scales a QR bitmap by module dots without allocating pixels.
type bitmapImage struct {
	bits   [][]bool
	module int
}

func (b bitmapImage) ColorModel() color.Model { return color.GrayModel }
func (b bitmapImage) Bounds() image.Rectangle {
	n := len(b.bits) * b.module
	return image.Rect(0, 0, n, n)
}
func (b bitmapImage) At(x, y int) color.Color {
	if b.bits[y/b.module][x/b.module] {
		return color.Black
	}
	return color.White
}

// transliterations for characters common in Italian text that a code page
// may lack; anything else is decomposed and stripped of accents, then '?'.
var translit = map[rune]string{
	'€': "EUR", '‘': "'", '’': "'", '“': `"`, '”': `"`, '«': `"`, '»': `"`,
	'–': "-", '—': "-", '…': "...", '\u00a0': " ", '°': "o", 'ß': "ss",
	'Œ': "OE", 'œ': "oe", '·': ".",
}

// AppendEncoded appends s in the code page to dst.
func (cp CodePage) AppendEncoded(dst []byte, s string) []byte {
	for _, r := range s {
		if r < 0x80 && r >= 0x20 || r == '\n' {
			dst = append(dst, byte(r))
			continue
		}
		if b, ok := cp.Charmap.EncodeRune(r); ok && r >= 0x20 {
			dst = append(dst, b)
			continue
		}
		dst = cp.appendFallback(dst, r)
	}
	return dst
}

func (cp CodePage) appendFallback(dst []byte, r rune) []byte {
	if t, ok := translit[r]; ok {
		return cp.AppendEncoded(dst, t)
	}
	// à → a + combining grave: keep the base letter if it is ASCII.
	var tmp [utf8.UTFMax]byte
	d := norm.NFD.String(string(tmp[:utf8.EncodeRune(tmp[:], r)]))
	if base, _ := utf8.DecodeRuneInString(d); base < 0x80 && base >= 0x20 && len(d) > 1 {
		return append(dst, byte(base))
	}
	return append(dst, '?')
}

// Encode returns s in the code page.
func (cp CodePage) Encode(s string) []byte { return cp.AppendEncoded(nil, s) }

// Width counts the printed characters of s in the code page, for layout.
func (cp CodePage) Width(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return len(cp.AppendEncoded(nil, s))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// StatusQuery is DLE EOT n, the real-time status request (n 1-4).
func StatusQuery(n byte) []byte { return []byte{dle, eot, n} }
