// Package pcsctest starts the real pcscd with the vsmartcard-vpcd driver for
// tests, shared safely between test packages that go test runs in parallel:
// a lock file serialises start and stop, and a use count lets the last user
// stop the daemon, by the process id it was started with. A pcscd that was
// already running before any test is used and never stopped.
package pcsctest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Readers of the vpcd driver (/etc/reader.conf.d/vpcd) and their card ports.
const (
	Reader0 = "Virtual PCD 00 00"
	Reader1 = "Virtual PCD 00 01"
	Port0   = "127.0.0.1:35963"
	Port1   = "127.0.0.1:35964"
)

const (
	lockPath  = "/tmp/sportello-pcscd.lock"
	statePath = "/tmp/sportello-pcscd.state" // "users startedPID"
	socket    = "/run/pcscd/pcscd.comm"
)

// Missing says what is not installed, or "" when everything is.
func Missing() string {
	var miss []string
	if _, err := exec.LookPath("pcscd"); err != nil {
		miss = append(miss, "pcscd")
	}
	if _, err := os.Stat("/etc/reader.conf.d/vpcd"); err != nil {
		miss = append(miss, "vsmartcard-vpcd")
	}
	if len(miss) == 0 {
		return ""
	}
	return strings.Join(miss, ", ") + " not installed: run `make deps` (as root) to install the test packages"
}

// Start makes sure pcscd runs and returns the function that releases it.
func Start() (stop func(), err error) {
	if m := Missing(); m != "" {
		return nil, errors.New(m)
	}
	unlock, err := lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	users, pid := readState()
	if users == 0 || !alive(pid) {
		users = 0
		if pid != 0 || !running() {
			if pid, err = launch(); err != nil {
				return nil, err
			}
		} else {
			pid = 0 // someone else's pcscd: use it, never stop it
		}
	}
	writeState(users+1, pid)
	return func() {
		unlock, err := lock()
		if err != nil {
			return
		}
		defer unlock()
		users, pid := readState()
		users--
		if users <= 0 {
			users = 0
			if pid > 0 {
				syscall.Kill(pid, syscall.SIGTERM)
				waitGone(pid)
			}
			pid = 0
		}
		writeState(users, pid)
	}, nil
}

func lock() (func(), error) {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func readState() (users, pid int) {
	b, err := os.ReadFile(statePath)
	if err != nil {
		return 0, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0
	}
	users, _ = strconv.Atoi(f[0])
	pid, _ = strconv.Atoi(f[1])
	return users, pid
}

func writeState(users, pid int) {
	os.WriteFile(statePath, []byte(fmt.Sprintf("%d %d\n", users, pid)), 0o600)
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	return err == nil && strings.TrimSpace(string(b)) == "pcscd"
}

func running() bool {
	b, err := os.ReadFile("/run/pcscd/pcscd.pid")
	if err != nil {
		return false
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return alive(pid)
}

func launch() (int, error) {
	// A stale socket from a killed daemon makes pcscd refuse to start.
	if !running() {
		os.Remove(socket)
		os.Remove("/run/pcscd/pcscd.pid")
	}
	cmd := exec.Command("pcscd", "--foreground")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // outlives this test binary until the last user stops it
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("could not start pcscd: %w", err)
	}
	go cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(socket); err == nil {
			return cmd.Process.Pid, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	return 0, errors.New("pcscd did not open its socket within 5 s")
}

func waitGone(pid int) {
	for i := 0; i < 50 && alive(pid); i++ {
		time.Sleep(50 * time.Millisecond)
	}
}
