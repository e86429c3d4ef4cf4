package escpos

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos/escposdec"
)

func TestEncodeText(t *testing.T) {
	tests := []struct {
		cp   CodePage
		in   string
		want []byte
	}{
		{PC858, "€", []byte{0xD5}},
		{PC858, "àèéìòù", []byte{0x85, 0x8A, 0x82, 0x8D, 0x95, 0x97}},
		{PC858, "È", []byte{0xD4}},
		{PC437, "€ 5", []byte("EUR 5")},
		{PC437, "città", []byte{'c', 'i', 't', 't', 0x85}},
		{PC437, "È", []byte{'E'}}, // PC437 has no capital È: drop the accent
		{PC858, "ş", []byte{'s'}},
		{PC858, "l’ufficio «centrale» — sì", []byte{'l', '\'', 'u', 'f', 'f', 'i', 'c', 'i', 'o', ' ', 0xAE, 'c', 'e', 'n', 't', 'r', 'a', 'l', 'e', 0xAF, ' ', '-', ' ', 's', 0x8D}},
		{PC437, "“sì”", []byte{'"', 's', 0x8D, '"'}},
		{PC858, "東", []byte{'?'}},
		{PC858, "a\x1bE\x01", []byte("a?E?")}, // text cannot smuggle commands
		{WPC1252, "€", []byte{0x80}},
	}
	for _, tt := range tests {
		if got := tt.cp.Encode(tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("%s.Encode(%q) = % x, want % x", tt.cp.Name, tt.in, got, tt.want)
		}
		if w := tt.cp.Width(tt.in); w != len(tt.want) {
			t.Errorf("%s.Width(%q) = %d, want %d", tt.cp.Name, tt.in, w, len(tt.want))
		}
	}
}

func TestCommands(t *testing.T) {
	p, err := Lookup("tm-t20", 80)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func(*Encoder)
		want []byte
	}{
		{"bold", func(e *Encoder) { e.Bold(true).Bold(false) }, []byte{0x1B, 'E', 1, 0x1B, 'E', 0}},
		{"size", func(e *Encoder) { e.Size(2, 3) }, []byte{0x1D, '!', 0x12}},
		{"align", func(e *Encoder) { e.Align(Right) }, []byte{0x1B, 'a', 2}},
		{"line", func(e *Encoder) { e.Line("€1") }, []byte{0xD5, '1', 0x0A}},
		{"cut", func(e *Encoder) { e.Cut() }, []byte{0x1D, 'V', 66, 3}},
		{"drawer", func(e *Encoder) { e.Drawer() }, []byte{0x1B, 'p', 0, 25, 250}},
		{"qr", func(e *Encoder) { e.QR("AB", 4, ECCQuartile) }, []byte{
			0x1D, '(', 'k', 4, 0, 49, 65, 50, 0,
			0x1D, '(', 'k', 3, 0, 49, 67, 4,
			0x1D, '(', 'k', 3, 0, 49, 69, 50,
			0x1D, '(', 'k', 5, 0, 49, 80, 48, 'A', 'B',
			0x1D, '(', 'k', 3, 0, 49, 81, 48}},
	}
	prefix := []byte{0x1B, '@', 0x1B, 't', 19}
	for _, tt := range tests {
		e := NewEncoder(p)
		tt.do(e)
		got, err := e.Bytes()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], tt.want) {
			t.Errorf("%s: got % x, want % x after the init", tt.name, got, tt.want)
		}
	}
}

func TestEncoderErrors(t *testing.T) {
	p, _ := Lookup("generic", 58)
	tests := []struct {
		name string
		do   func(*Encoder)
		want string
	}{
		{"size", func(e *Encoder) { e.Size(9, 1) }, "outside 1-8"},
		{"feed", func(e *Encoder) { e.Feed(300) }, "outside 0-255"},
		{"module", func(e *Encoder) { e.QR("x", 0, ECCLow) }, "module size"},
		{"empty qr", func(e *Encoder) { e.QR("", 3, ECCLow) }, "no data"},
		{"too wide", func(e *Encoder) { e.Image(image.NewGray(image.Rect(0, 0, 385, 1))) }, "does not fit"},
		{"first error sticks", func(e *Encoder) { e.Size(0, 0).Feed(-1) }, "outside 1-8"},
	}
	for _, tt := range tests {
		e := NewEncoder(p)
		tt.do(e)
		if _, err := e.Bytes(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestImageBands(t *testing.T) {
	p, _ := Lookup("generic", 58) // 256-row bands
	img := image.NewGray(image.Rect(0, 0, 20, 600))
	for y := 0; y < 600; y++ {
		for x := 0; x < 20; x++ {
			if (x+y)%3 == 0 {
				img.SetGray(x, y, color.Gray{0})
			} else {
				img.SetGray(x, y, color.Gray{255})
			}
		}
	}
	b, err := NewEncoder(p).Image(img).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte{0x1D, 'v', '0'}); n != 3 {
		t.Errorf("600 rows sent in %d bands, want 3 of at most 256", n)
	}
	doc, err := escposdec.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Images) != 1 {
		t.Fatalf("decoded %d images, want the bands joined into 1", len(doc.Images))
	}
	got := doc.Images[0].Img
	if got.Bounds().Dy() != 600 || got.Bounds().Dx() != 24 {
		t.Fatalf("decoded image is %v, want 24x600 (20 dots padded to whole bytes)", got.Bounds())
	}
	for y := 0; y < 600; y++ {
		for x := 0; x < 24; x++ {
			want := x < 20 && (x+y)%3 == 0
			if (got.GrayAt(x, y).Y == 0) != want {
				t.Fatalf("dot (%d,%d) differs after the round trip", x, y)
			}
		}
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		ans  [4]byte
		want printer.Status
		cond error
	}{
		{[4]byte{0x12, 0x12, 0x12, 0x12}, printer.Status{}, nil},
		{[4]byte{0x1A, 0x32, 0x12, 0x72}, printer.Status{Offline: true, PaperOut: true}, printer.PaperOut},
		{[4]byte{0x1A, 0x16, 0x12, 0x12}, printer.Status{Offline: true, CoverOpen: true}, printer.CoverOpen},
		{[4]byte{0x12, 0x12, 0x12, 0x1E}, printer.Status{PaperNearEnd: true}, nil},
		{[4]byte{0x1A, 0x52, 0x1A, 0x12}, printer.Status{Offline: true, CutterError: true}, printer.CutterError},
		{[4]byte{0x16, 0x12, 0x32, 0x12}, printer.Status{DrawerOpen: true, Unrecoverable: true}, printer.PrinterError},
	}
	for _, tt := range tests {
		got, err := ParseStatus(tt.ans)
		if err != nil {
			t.Errorf("ParseStatus(% x): %v", tt.ans, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseStatus(% x) = %+v, want %+v", tt.ans, got, tt.want)
		}
		if err := got.Err(); (err == nil) != (tt.cond == nil) || (tt.cond != nil && !errors.Is(err, tt.cond)) {
			t.Errorf("status %+v: Err() = %v, want %v", got, err, tt.cond)
		}
	}
	if _, err := ParseStatus([4]byte{0x12, 0x00, 0x12, 0x12}); err == nil {
		t.Error("a byte without the fixed bits parsed as status")
	}
	s := printer.Status{PaperOut: true, CoverOpen: true, CutterError: true, PaperNearEnd: true}
	back, err := ParseStatus(StatusBytes(s))
	if err != nil || !back.PaperOut || !back.CoverOpen || !back.CutterError || !back.PaperNearEnd || !back.Offline {
		t.Errorf("StatusBytes round trip gives %+v, %v", back, err)
	}
}

func TestLookup(t *testing.T) {
	for _, tt := range []struct {
		name  string
		paper int
		cols  int
		err   bool
	}{
		{"tm-t20", 0, 48, false}, {"TM-T20", 58, 35, false}, {"tm-t88", 80, 42, false},
		{"generic", 0, 32, false}, {"tm-t88", 112, 0, true}, {"laserjet", 0, 0, true},
	} {
		p, err := Lookup(tt.name, tt.paper)
		if (err != nil) != tt.err || (err == nil && p.Paper.Columns != tt.cols) {
			t.Errorf("Lookup(%q, %d) = %d columns, %v", tt.name, tt.paper, p.Paper.Columns, err)
		}
	}
	if ForDeviceID("TM-T20II") != "tm-t20" || ForDeviceID("TM-T88V") != "tm-t88" || ForDeviceID("POS-58") != "generic" {
		t.Error("ForDeviceID picks the wrong profile")
	}
}
