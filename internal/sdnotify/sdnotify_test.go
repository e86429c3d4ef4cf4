package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		interval time.Duration
		enabled  bool
		bad      bool
	}{
		{"outside systemd", nil, 0, false, false},
		{"notify only", map[string]string{"NOTIFY_SOCKET": "/run/n"}, 0, true, false},
		{"watchdog", map[string]string{"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "30000000"}, 15 * time.Second, true, false},
		{"watchdog of this pid", map[string]string{"NOTIFY_SOCKET": "@n", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "42"}, time.Second, true, false},
		{"watchdog of another process", map[string]string{"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "7"}, 0, true, false},
		{"watchdog without a socket", map[string]string{"WATCHDOG_USEC": "2000000"}, 0, false, false},
		{"bad watchdog", map[string]string{"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "soon"}, 0, false, true},
		{"zero watchdog", map[string]string{"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "0"}, 0, false, true},
		{"relative socket", map[string]string{"NOTIFY_SOCKET": "run/n"}, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := FromEnv(env(tt.env), 42)
			if tt.bad {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Enabled() != tt.enabled || n.WatchdogInterval() != tt.interval {
				t.Errorf("enabled %v interval %v, want %v %v", n.Enabled(), n.WatchdogInterval(), tt.enabled, tt.interval)
			}
		})
	}
}

// listen is systemd's side: a datagram socket at a short path (sun_path
// holds 108 bytes), and the states it receives.
func listen(t *testing.T, abstract bool) (string, *net.UnixConn) {
	t.Helper()
	var name, env string
	if abstract {
		env = "@sdnotify-test-" + strconv.Itoa(os.Getpid())
		name = "\x00" + env[1:]
	} else {
		dir, err := os.MkdirTemp("", "sd")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		name = filepath.Join(dir, "notify")
		env = name
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return env, conn
}

func TestNotify(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run("abstract="+strconv.FormatBool(abstract), func(t *testing.T) {
			socket, conn := listen(t, abstract)
			n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": socket}), 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Notify(Ready, "STATUS=serving"); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 256)
			k, err := conn.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(buf[:k]); got != "READY=1\nSTATUS=serving" {
				t.Errorf("got %q", got)
			}
		})
	}
}

func TestNotifyOutsideSystemd(t *testing.T) {
	n, err := FromEnv(env(nil), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(Ready); err != nil {
		t.Errorf("notifying nobody: %v", err)
	}
	var none *Notifier
	if none.Enabled() || none.Notify(Stopping) != nil || none.WatchdogInterval() != 0 {
		t.Error("a nil Notifier does something")
	}
}

func TestNotifyGoneSocket(t *testing.T) {
	n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": filepath.Join(t.TempDir(), "gone")}), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(Ready); err == nil {
		t.Error("no error for a socket that is not there")
	}
}
