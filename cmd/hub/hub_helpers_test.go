package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runningHub is a hub serve process started by a test.
type runningHub struct {
	URL, Code string
	CA        string // the certificate file the hub made for itself, when it did
	cmd       *exec.Cmd
	logs      *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startHub runs hub serve --demo on data and addr (HOST:0 for any port),
// waits until it listens and returns it; it is stopped at the end of the
// test unless stopped before.
func startHub(t *testing.T, data, addr string, extra ...string) *runningHub {
	t.Helper()
	return startServe(t, append([]string{"--demo", "--data", data, "--addr", addr}, extra...)...)
}

// startServe runs hub serve with args and waits until it listens.
func startServe(t *testing.T, args ...string) *runningHub {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, hubBin, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "SPORTELLO_CONFIG=") // not the machine's hub.conf
	stdout, _ := cmd.StdoutPipe()
	h := &runningHub{cmd: cmd, logs: &lockedBuffer{}}
	cmd.Stderr = h.logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { h.stop(t); cancel() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := regexp.MustCompile(`^enrolment code: (\S+)$`).FindStringSubmatch(sc.Text()); m != nil {
			h.Code = m[1]
		}
		if m := regexp.MustCompile(`^TLS certificate: (.+) \(SHA-256 [0-9A-F:]{95}\)$`).FindStringSubmatch(sc.Text()); m != nil {
			h.CA = m[1]
		}
		if m := regexp.MustCompile(`hub listening on (\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			h.URL = m[1]
			break
		}
	}
	if h.URL == "" {
		t.Fatalf("hub did not start:\n%s", h.logs.String())
	}
	go io.Copy(io.Discard, stdout)
	return h
}

// Transport reaches the hub as a kiosk enrolled with kiosk enrol --hub-ca
// does: trusting the certificate the hub made, and nothing else.
func (h *runningHub) Transport(t *testing.T) *http.Transport {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if h.CA != "" {
		pem, err := os.ReadFile(h.CA)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", h.CA)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return tr
}

// Client is an HTTP client for the hub (see Transport).
func (h *runningHub) Client(t *testing.T) *http.Client {
	return &http.Client{Transport: h.Transport(t)}
}

// CAPEM is the hub's certificate as kiosk enrol --hub-ca reads it.
func (h *runningHub) CAPEM(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(h.CA)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// stop ends the hub with SIGTERM and waits for it; a second call does nothing.
func (h *runningHub) stop(t *testing.T) {
	if h.cmd.ProcessState != nil {
		return
	}
	h.cmd.Process.Signal(syscall.SIGTERM)
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("hub did not stop cleanly: %v\n%s", err, h.logs.String())
	}
}

// freeAddr finds a loopback port nobody listens on, for a hub that must
// come back at the same address (signatures cover the authority).
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// me is the account running the tests as the hub records it.
func me(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil || u.Username == "" {
		t.Fatalf("no user name for this process: %v", err)
	}
	return "staff:" + u.Username
}
