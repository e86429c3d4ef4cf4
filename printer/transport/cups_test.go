package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/testpage"
)

// startCUPS makes sure a CUPS scheduler answers on 127.0.0.1:631, starting
// `cupsd -f` when none does and stopping that one (by its pid) at the end,
// as DESIGN.md's recipe says. A missing cupsd fails the test: make test
// installs it.
func startCUPS(t *testing.T) {
	t.Helper()
	if portOpen("127.0.0.1:631") {
		return
	}
	bin, err := exec.LookPath("cupsd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/cupsd"); serr != nil {
			t.Fatal("cupsd is not installed; run make deps (it installs the cups package)")
		}
		bin = "/usr/sbin/cupsd"
	}
	// The Debian package creates /run/cups at boot through systemd, which
	// containers and CI runners skip; cupsd needs it for its socket and pid.
	if err := os.MkdirAll("/run/cups", 0o755); err != nil {
		t.Fatalf("cannot create /run/cups for cupsd (run the tests as root): %v", err)
	}
	var log bytes.Buffer
	cmd := exec.Command(bin, "-f")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting cupsd: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for !portOpen("127.0.0.1:631") {
		select {
		case err := <-done:
			t.Fatalf("cupsd exited (%v) before listening on 631:\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("cupsd did not listen on 127.0.0.1:631 within 15 s:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func portOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// TestCUPSA4 prints an A4 PDF through a real CUPS to a raw queue whose
// device is a socket this test listens on, and reads back what arrived.
func TestCUPSA4(t *testing.T) {
	startCUPS(t)
	for _, tool := range []string{"lpadmin", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed; run make deps", tool)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	queue := fmt.Sprintf("SportelloTest%d", os.Getpid())
	// Raw queues print a deprecation warning on stderr but work, and are
	// the only kind that delivers the PDF byte for byte.
	if out, err := exec.Command("lpadmin", "-p", queue, "-E", "-v", "socket://"+ln.Addr().String()).CombinedOutput(); err != nil {
		t.Fatalf("lpadmin: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("lpadmin", "-x", queue).Run() })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	uri := "ipp://127.0.0.1:631/printers/" + queue
	tr, err := Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	st, err := tr.Status(ctx)
	if err != nil || st.Err() != nil {
		t.Fatalf("status of the new queue: %+v, %v", st, err)
	}
	pdf := testpage.PDF("Certificato di residenza", []string{
		"Il Comune di Milano certifica che", "ROSSI MARIO è residente in Via Brera 1.", "Diritti: 0,52 €",
	})
	p := &printer.Printer{URI: uri, Transport: tr, Spool: printer.NewMemSpool()}
	if err := p.Print(ctx, printer.Job{Name: "certificato", Format: printer.FormatPDF, Data: pdf}); err != nil {
		t.Fatalf("Print: %v", err)
	}

	ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("CUPS never connected to the queue's socket: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(conn)
	conn.Close()
	if err != nil {
		t.Fatalf("reading what CUPS sent: %v", err)
	}
	if !bytes.Equal(got, pdf) {
		t.Fatalf("CUPS delivered %d bytes, not the %d-byte PDF sent", len(got), len(pdf))
	}
	path := filepath.Join(t.TempDir(), "out.pdf")
	os.WriteFile(path, got, 0o644)
	out, err := exec.Command("pdftotext", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range []string{"Certificato di residenza", "ROSSI MARIO è residente", "0,52 €"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("printed PDF lacks %q; pdftotext reads:\n%s", want, out)
		}
	}
}
