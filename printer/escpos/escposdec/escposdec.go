// Package escposdec reads ESC/POS back into what a printer would put on
// paper: lines of text with their attributes, raster images and QR codes.
// It is written apart from the encoder (its own code-page table, its own
// parsing) so tests that encode and decode check the encoder rather than
// echo it. It is strict: a byte it does not understand is an error, since a
// real printer would print garbage there.
package escposdec

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"strings"

	"github.com/skip2/go-qrcode"
	"golang.org/x/text/encoding/charmap"
)

// Line is one printed line.
type Line struct {
	Text   string
	Bold   bool // any character on the line was bold
	Align  byte // 0 left, 1 centre, 2 right, as set when the line began
	Width  int  // largest character width multiplier on the line
	Height int
}

// Image is a picture on the paper: a raster image (GS v 0 bands joined) or
// a native QR code rendered from its stored data.
type Image struct {
	Kind   string // "raster" or "qr"
	Img    *image.Gray
	QRData string // for "qr": the bytes stored with GS ( k function 180
	Module int    // for "qr": dots per module
	ECC    byte   // for "qr": 'L', 'M', 'Q' or 'H'
	After  int    // number of Lines printed before this image
}

// Document is everything decoded from a job.
type Document struct {
	Lines         []Line
	Images        []Image
	CodePages     []byte // every ESC t argument, in order
	Inits         int
	Cuts          int
	DrawerKicks   int
	StatusQueries []byte // DLE EOT arguments
}

// Text is the document's lines joined by newlines.
func (d *Document) Text() string {
	var b strings.Builder
	for _, l := range d.Lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// Find returns the first line containing s, and whether there is one.
func (d *Document) Find(s string) (Line, bool) {
	for _, l := range d.Lines {
		if strings.Contains(l.Text, s) {
			return l, true
		}
	}
	return Line{}, false
}

// codePages maps ESC t arguments to tables, per Epson's numbering.
var codePages = map[byte]*charmap.Charmap{
	0:  charmap.CodePage437,
	2:  charmap.CodePage850,
	16: charmap.Windows1252,
	19: charmap.CodePage858,
}

type state struct {
	doc       Document
	cp        *charmap.Charmap
	bold      bool
	align     byte
	w, h      int
	line      []rune
	lineBold  bool
	lineAlign byte
	lineW     int
	lineH     int
	qrModule  int
	qrECC     byte
	qrData    []byte
	qrStored  bool
	lastBand  bool // previous command was a GS v 0 band: join the next
}

func (s *state) reset() {
	s.cp = codePages[0]
	s.bold, s.align, s.w, s.h = false, 0, 1, 1
	s.qrModule, s.qrECC = 3, 'L'
}

func (s *state) putRune(r rune) {
	if len(s.line) == 0 {
		s.lineAlign = s.align
		s.lineW, s.lineH, s.lineBold = s.w, s.h, false
	}
	s.line = append(s.line, r)
	s.lineBold = s.lineBold || s.bold
	s.lineW, s.lineH = max(s.lineW, s.w), max(s.lineH, s.h)
}

func (s *state) endLine() {
	if len(s.line) == 0 {
		s.doc.Lines = append(s.doc.Lines, Line{Align: s.align, Width: s.w, Height: s.h})
		return
	}
	s.doc.Lines = append(s.doc.Lines, Line{Text: string(s.line), Bold: s.lineBold, Align: s.lineAlign, Width: s.lineW, Height: s.lineH})
	s.line = s.line[:0]
}

// flush prints pending text, as graphics and cuts do on a real printer.
func (s *state) flush() {
	if len(s.line) > 0 {
		s.endLine()
	}
}

// Decode parses a whole ESC/POS job.
func Decode(data []byte) (*Document, error) {
	s := &state{}
	s.reset()
	i := 0
	need := func(n int) error {
		if i+n > len(data) {
			return fmt.Errorf("command at byte %d is cut short: needs %d bytes, %d left", i, n, len(data)-i)
		}
		return nil
	}
	for i < len(data) {
		c := data[i]
		band := false
		switch {
		case c == 0x0A:
			s.endLine()
			i++
		case c == 0x0D:
			i++
		case c == 0x10: // DLE
			if err := need(3); err != nil {
				return nil, err
			}
			if data[i+1] != 0x04 || data[i+2] < 1 || data[i+2] > 4 {
				return nil, fmt.Errorf("unknown DLE command % x at byte %d", data[i:i+3], i)
			}
			s.doc.StatusQueries = append(s.doc.StatusQueries, data[i+2])
			i += 3
		case c == 0x1B: // ESC
			if err := need(2); err != nil {
				return nil, err
			}
			switch data[i+1] {
			case '@':
				s.flush()
				s.reset()
				s.doc.Inits++
				i += 2
			case 't', 'E', 'a', 'd', '-', 'M':
				if err := need(3); err != nil {
					return nil, err
				}
				n := data[i+2]
				switch data[i+1] {
				case 't':
					cp, ok := codePages[n]
					if !ok {
						return nil, fmt.Errorf("ESC t %d at byte %d selects a code page this decoder does not know", n, i)
					}
					s.cp = cp
					s.doc.CodePages = append(s.doc.CodePages, n)
				case 'E':
					s.bold = n&1 == 1
				case 'a':
					if n > 2 && (n < '0' || n > '2') {
						return nil, fmt.Errorf("ESC a %d at byte %d is not a justification", n, i)
					}
					s.align = n % 48
				case 'd':
					if len(s.line) > 0 {
						s.endLine()
						n--
					}
					for ; n > 0; n-- {
						s.endLine()
					}
				}
				i += 3
			case 'p':
				if err := need(5); err != nil {
					return nil, err
				}
				s.doc.DrawerKicks++
				i += 5
			default:
				return nil, fmt.Errorf("unknown command ESC %q at byte %d", data[i+1], i)
			}
		case c == 0x1D: // GS
			if err := need(2); err != nil {
				return nil, err
			}
			switch data[i+1] {
			case '!':
				if err := need(3); err != nil {
					return nil, err
				}
				s.w, s.h = int(data[i+2]>>4)+1, int(data[i+2]&7)+1
				i += 3
			case 'V':
				if err := need(3); err != nil {
					return nil, err
				}
				s.flush()
				s.doc.Cuts++
				switch data[i+2] {
				case 0, 1, 48, 49:
					i += 3
				case 65, 66:
					if err := need(4); err != nil {
						return nil, err
					}
					i += 4
				default:
					return nil, fmt.Errorf("GS V %d at byte %d is not a cut mode", data[i+2], i)
				}
			case 'v':
				n, err := s.raster(data[i:])
				if err != nil {
					return nil, fmt.Errorf("raster image at byte %d: %w", i, err)
				}
				i += n
				band = true
			case '(':
				n, err := s.gsParen(data[i:])
				if err != nil {
					return nil, fmt.Errorf("GS ( command at byte %d: %w", i, err)
				}
				i += n
			default:
				return nil, fmt.Errorf("unknown command GS %q at byte %d", data[i+1], i)
			}
		case c < 0x20:
			return nil, fmt.Errorf("control byte %#02x at byte %d is not an ESC/POS command", c, i)
		default:
			s.putRune(s.cp.DecodeByte(c))
			i++
		}
		s.lastBand = band
	}
	s.flush()
	return &s.doc, nil
}

// raster decodes one GS v 0 band, joining it to the previous band when they
// follow each other with the same width.
func (s *state) raster(b []byte) (int, error) {
	if len(b) < 8 || b[2] != '0' {
		return 0, fmt.Errorf("GS v is not GS v 0 or is cut short")
	}
	if b[3] != 0 && b[3] != 48 {
		return 0, fmt.Errorf("raster mode %d (scaled) is not used by Sportello", b[3])
	}
	xb := int(b[4]) | int(b[5])<<8
	rows := int(b[6]) | int(b[7])<<8
	n := 8 + xb*rows
	if xb == 0 || rows == 0 || len(b) < n {
		return 0, fmt.Errorf("%d bytes by %d rows does not match the %d bytes present", xb, rows, len(b)-8)
	}
	s.flush()
	band := image.NewGray(image.Rect(0, 0, xb*8, rows))
	for y := 0; y < rows; y++ {
		for x := 0; x < xb*8; x++ {
			v := uint8(0xFF)
			if b[8+y*xb+x/8]&(0x80>>(x%8)) != 0 {
				v = 0
			}
			band.Pix[y*band.Stride+x] = v
		}
	}
	imgs := s.doc.Images
	if s.lastBand && len(imgs) > 0 && imgs[len(imgs)-1].Kind == "raster" && imgs[len(imgs)-1].Img.Bounds().Dx() == xb*8 {
		prev := imgs[len(imgs)-1].Img
		joined := image.NewGray(image.Rect(0, 0, xb*8, prev.Bounds().Dy()+rows))
		draw.Draw(joined, prev.Bounds(), prev, image.Point{}, draw.Src)
		draw.Draw(joined, band.Bounds().Add(image.Pt(0, prev.Bounds().Dy())), band, image.Point{}, draw.Src)
		imgs[len(imgs)-1].Img = joined
	} else {
		s.doc.Images = append(s.doc.Images, Image{Kind: "raster", Img: band, After: len(s.doc.Lines)})
	}
	return n, nil
}

// gsParen decodes GS ( k, the 2D-code commands; only QR (cn 49) is used.
func (s *state) gsParen(b []byte) (int, error) {
	if len(b) < 5 {
		return 0, fmt.Errorf("cut short")
	}
	if b[2] != 'k' {
		return 0, fmt.Errorf("GS ( %q is not GS ( k", b[2])
	}
	p := int(b[3]) | int(b[4])<<8
	n := 5 + p
	if p < 2 || len(b) < n {
		return 0, fmt.Errorf("parameter length %d does not fit the %d bytes present", p, len(b)-5)
	}
	args := b[5:n]
	cn, fn := args[0], args[1]
	if cn != 49 {
		return 0, fmt.Errorf("symbol type cn=%d is not QR (49)", cn)
	}
	switch fn {
	case 65: // model
		if len(args) != 4 || args[2] != 50 {
			return 0, fmt.Errorf("QR model command is not model 2")
		}
	case 67:
		if len(args) != 3 || args[2] < 1 || args[2] > 16 {
			return 0, fmt.Errorf("QR module size is not one byte in 1-16")
		}
		s.qrModule = int(args[2])
	case 69:
		if len(args) != 3 || args[2] < 48 || args[2] > 51 {
			return 0, fmt.Errorf("QR error correction is not 48-51")
		}
		s.qrECC = "LMQH"[args[2]-48]
	case 80:
		if len(args) < 4 || args[2] != 48 {
			return 0, fmt.Errorf("QR store command has no data")
		}
		s.qrData = append(s.qrData[:0], args[3:]...)
		s.qrStored = true
	case 81:
		if !s.qrStored {
			return 0, fmt.Errorf("QR print with no data stored")
		}
		s.flush()
		img, err := RenderQR(string(s.qrData), s.qrECC, s.qrModule)
		if err != nil {
			return 0, err
		}
		s.doc.Images = append(s.doc.Images, Image{Kind: "qr", Img: img, QRData: string(s.qrData), Module: s.qrModule, ECC: s.qrECC, After: len(s.doc.Lines)})
	default:
		return 0, fmt.Errorf("QR function %d is not used by Sportello", fn)
	}
	return n, nil
}

// RenderQR draws a QR code as a printer would from stored data, so it can be
// scanned in a test.
func RenderQR(data string, ecc byte, module int) (*image.Gray, error) {
	lv := map[byte]qrcode.RecoveryLevel{'L': qrcode.Low, 'M': qrcode.Medium, 'Q': qrcode.High, 'H': qrcode.Highest}[ecc]
	q, err := qrcode.New(data, lv)
	if err != nil {
		return nil, fmt.Errorf("stored QR data cannot be encoded: %w", err)
	}
	q.DisableBorder = true
	bits := q.Bitmap()
	n := len(bits) * module
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			v := uint8(0xFF)
			if bits[y/module][x/module] {
				v = 0
			}
			img.Pix[y*img.Stride+x] = v
		}
	}
	return img, nil
}

// PNG encodes an image with a white margin (a scanner needs a quiet zone).
func PNG(img image.Image, margin int) ([]byte, error) {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()+2*margin, b.Dy()+2*margin))
	draw.Draw(out, out.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	draw.Draw(out, b.Sub(b.Min).Add(image.Pt(margin, margin)), img, b.Min, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Scan reads the QR code in a PNG with zbarimg (zbar-tools), a reader that
// shares no code with what drew it.
func Scan(pngData []byte) (string, error) {
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		return "", fmt.Errorf("zbarimg is not installed; run make deps (it installs zbar-tools)")
	}
	f, err := os.CreateTemp("", "qr-*.png")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(pngData); err != nil {
		f.Close()
		return "", err
	}
	f.Close()
	out, err := exec.Command(bin, "-q", "--raw", f.Name()).Output()
	if err != nil {
		return "", fmt.Errorf("zbarimg found no QR code in the image: %w", err)
	}
	return strings.TrimRight(string(out), "\n"), nil
}
