package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/testpage"
)

// cups is a private CUPS scheduler for one test: its own configuration,
// spool, state and logs under a temporary directory, listening on a free
// loopback port and on its own Unix socket. The machine's own cupsd on 631
// (if any) neither helps nor breaks the test: DESIGN.md's recipe.
type cups struct {
	dir, sock string
	port      int
}

// startCUPS starts `cupsd -f` with a private configuration and stops it
// (by its pid) when the test ends. A missing cupsd fails the test: make
// test installs it.
func startCUPS(t *testing.T) *cups {
	t.Helper()
	bin, err := exec.LookPath("cupsd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/cupsd"); serr != nil {
			t.Fatal("cupsd is not installed; run make deps (it installs the cups package)")
		}
		bin = "/usr/sbin/cupsd"
	}
	if os.Geteuid() != 0 {
		t.Fatal("a private cupsd runs its backends as user lp and is administered as root: run the tests as root, as make test does")
	}
	lp, err := user.Lookup("lp")
	if err != nil {
		t.Fatalf("the cups package's user lp is missing: %v", err)
	}
	uid, _ := strconv.Atoi(lp.Uid)
	gid, _ := strconv.Atoi(lp.Gid)

	// Not t.TempDir: its 0700 parents would keep the backend (user lp)
	// from reading the spooled job.
	dir, err := os.MkdirTemp("", "sportello-cups-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"spool", "spool/tmp", "cache", "state", "log", "ppd"} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	c := &cups{dir: dir, sock: filepath.Join(dir, "cups.sock"), port: port}
	conf := fmt.Sprintf(`LogLevel warn
Listen 127.0.0.1:%d
Listen %s
WebInterface No
Browsing No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Location /admin>
  Order allow,deny
  Allow 127.0.0.1
</Location>
`, port, c.sock)
	files := fmt.Sprintf(`ServerRoot %[1]s
RequestRoot %[1]s/spool
TempDir %[1]s/spool/tmp
CacheDir %[1]s/cache
StateDir %[1]s/state
AccessLog %[1]s/log/access_log
ErrorLog %[1]s/log/error_log
PageLog %[1]s/log/page_log
User lp
Group lp
SystemGroup root
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "cupsd.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cups-files.conf"), []byte(files), 0o644); err != nil {
		t.Fatal(err)
	}

	var log bytes.Buffer
	cmd := exec.Command(bin, "-f", "-c", filepath.Join(dir, "cupsd.conf"), "-s", filepath.Join(dir, "cups-files.conf"))
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting cupsd: %v", err)
	}
	// done is closed when cupsd exits, waitErr then says how; closing
	// rather than sending lets both the start loop and the clean-up see it.
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	errorLog := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "log", "error_log"))
		return log.String() + string(b)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !portOpen(fmt.Sprintf("127.0.0.1:%d", port)) {
		select {
		case <-done:
			t.Fatalf("cupsd exited (%v) before listening on port %d:\n%s", waitErr, port, errorLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("cupsd did not listen on 127.0.0.1:%d within 15 s:\n%s", port, errorLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// lpadmin administers the private scheduler through its own socket.
func (c *cups) lpadmin(args ...string) ([]byte, error) {
	return exec.Command("lpadmin", append([]string{"-h", c.sock}, args...)...).CombinedOutput()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
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
	srv := startCUPS(t)
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
	if out, err := srv.lpadmin("-p", queue, "-E", "-v", "socket://"+ln.Addr().String()); err != nil {
		t.Fatalf("lpadmin: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	uri := fmt.Sprintf("ipp://127.0.0.1:%d/printers/%s", srv.port, queue)
	tr, err := Open(ctx, uri, Options{Language: "en"})
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
