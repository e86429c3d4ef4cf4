package pcsctest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cie/virtual"
)

// machineIPC is the state of the machine's own /run/pcscd files: a private
// daemon must neither create, replace nor remove them. Without a mount
// namespace pcscd rewrites the pid file and Start and Stop put its content
// back, so strict false compares only the pid file's content.
func machineIPC(t *testing.T, strict bool) map[string]string {
	t.Helper()
	ipc, _, err := builtInDirs()
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]string{}
	for _, f := range []string{"pcscd.comm", "pcscd.pid"} {
		var s syscall.Stat_t
		if err := syscall.Stat(filepath.Join(ipc, f), &s); err != nil {
			st[f] = "absent"
			continue
		}
		b, _ := os.ReadFile(filepath.Join(ipc, f))
		st[f] = fmt.Sprintf("%q", b)
		if strict || f == "pcscd.comm" {
			st[f] += fmt.Sprintf(", inode %d, modified %d", s.Ino, s.Mtim.Nano())
		}
	}
	return st
}

// scriptor sends one APDU through the daemon whose socket is named, as an
// independent PC/SC client configured only by the environment.
func scriptor(t *testing.T, socket string) (string, error) {
	t.Helper()
	cmd := exec.Command("scriptor", "-r", Reader0)
	cmd.Env = append(os.Environ(), SocketEnv+"="+socket)
	cmd.Stdin = strings.NewReader("00 A4 04 0C 0D A0 00 00 00 30 80 00 00 00 09 81 60 01\n")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Two private daemons run side by side, each with its own socket, ports and
// card, and the machine's /run/pcscd stays as it was, whether or not the
// machine runs a pcscd of its own: in a mount namespace, and (where none can
// be made) started on a socket handed to them.
func TestPrivateDaemons(t *testing.T) {
	if _, err := exec.LookPath("scriptor"); err != nil {
		t.Fatal("scriptor not installed: run `make deps` (package pcsc-tools)")
	}
	t.Run("namespace", func(t *testing.T) {
		if !canUnshare() {
			t.Skip("this machine lets no process make a mount namespace; Start uses socket activation")
		}
		testPrivateDaemons(t, true)
	})
	t.Run("activated", func(t *testing.T) { testPrivateDaemons(t, false) })
}

func testPrivateDaemons(t *testing.T, namespace bool) {
	before := machineIPC(t, namespace)
	d1, err := start(namespace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d1.Stop)
	d2, err := start(namespace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d2.Stop)
	if d1.Socket == d2.Socket || d1.Port0 == d2.Port0 || d1.Port0 == d2.Port1 || d1.Port1 == d2.Port0 {
		t.Fatalf("two daemons share a socket or a port: %+v %+v", d1, d2)
	}
	card, err := virtual.New(virtual.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	attached := make(chan error, 1)
	go func() { attached <- virtual.Attach(ctx, d1.Port0, card, virtual.VPCDOptions{Retry: 5 * time.Second}) }()

	// The card is in d1's reader: scriptor through d1 reaches it (pcscd
	// polls vpcd, so allow it a moment to notice the card).
	var out string
	for i := 0; i < 100; i++ {
		if out, err = scriptor(t, d1.Socket); err == nil && strings.Contains(out, "90 00") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || !strings.Contains(out, "90 00") {
		t.Fatalf("scriptor through the first daemon: %v\n%s", err, out)
	}
	// d2's reader of the same name is empty.
	if out, err := scriptor(t, d2.Socket); err == nil && strings.Contains(out, "90 00") {
		t.Fatalf("the second daemon answered with the first one's card:\n%s", out)
	} else {
		t.Logf("scriptor through the second daemon: %v\n%s", err, out)
	}
	cancel()
	<-attached

	if after := machineIPC(t, namespace); after["pcscd.comm"] != before["pcscd.comm"] || after["pcscd.pid"] != before["pcscd.pid"] {
		t.Fatalf("the machine's /run/pcscd changed while private daemons ran: %v, then %v", before, after)
	}
	for _, d := range []*PCSCD{d1, d2} {
		pid, dir := d.pid, d.dir
		d.Stop() // and again at cleanup: a second Stop does nothing
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("pcscd %d still runs after Stop", pid)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Stop: %v", dir, err)
		}
	}
	if after := machineIPC(t, namespace); after["pcscd.comm"] != before["pcscd.comm"] || after["pcscd.pid"] != before["pcscd.pid"] {
		t.Fatalf("the machine's /run/pcscd changed when private daemons stopped: %v, then %v", before, after)
	}
}
