package transport

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/sportello/sportello/printer"
)

func TestParseSpoolerURI(t *testing.T) {
	for _, tt := range []struct {
		uri, name string
		ok, bad   bool
	}{
		{uri: "winspool://EPSON TM-T20II Receipt", name: "EPSON TM-T20II Receipt", ok: true},
		{uri: "WINSPOOL://EPSON%20TM-T20II", name: "EPSON TM-T20II", ok: true},
		{uri: `winspool://\\server\Ufficio A4`, name: `\\server\Ufficio A4`, ok: true},
		{uri: "winspool://", ok: true, bad: true},
		{uri: "winspool://%zz", ok: true, bad: true},
		{uri: "tcp://10.0.0.5:9100"},
		{uri: "winspool"},
	} {
		name, ok, err := parseSpoolerURI(tt.uri)
		if ok != tt.ok || (err != nil) != tt.bad || name != tt.name {
			t.Errorf("parseSpoolerURI(%q) = %q, %v, %v; want %q, %v, error %v", tt.uri, name, ok, err, tt.name, tt.ok, tt.bad)
		}
	}
	if got := SpoolerURI("Cassa 1"); got != "winspool://Cassa 1" {
		t.Errorf("SpoolerURI = %q", got)
	}
}

func TestSpoolerStatus(t *testing.T) {
	for _, tt := range []struct {
		bits uint32
		want []printer.Condition
	}{
		{0, nil},
		{spoolerPaperOut | spoolerOffline, []printer.Condition{printer.PaperOut}},
		{spoolerDoorOpen, []printer.Condition{printer.CoverOpen}},
		{spoolerNotAvailable, []printer.Condition{printer.Offline}},
		{spoolerPaperJam, []printer.Condition{printer.RecoverableError}},
		{0x00000400, nil}, // PRINTER_STATUS_PRINTING: busy, not stopped
	} {
		got := SpoolerStatus(tt.bits).Conditions()
		if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
			t.Errorf("SpoolerStatus(%#x) conditions = %v, want %v", tt.bits, got, tt.want)
		}
	}
}

func TestSpoolerElsewhere(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("this is the answer off Windows")
	}
	_, err := Open(context.Background(), "winspool://Cassa", Options{})
	if !errors.Is(err, ErrNoSpooler) {
		t.Fatalf("Open(winspool://) off Windows = %v, want ErrNoSpooler", err)
	}
	if qs, err := ListSpooler(); err != nil || qs != nil {
		t.Fatalf("ListSpooler off Windows = %v, %v", qs, err)
	}
}
