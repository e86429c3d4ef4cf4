package usb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
)

// transfer is one recorded USB transfer.
type transfer struct {
	kind       string // "control", "out", "in"
	rType, req uint8
	val, idx   uint16
	length     int
	data       []byte
}

func (t transfer) String() string {
	if t.kind == "control" {
		return fmt.Sprintf("control %#02x req %d val %d idx %#04x len %d", t.rType, t.req, t.val, t.idx, t.length)
	}
	return fmt.Sprintf("%s % x", t.kind, t.data)
}

// fakeDevice is a printer-class device that records every transfer and
// answers like a printer: its IEEE 1284 ID, a port status byte, and DLE EOT
// answers on bulk IN.
type fakeDevice struct {
	id       string
	port     byte
	status   printer.Status
	oneWay   bool
	stallAt  int // bulk OUT stops accepting after this many bytes; 0 never
	log      []transfer
	pending  []byte
	received []byte
}

func (f *fakeDevice) Control(rType, req uint8, val, idx uint16, data []byte) (int, error) {
	f.log = append(f.log, transfer{kind: "control", rType: rType, req: req, val: val, idx: idx, length: len(data)})
	switch {
	case rType == 0xA1 && req == 0:
		b := append([]byte{byte((len(f.id) + 2) >> 8), byte(len(f.id) + 2)}, f.id...)
		return copy(data, b), nil
	case rType == 0xA1 && req == 1:
		data[0] = f.port
		return 1, nil
	case rType == 0x23 && req == 2:
		return 0, nil
	}
	return 0, errors.New("pipe stall")
}

func (f *fakeDevice) WriteBulk(ctx context.Context, p []byte) (int, error) {
	f.log = append(f.log, transfer{kind: "out", data: bytes.Clone(p)})
	if len(p) == 3 && p[0] == 0x10 && p[1] == 0x04 {
		f.pending = append(f.pending, escpos.StatusBytes(f.status)[p[2]-1])
		return 3, nil
	}
	if f.stallAt > 0 && len(f.received)+len(p) > f.stallAt {
		n := f.stallAt - len(f.received)
		f.received = append(f.received, p[:n]...)
		<-ctx.Done()
		return n, ctx.Err()
	}
	f.received = append(f.received, p...)
	return len(p), nil
}

func (f *fakeDevice) ReadBulk(_ context.Context, p []byte) (int, error) {
	if f.oneWay {
		return 0, ErrNoIn
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	f.log = append(f.log, transfer{kind: "in", data: bytes.Clone(p[:n])})
	return n, nil
}

func (f *fakeDevice) Close() error { return nil }

func TestDeviceID(t *testing.T) {
	f := &fakeDevice{id: "MFG:EPSON;CMD:ESC/POS;MDL:TM-T20II;CLS:PRINTER;DES:TM-T20II;"}
	p := New(f, Interface{Config: 0, Number: 1, Alternate: 2, Protocol: 2})
	id, err := p.DeviceID()
	if err != nil {
		t.Fatal(err)
	}
	if id.Manufacturer != "EPSON" || id.Model != "TM-T20II" || !speaksESCPOS(id) {
		t.Errorf("device ID parsed as %+v", id)
	}
	want := transfer{kind: "control", rType: 0xA1, req: 0, val: 0, idx: 0x0102, length: 1024}
	if len(f.log) != 1 || f.log[0].String() != want.String() {
		t.Errorf("transfers %v, want [%v]: interface in the high byte, alternate in the low", f.log, want)
	}
}

func TestPortStatus(t *testing.T) {
	tests := []struct {
		port byte
		want printer.Status
	}{
		{0x18, printer.Status{}},                              // selected, no error
		{0x38, printer.Status{PaperOut: true}},                // paper empty
		{0x30, printer.Status{PaperOut: true, Offline: true}}, // paper empty, error
		{0x08, printer.Status{Offline: true}},                 // not selected
	}
	for _, tt := range tests {
		f := &fakeDevice{port: tt.port, oneWay: true}
		p := New(f, Interface{Number: 0, Protocol: 1})
		p.ESCPOS = true // one-way: must fall back to the port status anyway
		got, err := p.Status(context.Background())
		if err != nil || got != tt.want {
			t.Errorf("port status %#02x: %+v, %v; want %+v", tt.port, got, err, tt.want)
		}
		if f.log[0].rType != 0xA1 || f.log[0].req != 1 || f.log[0].length != 1 {
			t.Errorf("port status %#02x: first transfer %v is not GET_PORT_STATUS", tt.port, f.log[0])
		}
	}
}

func TestStatusOverBulk(t *testing.T) {
	f := &fakeDevice{status: printer.Status{PaperNearEnd: true, CoverOpen: true}}
	p := New(f, Interface{Number: 0, Protocol: 2})
	p.ESCPOS = true
	st, err := p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.CoverOpen || !st.PaperNearEnd || !errors.Is(st.Err(), printer.CoverOpen) {
		t.Errorf("status %+v, want cover open and paper near end", st)
	}
	var outs, ins int
	for i, tr := range f.log {
		switch tr.kind {
		case "out":
			outs++
			if want := []byte{0x10, 0x04, byte(outs)}; !bytes.Equal(tr.data, want) {
				t.Errorf("transfer %d sends % x, want DLE EOT %d", i, tr.data, outs)
			}
		case "in":
			ins++
		case "control":
			t.Errorf("transfer %d is a control transfer; a bidirectional ESC/POS printer is asked over bulk", i)
		}
	}
	if outs != 4 || ins != 4 {
		t.Errorf("%d requests and %d answers, want 4 and 4", outs, ins)
	}
}

func TestSend(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000) // 10 kB: three chunks
	f := &fakeDevice{}
	p := New(f, Interface{Protocol: 2})
	if err := p.Send(context.Background(), printer.Job{Data: data}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.received, data) {
		t.Fatalf("device received %d bytes, want %d", len(f.received), len(data))
	}
	var sizes []int
	for _, tr := range f.log {
		sizes = append(sizes, len(tr.data))
	}
	if fmt.Sprint(sizes) != "[4096 4096 1808]" {
		t.Errorf("bulk OUT transfers of %v bytes, want 4096-byte chunks", sizes)
	}

	stalled := &fakeDevice{stallAt: 5000}
	p = New(stalled, Interface{Protocol: 2})
	p.Timeout = 50 * time.Millisecond
	err := p.Send(context.Background(), printer.Job{Data: data})
	if err == nil || !strings.Contains(err.Error(), "took no data") || !strings.Contains(err.Error(), "4096 of 10000") {
		t.Errorf("Send to a stalled printer = %v, want a timeout naming how far it got", err)
	}
}

func TestSoftReset(t *testing.T) {
	f := &fakeDevice{}
	if err := New(f, Interface{Number: 3}).SoftReset(); err != nil {
		t.Fatal(err)
	}
	if tr := f.log[0]; tr.rType != 0x23 || tr.req != 2 || tr.idx != 3 {
		t.Errorf("SOFT_RESET sent as %v", tr)
	}
}

func TestParseURI(t *testing.T) {
	tests := []struct {
		in   string
		want Address
		err  bool
	}{
		{"usb://04b8:0e15", Address{0x04b8, 0x0e15, ""}, false},
		{"usb://04B8:0202/J2NF012345", Address{0x04b8, 0x0202, "J2NF012345"}, false},
		{"usb://04b8", Address{}, true},
		{"usb://zz:0e15", Address{}, true},
		{"tcp://04b8:0e15", Address{}, true},
	}
	for _, tt := range tests {
		got, err := ParseURI(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseURI(%q) = %+v, %v", tt.in, got, err)
		}
		if err == nil && strings.ToLower(got.String()) != strings.ToLower(tt.in) {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}
