package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeNotifiesSystemd runs hub serve as systemd runs the packaged
// unit: its settings from a hub.conf named by SPORTELLO_CONFIG, a
// datagram socket as NOTIFY_SOCKET and a watchdog. The hub must say
// READY=1 only once it answers, ping the watchdog while it serves, and
// say STOPPING=1 when told to stop.
func TestServeNotifiesSystemd(t *testing.T) {
	// sun_path holds 108 bytes: a short directory, not t.TempDir().
	sockDir, err := os.MkdirTemp("", "sd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	socket := filepath.Join(sockDir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	dir := t.TempDir()
	data := filepath.Join(dir, "state")
	conf := filepath.Join(dir, "hub.conf")
	settings := "data = " + data + "\n[serve]\naddr = 127.0.0.1:0\n"
	if err := os.WriteFile(conf, []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hubBin, "serve")
	cmd.Env = append(os.Environ(), "SPORTELLO_CONFIG="+conf, "NOTIFY_SOCKET="+socket, "WATCHDOG_USEC=400000")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// next is the next datagram the hub sends; the deadline only bounds a
	// hub that never sends it.
	next := func() string {
		t.Helper()
		buf := make([]byte, 4096)
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no notification from the hub: %v\n%s", err, logs.String())
		}
		return string(buf[:n])
	}
	ready := next()
	if !strings.HasPrefix(ready, "READY=1\nSTATUS=serving on http://127.0.0.1:") {
		t.Fatalf("first notification %q, want READY=1 with the address", ready)
	}
	url := strings.TrimPrefix(ready, "READY=1\nSTATUS=serving on ")
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatalf("READY=1 sent before the hub answers: %v", err)
	}
	resp.Body.Close()
	if _, err := os.Stat(registryPath(data)); err != nil {
		t.Errorf("the data directory of hub.conf was not used: %v", err)
	}
	for i := 0; i < 2; i++ {
		if got := next(); got != "WATCHDOG=1" {
			t.Fatalf("notification %q, want WATCHDOG=1", got)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		got := next()
		if got == "STOPPING=1" {
			break
		}
		if got != "WATCHDOG=1" {
			t.Fatalf("notification %q while stopping, want STOPPING=1", got)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("hub serve ended with %v\n%s", err, logs.String())
	}
}

// TestSettingsFileRefused: a settings file the hub cannot use stops every
// command with exit status 2 and one sentence naming the file and line.
func TestSettingsFileRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, conf string
		args       []string
		want       string
	}{
		{"not NAME = VALUE", write("syntax.conf", "# hub\ndata /srv\n"), []string{"cf", "check", "CCCFBA85D03L219P"}, `syntax.conf:2: "data /srv" is not NAME = VALUE.`},
		{"flag the command lacks", write("flag.conf", "[serve]\nadress = 127.0.0.1:1\n"), []string{"serve"}, "flag.conf:2: hub serve has no flag --adress"},
		{"bad value", write("value.conf", "[serve]\nmax-connections = many\n"), []string{"serve"}, `value.conf:2: "many" is not a value for --max-connections`},
		{"no such file", filepath.Join(dir, "missing.conf"), []string{"cf", "check", "CCCFBA85D03L219P"}, "cannot read the settings file " + filepath.Join(dir, "missing.conf")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hubEnv(t, "", []string{"SPORTELLO_CONFIG=" + tt.conf}, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
}

// TestSettingsPrecedence: a flag on the command line wins over
// $SPORTELLO_NAME, which wins over hub.conf, for any command.
func TestSettingsPrecedence(t *testing.T) {
	want := hub(t, "cf", "encode", "--surname", "ROSSI", "--name", "MARIO", "--sex", "M", "--birth", "1980-01-01", "--place", "L219")
	if want.code != 0 {
		t.Fatalf("cf encode: %+v", want)
	}
	conf := filepath.Join(t.TempDir(), "hub.conf")
	text := "surname = VERDI\n[cf encode]\nsurname = ROSSI\nname = PAOLO\nsex = M\nbirth = 1980-01-01\nplace = H501\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got := hubEnv(t, "", []string{"SPORTELLO_CONFIG=" + conf, "SPORTELLO_NAME=MARIO", "SPORTELLO_PLACE=F205"}, "cf", "encode", "--place", "L219")
	if got.code != 0 || got.stdout != want.stdout {
		t.Errorf("from hub.conf, environment and flags: exit %d %q %q; want %q", got.code, got.stdout, got.stderr, want.stdout)
	}
}

// TestPackagedSettings: the hub.conf the Debian package installs names
// only flags hub serve has, with values it takes: hub serve starts on it
// (HTTPS with a certificate of its own), with the data directory and the
// address moved by the environment and the command line as a test needs.
func TestPackagedSettings(t *testing.T) {
	conf, err := filepath.Abs("../../packaging/hub/hub.conf")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// No journal socket on every test machine: --audit-journal "" turns
	// the file's copy to the journal off.
	cmd := exec.CommandContext(ctx, hubBin, "serve", "--addr", "127.0.0.1:0", "--audit-journal", "")
	cmd.Env = append(os.Environ(), "SPORTELLO_CONFIG="+conf, "SPORTELLO_DATA="+filepath.Join(t.TempDir(), "state"))
	var logs bytes.Buffer
	cmd.Stderr = &logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "hub listening on https://127.0.0.1:") {
			go io.Copy(io.Discard, stdout)
			return
		}
	}
	cmd.Wait()
	t.Fatalf("hub serve did not start on the packaged hub.conf:\n%s", logs.String())
}
