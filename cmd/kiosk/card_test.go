package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cardreader/pcsc"
	"github.com/sportello/sportello/internal/cardreader/pcsctest"
)

// syncBuffer is written by the simulator goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runKiosk(ctx context.Context, args ...string) (int, string, string) {
	var out, errb syncBuffer
	c := &cli{stdout: &out, stderr: &errb, now: func() time.Time { return time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC) }}
	code := c.run(ctx, args)
	return code, out.String(), errb.String()
}

// processPCSCD is the private pcscd of this test process. The PC/SC
// library reads the daemon's socket from the environment once per process,
// so one daemon serves every run of the test (go test -count=N) and is
// stopped by TestMain when the process ends.
var processPCSCD struct {
	once sync.Once
	d    *pcsctest.PCSCD
	err  error
}

func privatePCSCD(t *testing.T) *pcsctest.PCSCD {
	t.Helper()
	processPCSCD.once.Do(func() {
		processPCSCD.d, processPCSCD.err = pcsctest.Start()
		if processPCSCD.err == nil {
			os.Setenv(pcsctest.SocketEnv, processPCSCD.d.Socket)
		}
	})
	if processPCSCD.err != nil {
		t.Fatal(processPCSCD.err)
	}
	return processPCSCD.d
}

// stopPCSCD stops the process's private pcscd, if a test started one.
func stopPCSCD() {
	if processPCSCD.d != nil {
		processPCSCD.d.Stop()
	}
}

// TestCardPCSC runs "card simulate" and "card read" through a real pcscd: a
// private one, on its vpcd driver's slot 1.
func TestCardPCSC(t *testing.T) {
	d := privatePCSCD(t)
	p, err := pcsc.New()
	if err != nil {
		t.Fatal(err)
	}
	names, err := p.Readers(context.Background())
	p.Close()
	if !slices.Contains(names, pcsctest.Reader1) {
		t.Fatalf("the PC/SC library lists %q, %v, not the private pcscd's %q: was it used in this process before the test set %s?", names, err, pcsctest.Reader1, pcsctest.SocketEnv)
	}
	t.Run("read", func(t *testing.T) { testCardSimulateAndRead(t, d) })
	t.Run("PIN", func(t *testing.T) { testCardReadPIN(t, d) })
}

// "card simulate" in one goroutine, "card read" in another.
func testCardSimulateAndRead(t *testing.T, d *pcsctest.PCSCD) {
	tests := []struct {
		mode, nis string
		code      int
		want      []string
	}{
		{"genuine", "222333444555", 0, []string{"NIS: 222333444555", "chip genuine: yes", "signed by the issuer: yes", "result: VERIFIED"}},
		{"cloned", "", 1, []string{"chip genuine: NO", "problem (chip-auth-failed)", "result: NOT VERIFIED"}},
		{"tampered", "", 1, []string{"signed by the issuer: NO", "problem (nis-hash-mismatch)"}},
		{"expired", "", 1, []string{"problem (signer-expired)", "expired on 2023-01-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			args := []string{"card", "simulate", "--vpcd", d.Port1, "--mode", tt.mode}
			if tt.nis != "" {
				args = append(args, "--nis", tt.nis)
			}
			simDone := make(chan string, 1)
			go func() { _, out, _ := runKiosk(ctx, args...); simDone <- out }()
			code, out, errOut := runKiosk(context.Background(), "card", "read", "--reader", pcsctest.Reader1, "--demo", "--wait", "10s")
			cancel()
			sim := <-simDone
			if !strings.Contains(sim, "attaching to vpcd at "+d.Port1) {
				t.Errorf("simulate printed %q", sim)
			}
			if code != tt.code {
				t.Fatalf("card read exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.code != 0 && !strings.HasPrefix(errOut, "kiosk card read: the card did not pass verification: ") {
				t.Errorf("stderr %q", errOut)
			}
			waitEmpty(t)
		})
	}
}

// waitEmpty waits until pcscd has noticed the card left slot 1.
func waitEmpty(t *testing.T) {
	for i := 0; i < 100; i++ {
		code, _, errOut := runKiosk(context.Background(), "card", "read", "--reader", pcsctest.Reader1)
		if code == 1 && strings.Contains(errOut, "no card") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the virtual card did not leave the reader")
}

func TestCardReadVirtual(t *testing.T) {
	code, out, errOut := runKiosk(context.Background(), "card", "read", "--virtual", "genuine")
	if code != 0 || !strings.Contains(out, "NIS: 012345678901") || !strings.Contains(out, "result: VERIFIED") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	defer func(r io.Reader) { stdin = r }(stdin)
	stdin = strings.NewReader("12345678\n")
	code, _, errOut = runKiosk(context.Background(), "card", "read", "--virtual", "genuine", "--pin-stdin", "--ias-ca-key", "/nonexistent")
	if code != 1 || !strings.Contains(errOut, "could not read the IAS CA key file") {
		t.Fatalf("missing CA key file: exit %d, %s", code, errOut)
	}
	code, out, _ = runKiosk(context.Background(), "card", "read", "--virtual", "cloned")
	if code != 1 || !strings.Contains(out, "chip-auth-failed") {
		t.Fatalf("cloned: exit %d\n%s", code, out)
	}
}

// The PIN goes through pcscd inside the IAS secure channel; the output
// never shows it.
func testCardReadPIN(t *testing.T, d *pcsctest.PCSCD) {
	defer func(r io.Reader) { stdin = r }(stdin)
	tests := []struct {
		mode, pin string
		code      int
		want      string
	}{
		{"genuine", "12345678", 0, "PIN: accepted"},
		{"genuine", "87654321", 1, "PIN: refused: wrong PIN: 2 tries left"},
		{"pin-blocked", "12345678", 1, "PIN: refused: the card's PIN is blocked"},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.pin, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			simDone := make(chan struct{})
			go func() {
				runKiosk(ctx, "card", "simulate", "--vpcd", d.Port1, "--mode", tt.mode, "--nis", "222333444555")
				close(simDone)
			}()
			stdin = strings.NewReader(tt.pin + "\n")
			code, out, errOut := runKiosk(context.Background(), "card", "read", "--reader", pcsctest.Reader1, "--demo", "--wait", "10s", "--pin-stdin")
			cancel()
			<-simDone
			waitEmpty(t)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Fatalf("exit %d, want %d and %q\nstdout:\n%s\nstderr:\n%s", code, tt.code, tt.want, out, errOut)
			}
			if strings.Contains(out+errOut, tt.pin) {
				t.Fatalf("the PIN was printed:\n%s%s", out, errOut)
			}
		})
	}
}

func TestCardUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"card", "simulate", "--mode", "bent"}, `card mode "bent" is not one of`},
		{[]string{"card", "simulate", "--nis", "12"}, `NIS "12" is not 12 digits`},
		{[]string{"card", "read", "--wait", "-1s"}, "--wait must not be negative"},
		{[]string{"card", "read", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		code, _, errOut := runKiosk(context.Background(), tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}
