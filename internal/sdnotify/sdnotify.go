// Package sdnotify tells systemd how a service is doing, with the datagram
// protocol of sd_notify(3): "READY=1" once it serves, "WATCHDOG=1" while it
// is well, "STOPPING=1" as it shuts down. Outside a Type=notify unit
// (NOTIFY_SOCKET unset) every call does nothing.
package sdnotify

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The states a service sends (sd_notify(3)).
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Notifier sends states to the socket systemd named for this process.
type Notifier struct {
	socket   string        // NOTIFY_SOCKET: a path, or "@name" in the abstract namespace
	watchdog time.Duration // WATCHDOG_USEC, zero when systemd watches nothing
}

// FromEnv is the Notifier systemd set up for the process pid through the
// environment getenv reads. The watchdog is the process's only when
// WATCHDOG_PID is unset or names pid, as sd_watchdog_enabled(3) says:
// a child started with the service's environment must not ping for it.
// A malformed variable is an error, so that a unit's mistake is not
// silently a service systemd kills at its first watchdog timeout.
func FromEnv(getenv func(string) string, pid int) (*Notifier, error) {
	n := &Notifier{socket: getenv("NOTIFY_SOCKET")}
	if n.socket != "" && !strings.HasPrefix(n.socket, "/") && !strings.HasPrefix(n.socket, "@") {
		return nil, fmt.Errorf("NOTIFY_SOCKET=%q is neither a path nor an abstract socket (@name)", n.socket)
	}
	usec := getenv("WATCHDOG_USEC")
	if usec == "" {
		return n, nil
	}
	if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(pid) {
		return n, nil
	}
	us, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || us <= 0 {
		return nil, fmt.Errorf("WATCHDOG_USEC=%q is not a positive number of microseconds", usec)
	}
	n.watchdog = time.Duration(us) * time.Microsecond
	return n, nil
}

// Enabled says whether systemd listens.
func (n *Notifier) Enabled() bool { return n != nil && n.socket != "" }

// WatchdogInterval is how often to send Watchdog: half of systemd's
// timeout, as sd_watchdog_enabled(3) advises, so that one late ping is not
// a restart. Zero when there is no watchdog.
func (n *Notifier) WatchdogInterval() time.Duration {
	if n == nil || n.socket == "" {
		return 0
	}
	return n.watchdog / 2
}

// Notify sends the states, one a line, in one datagram.
func (n *Notifier) Notify(states ...string) error {
	if !n.Enabled() {
		return nil
	}
	name := n.socket
	if name[0] == '@' {
		name = "\x00" + name[1:] // Go's spelling of the abstract namespace
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("cannot reach systemd's notification socket %s: %v", n.socket, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(states, "\n"))); err != nil {
		return fmt.Errorf("cannot notify systemd: %v", err)
	}
	return nil
}
