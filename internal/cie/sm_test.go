package cie

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/iso7816"
)

func hx(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ICAO Doc 9303-11 Appendix D.4 protects commands exactly as the IAS does
// (two-key 3DES with a zero IV, retail MAC over SSC || padded header ||
// objects), so its worked example is a known answer for this layer.
func TestSMKnownAnswer(t *testing.T) {
	s, err := newSessionKeys(hx(t, "979EC13B1CBFE9DCD01AB0FED307EAE5"), hx(t, "F1CB1F1FB5ADF208806B89DC579DC1F8"))
	if err != nil {
		t.Fatal(err)
	}
	copy(s.ssc[:], hx(t, "887022120C06C226"))
	ts := &TerminalSession{s}
	w, err := ts.Wrap(iso7816.Command{CLA: 0x00, INS: 0xA4, P1: 0x02, P2: 0x0C, Data: hx(t, "011E")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := w.Bytes()
	if want := hx(t, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"); string(got) != string(want) {
		t.Fatalf("protected SELECT = %X, want %X", got, want)
	}
	r, err := ts.Unwrap(iso7816.Response{Data: hx(t, "990290008E08FA855A5D4C50A8ED"), SW: iso7816.SWOK})
	if err != nil || r.SW != iso7816.SWOK || len(r.Data) != 0 {
		t.Fatalf("Unwrap = %+v, %v", r, err)
	}
	// The same answer again is a replay: the counter has moved on.
	if _, err := ts.Unwrap(iso7816.Response{Data: hx(t, "990290008E08FA855A5D4C50A8ED"), SW: iso7816.SWOK}); err == nil {
		t.Fatal("a replayed response verified")
	}
}

// The card's and the terminal's halves agree, and each refuses a flipped bit.
func TestSMRoundTrip(t *testing.T) {
	secret := make([]byte, 256)
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	ts0, _ := newSession(secret)
	cs, _ := NewCardSession(secret)
	ts := &TerminalSession{ts0}
	for _, data := range [][]byte{nil, []byte("12345678"), make([]byte, 0xE7)} {
		w, _ := ts.Wrap(iso7816.Command{INS: 0x20, P2: 0x81, Data: data, Ne: 8})
		bad := w
		bad.Data = append([]byte(nil), w.Data...)
		bad.Data[len(bad.Data)-1] ^= 1
		probe, _ := NewCardSession(secret)
		probe.s.ssc = cs.s.ssc
		if _, err := probe.UnwrapCommand(bad); err == nil {
			t.Fatal("card accepted a tampered command")
		}
		p, err := cs.UnwrapCommand(w)
		if err != nil || string(p.Data) != string(data) || p.Ne != 8 || p.CLA != 0 {
			t.Fatalf("card opened %+v, %v", p, err)
		}
		r := cs.WrapResponse(iso7816.Response{Data: []byte("answer"), SW: 0x63C2})
		u, err := ts.Unwrap(r)
		if err != nil || string(u.Data) != "answer" || u.SW != 0x63C2 {
			t.Fatalf("terminal opened %+v, %v", u, err)
		}
	}
}
