package virtual

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/iso7816"
)

// apdu sends one command written in hex, as a reader script would, and
// returns the data and the status word.
func apdu(t *testing.T, c *Card, h string) ([]byte, iso7816.SW) {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Process(b)
	if len(r) < 2 {
		t.Fatalf("%s: answer %X has no status word", h, r)
	}
	return r[:len(r)-2], iso7816.SW(r[len(r)-2])<<8 | iso7816.SW(r[len(r)-1])
}

// readSelected reads the current EF the way independent readers do (the CIE
// middleware's readfile): plain READ BINARY with the offset in P1-P2 in
// chunks of 128 until the card says the file ended (6282) or the offset is
// past its end (6B00).
func readSelected(t *testing.T, c *Card) []byte {
	t.Helper()
	var out []byte
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("READ BINARY never reached the end of the file")
		}
		off := len(out)
		b, err := iso7816.Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off), Ne: 128}.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		data, s := apdu(t, c, hex.EncodeToString(b))
		switch s {
		case iso7816.SWOK:
			out = append(out, data...)
		case iso7816.SWEndOfFile:
			return append(out, data...)
		case iso7816.SWWrongParameters:
			return out
		default:
			t.Fatalf("READ BINARY at offset %d answered %04X", off, uint16(s))
		}
	}
}

func selectCIE(t *testing.T, c *Card) {
	t.Helper()
	for _, h := range []string{"00A4040C0DA0000000308000000009816001", "00A4040C06A00000000039"} {
		if _, s := apdu(t, c, h); s != iso7816.SWOK {
			t.Fatalf("%s answered %04X", h, uint16(s))
		}
	}
}

// Independent readers (the CIE middleware, the CIE SDK) select each EF of
// DF_CIE by its file identifier and then read it with plain offsets; every
// file read that way must hold what the short-file-identifier read gives.
func TestSelectEFByID(t *testing.T) {
	c, err := New(Config{NIS: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	selectCIE(t, c)
	want := map[string][]byte{
		"1001": c.nis,
		"1004": x509.MarshalPKCS1PublicKey(c.dappPub),
		"1005": c.kpub,
		"1006": c.sod,
	}
	for _, fid := range []string{"1001", "1004", "1005", "1006"} {
		// P2 0C: no answer data, as the middleware's level-1 readers send it.
		if data, s := apdu(t, c, "00A4020C02"+fid); s != iso7816.SWOK || len(data) != 0 {
			t.Fatalf("SELECT %s (P2 0C) = %X %04X, want 9000 alone", fid, data, uint16(s))
		}
		if got := readSelected(t, c); !bytes.Equal(got, want[fid]) {
			t.Fatalf("EF %s read by offsets = %X, want %X", fid, got, want[fid])
		}
	}
	if got := readSelected(t, c); !bytes.Equal(got, c.sod) {
		t.Fatal("reading again without a SELECT did not read the current EF from the start")
	}
	// The NIS through the SFI path still answers the same.
	if data, s := apdu(t, c, "00B081000C"); s != iso7816.SWOK || string(data) != "123456789012" {
		t.Fatalf("READ BINARY by SFI = %q %04X", data, uint16(s))
	}
	// An offset inside the file reads from there.
	apdu(t, c, "00A4020C021001")
	if data, s := apdu(t, c, "00B0000404"); s != iso7816.SWOK || string(data) != "5678" {
		t.Fatalf("READ BINARY at offset 4 = %q %04X, want \"5678\" 9000", data, uint16(s))
	}
}

// SELECT with P2 04 (or 00) and an Le answers the file's control parameters:
// tag 80 is the file's size, which readers use to know how much to read.
func TestSelectEFByIDFCP(t *testing.T) {
	c, _ := New(Config{})
	selectCIE(t, c)
	for _, p2 := range []string{"04", "00"} {
		fcp, s := apdu(t, c, "00A402"+p2+"02100500")
		if s != iso7816.SWOK {
			t.Fatalf("SELECT 1005 P2 %s answered %04X", p2, uint16(s))
		}
		tlv, ok := iso7816.FindTLV(fcp, 0x62)
		if !ok {
			t.Fatalf("P2 %s: answer %X is not an FCP template (62)", p2, fcp)
		}
		size, ok1 := iso7816.FindTLV(tlv.Value, 0x80)
		fid, ok2 := iso7816.FindTLV(tlv.Value, 0x83)
		if !ok1 || !ok2 || len(size.Value) != 2 || int(size.Value[0])<<8|int(size.Value[1]) != len(c.kpub) || !bytes.Equal(fid.Value, []byte{0x10, 0x05}) {
			t.Fatalf("P2 %s: FCP %X does not give size %d and file 1005", p2, fcp, len(c.kpub))
		}
	}
	// Without Le (ISO case 3, as the CIE middleware sends it) no data comes back.
	if data, s := apdu(t, c, "00A40204021001"); s != iso7816.SWOK || len(data) != 0 {
		t.Fatalf("SELECT 1001 P2 04 without Le = %X %04X, want 9000 alone", data, uint16(s))
	}
}

func TestSelectEFByIDRefusals(t *testing.T) {
	c, _ := New(Config{})
	// Before DF_CIE is selected its files are not there.
	apdu(t, c, "00A4040C0DA0000000308000000009816001")
	if _, s := apdu(t, c, "00A4020C021001"); s != iso7816.SWFileNotFound {
		t.Fatalf("SELECT 1001 outside DF_CIE = %04X, want 6A82", uint16(s))
	}
	selectCIE(t, c)
	for _, fid := range []string{"1000", "1007", "1101", "2F00", "0001"} {
		if _, s := apdu(t, c, "00A4020C02"+fid); s != iso7816.SWFileNotFound {
			t.Errorf("SELECT %s = %04X, want 6A82", fid, uint16(s))
		}
	}
	// Selecting DF_CIE leaves no current EF; a failed SELECT of an EF
	// leaves the current one as it was.
	if _, s := apdu(t, c, "00B0000010"); s != 0x6986 {
		t.Errorf("READ BINARY with no current EF = %04X, want 6986", uint16(s))
	}
	apdu(t, c, "00A4020C021001")
	apdu(t, c, "00A4020C021007")
	if data, s := apdu(t, c, "00B000000C"); s != iso7816.SWOK || string(data) != c.NIS() {
		t.Errorf("READ BINARY after a failed SELECT = %q %04X, want the NIS", data, uint16(s))
	}
	for _, h := range []string{"00A4020C0110", "00A4020C03100100"} {
		if _, s := apdu(t, c, h); s != iso7816.SWFileNotFound && s != iso7816.SWWrongLength {
			t.Errorf("%s = %04X, want 6A82 or 6700", h, uint16(s))
		}
	}
	if _, s := apdu(t, c, "00A4020802100100"); s != iso7816.SWWrongP1P2 {
		t.Errorf("SELECT with P2 08 = %04X, want 6A86", uint16(s))
	}
	// The serial number and the card's certificate exist but, as on real
	// cards, are read only inside the IAS secure channel.
	for _, fid := range []string{"1002", "1003"} {
		if _, s := apdu(t, c, "00A4020C02"+fid); s != iso7816.SWOK {
			t.Fatalf("SELECT %s = %04X, want 9000", fid, uint16(s))
		}
		if _, s := apdu(t, c, "00B0000010"); s != iso7816.SWSecurityNotSatisfied {
			t.Errorf("plain READ BINARY of %s = %04X, want 6982", fid, uint16(s))
		}
	}
	// Selecting an EF keeps the security environment of its DF.
	apdu(t, c, "00A4020C021005")
	if _, s := apdu(t, c, "002241A406800102840183"); s != iso7816.SWOK {
		t.Fatalf("MSE SET = %04X", uint16(s))
	}
	apdu(t, c, "00A4020C021001")
	if _, s := apdu(t, c, "0088000008010203040506070800"); s != iso7816.SWOK {
		t.Fatalf("INTERNAL AUTHENTICATE after selecting an EF = %04X, want 9000", uint16(s))
	}
}
