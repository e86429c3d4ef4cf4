package escposdec

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	job := []byte("\x1b@\x1bt\x13\x1ba\x01\x1bE\x01\x1d!\x01Citt\x85 \xd5\n\x1bE\x00\x1d!\x00\x1ba\x00plain\x1bd\x02\x1dV\x42\x03\x1bp\x00\x19\xfa\x10\x04\x04")
	doc, err := Decode(job)
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{
		{Text: "Città €", Bold: true, Align: 1, Width: 1, Height: 2},
		{Text: "plain", Align: 0, Width: 1, Height: 1},
		{Text: "", Align: 0, Width: 1, Height: 1},
	}
	if len(doc.Lines) != len(want) {
		t.Fatalf("decoded %d lines %q, want %d", len(doc.Lines), doc.Text(), len(want))
	}
	for i := range want {
		if doc.Lines[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, doc.Lines[i], want[i])
		}
	}
	if doc.Cuts != 1 || doc.DrawerKicks != 1 || len(doc.StatusQueries) != 1 || doc.Inits != 1 {
		t.Errorf("counts: %+v", doc)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"\x1bt\x63", "code page"},
		{"\x1bZ", "unknown command ESC"},
		{"\x1dZ", "unknown command GS"},
		{"\x07", "control byte"},
		{"\x1dv0\x00\x02\x00\x02\x00\xff", "does not match"},
		{"\x1d(k\x03\x001Q0", "no data stored"},
		{"\x1d(k\x03\x00", "does not fit"},
		{"\x1bE", "cut short"},
	} {
		if _, err := Decode([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Decode(%q) error %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("\x1b@\x1bt\x13abc\n\x1dv0\x00\x01\x00\x01\x00\x80"))
	f.Add([]byte("\x1d(k\x05\x001P0AB\x1d(k\x03\x001Q0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Decode(b)
		if err == nil && doc == nil {
			t.Fatal("nil document without error")
		}
	})
}
