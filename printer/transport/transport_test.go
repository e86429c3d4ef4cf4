package transport

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/escpos/escposdec"
	"github.com/sportello/sportello/printer/receipt"
	"github.com/sportello/sportello/printer/transport/transporttest"
)

func demoReceipt(t *testing.T) []byte {
	t.Helper()
	p, _ := escpos.Lookup("tm-t20", 80)
	b, err := receipt.Encode(receipt.Demo(time.Date(2026, 3, 12, 14, 5, 0, 0, time.UTC), receipt.Italian), p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTCPPrint(t *testing.T) {
	fake := transporttest.Start(t)
	ctx := context.Background()
	tr, err := Open(ctx, fake.URI(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	spool, err := printer.NewDirSpool(t.TempDir(), bytes.Repeat([]byte{1}, printer.SpoolKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	p := &printer.Printer{URI: fake.URI(), Transport: tr, Spool: spool}
	data := demoReceipt(t)

	if err := p.Print(ctx, printer.Job{Name: "receipt", Format: printer.FormatESCPOS, Data: data}); err != nil {
		t.Fatalf("Print: %v", err)
	}
	if got := fake.Received(); !bytes.Equal(got, data) {
		t.Fatalf("printer received %d bytes, want the %d sent", len(got), len(data))
	}
	if q := fake.Queries(); q != 8 {
		t.Errorf("printer answered %d status requests, want 4 before and 4 after", q)
	}
	doc, err := escposdec.Decode(fake.Received())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Find("TOTALE"); !ok {
		t.Errorf("received receipt has no total:\n%s", doc.Text())
	}

	// Paper runs out 200 bytes into the next job: the printer takes every
	// byte, then says so; the job must come back as an error and stay.
	fake.Reset()
	fake.PaperOutAfter(200)
	err = p.Print(ctx, printer.Job{Name: "receipt 2", Format: printer.FormatESCPOS, Data: data})
	var je *printer.JobError
	if !errors.As(err, &je) || !errors.Is(err, printer.PaperOut) {
		t.Fatalf("Print with paper running out = %v, want a JobError for paper out", err)
	}
	if !strings.Contains(err.Error(), "paper out after printing") || !strings.Contains(err.Error(), je.ID) {
		t.Errorf("error %q does not tell the operator what happened and which job is kept", err)
	}
	jobs, _ := spool.List()
	if len(jobs) != 1 || !bytes.Equal(jobs[0].Data, data) {
		t.Fatalf("spool holds %d jobs, want the failed receipt", len(jobs))
	}

	// Still out of paper: refused before sending, still kept.
	fake.Reset()
	if err := p.Reprint(ctx, je.ID); !errors.Is(err, printer.PaperOut) || !strings.Contains(err.Error(), "before printing") {
		t.Fatalf("Reprint without paper = %v, want paper out before printing", err)
	}
	if len(fake.Received()) != 0 {
		t.Error("job was sent to a printer that reported paper out")
	}
	if jobs, _ := spool.List(); len(jobs) != 1 || jobs[0].Attempts != 2 {
		t.Fatalf("spool after a refused reprint: %+v", jobs)
	}

	// New roll: the reprint goes through and leaves the spool.
	fake.PaperOutAfter(-1)
	if err := p.Reprint(ctx, je.ID); err != nil {
		t.Fatalf("Reprint after refill: %v", err)
	}
	if !bytes.Equal(fake.Received(), data) {
		t.Error("reprint did not send the same bytes")
	}
	if jobs, _ := spool.List(); len(jobs) != 0 {
		t.Errorf("spool still holds %d jobs after a good reprint", len(jobs))
	}
}

func TestTCPSilentPrinter(t *testing.T) {
	fake := transporttest.Start(t)
	fake.Silent(true)
	ctx := context.Background()
	tr, err := DialTCP(ctx, fake.Addr, TCPOptions{Timeout: 200 * time.Millisecond, Status: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, err := tr.Status(ctx); err == nil || !strings.Contains(err.Error(), "status=off") {
		t.Errorf("Status from a silent printer = %v, want a timeout that suggests status=off", err)
	}
	off, err := Open(ctx, fake.URI()+"?status=off", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	p := &printer.Printer{URI: fake.URI(), Transport: off, Spool: printer.NewMemSpool()}
	if err := p.Print(ctx, printer.Job{Data: []byte("hello\n")}); err != nil {
		t.Errorf("Print with status=off: %v", err)
	}
}

func TestTCPUnreachable(t *testing.T) {
	_, err := Open(context.Background(), "tcp://127.0.0.1:1", Options{})
	if err == nil || !strings.Contains(err.Error(), "cannot connect to the printer") {
		t.Errorf("Open of a closed port = %v", err)
	}
}

func TestOpenURIs(t *testing.T) {
	tests := []struct {
		uri, err string
	}{
		{"file:///tmp/x.bin", ""},
		{"ipp://127.0.0.1:631/printers/A4", ""},
		{"ipps://printer.local/ipp/print", ""},
		{"file://host/x", "file:///ABSOLUTE/PATH"},
		{"usb://04b8:0e15", "USB transport"},
		{"lpt://x", "not one of"},
		{"printer", "not a URI"},
		{"ipp://host", "ipp://HOST[:PORT]/PATH"},
		{"tcp://h:9100?status=maybe", "neither on nor off"},
	}
	for _, tt := range tests {
		tr, err := Open(context.Background(), tt.uri, Options{})
		if tt.err == "" {
			if err != nil {
				t.Errorf("Open(%q): %v", tt.uri, err)
			} else {
				tr.Close()
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Open(%q) error %v, want one containing %q", tt.uri, err, tt.err)
		}
	}
	tr, _ := Open(context.Background(), "ipps://printer.local/ipp/print", Options{})
	if ipp := tr.(*IPP); ipp.printerURI != "ipps://printer.local:631/ipp/print" || ipp.httpURL != "https://printer.local:631/ipp/print" {
		t.Errorf("ipps URI maps to %s and %s", ipp.printerURI, ipp.httpURL)
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.bin")
	tr, err := Open(context.Background(), "file://"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := &printer.Printer{URI: "file://" + path, Transport: tr, Spool: printer.NewMemSpool()}
	if err := p.Print(context.Background(), printer.Job{Data: []byte{0x1B, '@', 0xD5}}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, []byte{0x1B, '@', 0xD5}) {
		t.Errorf("file holds % x", got)
	}
	bad := &printer.Printer{URI: "file:///nonexistent/dir/r.bin", Transport: &File{Path: "/nonexistent/dir/r.bin"}, Spool: printer.NewMemSpool()}
	if err := bad.Print(context.Background(), printer.Job{Data: []byte("x")}); err == nil {
		t.Error("printing to a file in a missing directory succeeded")
	} else if jobs, _ := bad.Spool.List(); len(jobs) != 1 {
		t.Error("failed file job was not kept")
	}
}

func TestIPPStatus(t *testing.T) {
	tests := []struct {
		state     int
		accepting bool
		reasons   []string
		want      printer.Status
	}{
		{3, true, []string{"none"}, printer.Status{}},
		{4, true, []string{"media-low-report"}, printer.Status{}},
		{3, true, []string{"media-low-warning"}, printer.Status{PaperNearEnd: true}},
		{5, true, []string{"media-empty-error"}, printer.Status{Offline: true, PaperOut: true}},
		{4, true, []string{"media-needed"}, printer.Status{PaperOut: true}},
		{3, true, []string{"door-open-error", "media-jam"}, printer.Status{CoverOpen: true, Recoverable: true}},
		{3, false, nil, printer.Status{Offline: true}},
		{3, true, []string{"offline-report"}, printer.Status{}},
	}
	for _, tt := range tests {
		if got := IPPStatus(tt.state, tt.accepting, tt.reasons); got != tt.want {
			t.Errorf("IPPStatus(%d, %v, %v) = %+v, want %+v", tt.state, tt.accepting, tt.reasons, got, tt.want)
		}
	}
}
