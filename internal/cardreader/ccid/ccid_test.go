package ccid

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader"
	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/iso7816"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorded plays back bulk transfers: each step is what we must write and
// the messages the reader answers with.
type recorded struct {
	t     *testing.T
	steps []step
	i     int
	queue [][]byte
}

type step struct {
	out string
	in  []string
}

func (r *recorded) Write(_ context.Context, msg []byte) error {
	if r.i >= len(r.steps) {
		r.t.Fatalf("unexpected write %X", msg)
	}
	st := r.steps[r.i]
	r.i++
	if got, want := hex.EncodeToString(msg), strings.ToLower(strings.ReplaceAll(st.out, " ", "")); got != want {
		r.t.Fatalf("wrote %s, want %s", got, want)
	}
	for _, in := range st.in {
		r.queue = append(r.queue, unhex(r.t, in))
	}
	return nil
}

func (r *recorded) Read(context.Context) ([]byte, error) {
	if len(r.queue) == 0 {
		return nil, errors.New("reader unplugged")
	}
	m := r.queue[0]
	r.queue = r.queue[1:]
	return m, nil
}

var now = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

const atr = "3B8F8001803180654954 4A34441 20FFF8290008D"

func TestRecordedSession(t *testing.T) {
	b := &recorded{t: t, steps: []step{
		{"65 00000000 00 01 000000", []string{"81 00000000 00 01 01 00 00"}}, // present, inactive
		{"62 00000000 00 02 000000", []string{"80 14000000 00 02 00 00 00 " + atr}},
		// A time extension (bStatus 80, multiplier 1) before the answer.
		{"6F 05000000 00 03 000000 00B081000C", []string{"80 00000000 00 03 80 01 00", "80 0E000000 00 03 00 00 00 313233343536373839303132 9000"}},
		{"63 00000000 00 04 000000", []string{"81 00000000 00 04 01 00 00"}},
	}}
	s := NewSlot(b, 0)
	ctx := context.Background()
	if ok, err := s.Present(ctx); err != nil || !ok {
		t.Fatalf("Present = %v, %v", ok, err)
	}
	got, err := s.PowerOn(ctx)
	if err != nil || hex.EncodeToString(got) != strings.ToLower(strings.ReplaceAll(atr, " ", "")) {
		t.Fatalf("PowerOn = %X, %v", got, err)
	}
	resp, err := s.Transmit(ctx, unhex(t, "00B081000C"))
	if err != nil || string(resp[:12]) != "123456789012" {
		t.Fatalf("Transmit = %X, %v", resp, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRecordedFailures(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
		msg  string
	}{
		{"no card", "80 00000000 00 01 42 FE 00", cardreader.ErrNoCard, ""},
		{"mute card", "80 00000000 00 01 41 FE 00", ErrMute, ""},
		{"extended refused", "80 00000000 00 01 40 01 00", nil, "may not take extended APDUs"},
		{"bad length field", "80 05000000 00 01 00 00 00 9000", nil, "says 5 data bytes but carries 2"},
		{"wrong type", "81 00000000 00 01 00 00 00", nil, "message type 0x81"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &recorded{t: t, steps: []step{{"6F 05000000 00 01 000000 00B081000C", []string{tt.in}}}}
			_, err := NewSlot(b, 0).Transmit(context.Background(), unhex(t, "00B081000C"))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want it to say %q", err, tt.msg)
			}
		})
	}
}

// loopback is a CCID reader in memory holding the virtual CIE, so a whole
// level-1 read runs over the CCID framing.
type loopback struct {
	card *virtual.Card
	out  [][]byte
}

func (l *loopback) Write(_ context.Context, msg []byte) error {
	m := msg
	reply := func(typ byte, data []byte) {
		r := Encode(typ, m[5], m[6], [3]byte{}, data)
		l.out = append(l.out, r)
	}
	switch m[0] {
	case PCtoRDRIccPowerOn:
		l.card.Reset()
		reply(RDRtoPCDataBlock, l.card.ATR())
	case PCtoRDRXfrBlock:
		reply(RDRtoPCDataBlock, l.card.Process(m[headerSize:]))
	default:
		reply(RDRtoPCSlotStatus, nil)
	}
	return nil
}

func (l *loopback) Read(context.Context) ([]byte, error) {
	m := l.out[0]
	l.out = l.out[1:]
	return m, nil
}

func TestLevel1OverCCID(t *testing.T) {
	card, err := virtual.New(virtual.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSlot(&loopback{card: card}, 0)
	if _, err := s.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	var tr iso7816.Transport = s
	ca, _ := virtual.TestCSCA()
	r, err := cie.ReadLevel1(context.Background(), tr, cie.Options{CSCAs: []*x509.Certificate{ca}, Now: now})
	if err != nil || !r.Verified() {
		t.Fatalf("%v %+v", err, r)
	}
}
