package virtual

import (
	"bytes"
	"context"
	"encoding/hex"
	"net"
	"testing"
)

// The reader side of the vpcd protocol, played over a pipe: power on, get
// ATR, SELECT IAS, then the connection closes.
func TestServeFraming(t *testing.T) {
	card, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	reader, cardSide := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- serve(context.Background(), cardSide, card, 0) }()

	send := func(b []byte) {
		if err := writeFrame(reader, b); err != nil {
			t.Fatal(err)
		}
	}
	send([]byte{vpcdPowerOn})
	send([]byte{vpcdGetATR})
	got, err := readFrame(reader)
	if err != nil || !bytes.Equal(got, ATR) {
		t.Fatalf("ATR = %X, %v", got, err)
	}
	sel, _ := hex.DecodeString("00A4040C0DA0000000308000000009816001")
	send(sel)
	if got, _ = readFrame(reader); !bytes.Equal(got, []byte{0x90, 0x00}) {
		t.Fatalf("SELECT IAS answered %X", got)
	}
	reader.Close()
	if err := <-done; err != nil {
		t.Fatalf("serve ended with %v, want nil when the reader closes", err)
	}
}

func TestServeRemoveAfter(t *testing.T) {
	card, _ := New(Config{})
	reader, cardSide := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- serve(context.Background(), cardSide, card, 1) }()
	sel, _ := hex.DecodeString("00A4040C0DA0000000308000000009816001")
	writeFrame(reader, sel)
	readFrame(reader)
	writeFrame(reader, sel)
	if err := <-done; err != ErrRemovedByTest {
		t.Fatalf("err = %v, want ErrRemovedByTest", err)
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []Config{{NIS: "12345"}, {NIS: "12345678901A"}, {Mode: "broken"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) gave no error", cfg)
		}
	}
}
