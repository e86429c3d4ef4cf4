package iso7816

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommandBytes(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"case 1", Command{CLA: 0, INS: 0xA4, P1: 0, P2: 0}, "00A40000"},
		{"select IAS (DESIGN.md)", Command{INS: 0xA4, P1: 4, P2: 0x0C, Data: unhex(t, "A0000000308000000009816001")}, "00A4040C0DA0000000308000000009816001"},
		{"read NIS (DESIGN.md)", Command{INS: 0xB0, P1: 0x81, Ne: 12}, "00B081000C"},
		{"case 2S Le 256", Command{INS: 0xB0, Ne: 256}, "00B0000000"},
		{"case 4S", Command{INS: 0x88, Data: []byte{1, 2}, Ne: 256}, "0088000002010200"},
		{"case 2E", Command{INS: 0xB0, Ne: 1000}, "00B00000" + "0003E8"},
		{"case 2E 65536", Command{INS: 0xB0, Ne: 65536}, "00B00000" + "000000"},
		{"case 3E forced", Command{INS: 0x2A, Data: []byte{9}, Extended: true}, "002A0000" + "000001" + "09"},
		{"case 4E", Command{INS: 0x2A, Data: bytes.Repeat([]byte{7}, 300), Ne: 256}, "002A0000" + "00012C" + strings.Repeat("07", 300) + "0100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cmd.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.ToUpper(hex.EncodeToString(got)); g != tt.want {
				t.Fatalf("Bytes() = %s, want %s", g, tt.want)
			}
			back, err := ParseCommand(got)
			if err != nil {
				t.Fatal(err)
			}
			if back.INS != tt.cmd.INS || back.P1 != tt.cmd.P1 || !bytes.Equal(back.Data, tt.cmd.Data) || back.Ne != tt.cmd.Ne || back.IsExtended() != tt.cmd.IsExtended() {
				t.Fatalf("ParseCommand round trip = %+v, want %+v", back, tt.cmd)
			}
		})
	}
}

func TestCommandBytesErrors(t *testing.T) {
	for _, c := range []Command{{Ne: -1}, {Ne: 65537}, {Data: make([]byte, 65536)}} {
		if _, err := c.Bytes(); err == nil {
			t.Errorf("Bytes(%d data, Ne %d) gave no error", len(c.Data), c.Ne)
		}
	}
	for _, s := range []string{"00A4", "00A4040C05A000", "00A4040C00000510"} {
		if _, err := ParseCommand(unhex(t, s)); err == nil {
			t.Errorf("ParseCommand(%s) gave no error", s)
		}
	}
}

func TestStatusError(t *testing.T) {
	tests := []struct {
		sw   SW
		want string
	}{
		{0x6A82, "SELECT DF_CIE: the card answered 6A82: file or application not found"},
		{0x63C2, "SELECT DF_CIE: the card answered 63C2: verification failed, 2 tries left"},
		{0x6983, "SELECT DF_CIE: the card answered 6983: authentication method blocked"},
	}
	for _, tt := range tests {
		err := tt.sw.Err("SELECT DF_CIE")
		if err == nil || err.Error() != tt.want {
			t.Errorf("Err = %v, want %q", err, tt.want)
		}
		var se *StatusError
		if !errors.As(err, &se) || se.SW != tt.sw {
			t.Errorf("errors.As StatusError failed for %v", tt.sw)
		}
	}
	if SWOK.Err("x") != nil {
		t.Error("9000 is an error")
	}
	if n, ok := SW(0x63C1).TriesLeft(); !ok || n != 1 {
		t.Errorf("TriesLeft(63C1) = %d %v", n, ok)
	}
}

// script is a Transport that checks each command and plays back answers.
type script struct {
	t     *testing.T
	steps [][2]string
	i     int
}

func (s *script) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	if s.i >= len(s.steps) {
		s.t.Fatalf("unexpected command %X", apdu)
	}
	st := s.steps[s.i]
	s.i++
	if got := fmt.Sprintf("%X", apdu); got != strings.ReplaceAll(st[0], " ", "") {
		s.t.Fatalf("command %d = %s, want %s", s.i, got, st[0])
	}
	if st[1] == "ERR" {
		return nil, errors.New("card removed")
	}
	return unhex(s.t, st[1]), nil
}

func (s *script) done() {
	if s.i != len(s.steps) {
		s.t.Fatalf("only %d of %d commands sent", s.i, len(s.steps))
	}
}

func TestChannelRetries(t *testing.T) {
	tests := []struct {
		name  string
		steps [][2]string
		data  string
		sw    SW
	}{
		{"plain", [][2]string{{"00B0000005", "0102030405 9000"}}, "0102030405", SWOK},
		{"6Cxx resends with Le", [][2]string{{"00B0000005", "6C03"}, {"00B0000003", "010203 9000"}}, "010203", SWOK},
		{"61xx chains GET RESPONSE", [][2]string{{"00B0000005", "0102 6103"}, {"00C0000003", "030405 6101"}, {"00C0000001", "06 9000"}}, "010203040506", SWOK},
		{"refusal is a response", [][2]string{{"00B0000005", "6A82"}}, "", SWFileNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{t: t, steps: tt.steps}
			resp, err := NewChannel(s).Send(context.Background(), Command{INS: 0xB0, Ne: 5})
			if err != nil {
				t.Fatal(err)
			}
			s.done()
			if fmt.Sprintf("%X", resp.Data) != tt.data || resp.SW != tt.sw {
				t.Fatalf("Send = %X %s, want %s %s", resp.Data, resp.SW, tt.data, tt.sw)
			}
		})
	}
}

func TestExtendedRefused(t *testing.T) {
	s := &script{t: t, steps: [][2]string{{"00B00000000400", "6700"}}}
	_, err := NewChannel(s).Send(context.Background(), Command{INS: 0xB0, Ne: 1024})
	if !errors.Is(err, ErrExtendedRefused) {
		t.Fatalf("err = %v, want ErrExtendedRefused", err)
	}
}

func TestReadBinary(t *testing.T) {
	block := strings.Repeat("AB", ReadChunk)
	tests := []struct {
		name  string
		steps [][2]string
		n     int
		err   string
	}{
		{"short file in one block", [][2]string{{"00B08500E7", "0102 9000"}}, 2, ""},
		{"ends with 6282", [][2]string{{"00B08500E7", block + "9000"}, {"00B000E7E7", "0102 6282"}}, ReadChunk + 2, ""},
		{"ends with 6B00", [][2]string{{"00B08500E7", block + "9000"}, {"00B000E7E7", "6B00"}}, ReadChunk, ""},
		{"exact multiple then 6282", [][2]string{{"00B08500E7", block + "9000"}, {"00B000E7E7", block + "9000"}, {"00B001CEE7", "6282"}}, 2 * ReadChunk, ""},
		{"6Cxx inside loop", [][2]string{{"00B08500E7", "6C04"}, {"00B0850004", "01020304 9000"}}, 4, ""},
		{"not found", [][2]string{{"00B08500E7", "6A82"}}, 0, "read Kpub: the card answered 6A82: file or application not found"},
		{"removed", [][2]string{{"00B08500E7", block + "9000"}, {"00B000E7E7", "ERR"}}, 0, "read Kpub: card removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{t: t, steps: tt.steps}
			got, err := NewChannel(s).ReadBinary(context.Background(), "read Kpub", 5)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s.done()
			if len(got) != tt.n {
				t.Fatalf("read %d bytes, want %d", len(got), tt.n)
			}
		})
	}
}

func TestTLV(t *testing.T) {
	tests := []struct {
		in    string
		tag   uint32
		value string
		rest  string
		err   bool
	}{
		{"8001 02", 0x80, "02", "", false},
		{"5F1F 02 AABB CC", 0x5F1F, "AABB", "CC", false},
		{"7F49 81 01 00", 0x7F49, "00", "", false},
		{"04 82 0001 FF", 0x04, "FF", "", false},
		{"80 05 0102", 0, "", "", true},
		{"80", 0, "", "", true},
		{"80 80", 0, "", "", true},
		{"5F", 0, "", "", true},
		{"80 84 00000001 00", 0, "", "", true},
	}
	for _, tt := range tests {
		got, rest, err := ParseTLV(unhex(t, tt.in))
		if tt.err {
			if err == nil {
				t.Errorf("ParseTLV(%s) gave no error", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTLV(%s): %v", tt.in, err)
			continue
		}
		if got.Tag != tt.tag || fmt.Sprintf("%X", got.Value) != tt.value || fmt.Sprintf("%X", rest) != tt.rest {
			t.Errorf("ParseTLV(%s) = %X %X rest %X", tt.in, got.Tag, got.Value, rest)
		}
		if back, _, err := ParseTLV(got.Bytes()); err != nil || back.Tag != got.Tag || !bytes.Equal(back.Value, got.Value) {
			t.Errorf("Bytes() of %s does not parse back: %v", tt.in, err)
		}
	}
	nested := AppendTLV(nil, 0x7C, AppendTLV(AppendTLV(nil, 0x80, []byte{1}), 0x5F29, []byte{2, 3}))
	nested = append(nested, 0, 0, 0)
	if f, ok := FindTLV(nested, 0x5F29); !ok || !bytes.Equal(f.Value, []byte{2, 3}) {
		t.Errorf("FindTLV nested = %v %v", f, ok)
	}
	if _, ok := FindTLV(nested, 0x81); ok {
		t.Error("FindTLV found an absent tag")
	}
	big := AppendTLV(nil, 0x53, make([]byte, 70000))
	if o, _, err := ParseTLV(big); err != nil || len(o.Value) != 70000 {
		t.Errorf("3-byte length round trip: %v", err)
	}
}

func FuzzParseTLV(f *testing.F) {
	f.Add([]byte{0x80, 0x01, 0x02})
	f.Add([]byte{0x7F, 0x49, 0x81, 0x01, 0x00})
	f.Add([]byte{0x5F, 0x1F, 0x82, 0x00, 0x01, 0xFF, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, err := ParseAllTLV(b)
		if err != nil {
			return
		}
		for _, o := range objs {
			// Re-encoding and parsing again must give the same object.
			back, rest, err := ParseTLV(o.Bytes())
			if err != nil || len(rest) != 0 || back.Tag != o.Tag || !bytes.Equal(back.Value, o.Value) {
				t.Fatalf("round trip of %X %X failed: %v", o.Tag, o.Value, err)
			}
			FindTLV(o.Value, 0x80)
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	f.Add([]byte{0, 0xA4, 4, 0x0C, 2, 0x3F, 0})
	f.Add([]byte{0, 0xB0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		enc, err := c.Bytes()
		if err != nil {
			t.Fatalf("parsed command does not encode: %v", err)
		}
		back, err := ParseCommand(enc)
		if err != nil || !bytes.Equal(back.Data, c.Data) || back.Ne != c.Ne {
			t.Fatalf("round trip of %X failed: %X %v", b, enc, err)
		}
	})
}
