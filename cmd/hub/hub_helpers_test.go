package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runningHub is a hub serve process started by a test.
type runningHub struct {
	URL, Code string
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
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	args := append([]string{"serve", "--demo", "--data", data, "--addr", addr}, extra...)
	cmd := exec.CommandContext(ctx, hubBin, args...)
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
