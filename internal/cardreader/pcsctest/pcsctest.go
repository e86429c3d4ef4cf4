// Package pcsctest starts a private pcscd with the vsmartcard-vpcd driver for
// tests, so that a pcscd the machine already runs neither helps nor breaks
// them, and a machine where pcscd was just installed (and never started)
// works the same.
//
// pcsc-lite 1.9.9 (Debian 12) builds its socket and pid file paths into the
// daemon (/run/pcscd/pcscd.comm, /run/pcscd/pcscd.pid; only the client
// library reads PCSCLITE_CSOCK_NAME) and refuses to start while another
// pcscd's pid file names a live process. So the private daemon runs in its
// own mount namespace (unshare, as root) where a temporary directory is bound
// over /run/pcscd: its socket is that directory's pcscd.comm, which clients
// reach by setting PCSCLITE_CSOCK_NAME, and the machine's /run/pcscd is never
// touched. Its reader configuration (pcscd -c) is its own too: the vpcd
// driver listens on a pair of free TCP ports instead of 35963/35964, and the
// readers get their own name. The USB driver directory is hidden from it so
// it never claims a real reader the machine's pcscd serves.
//
// Where no mount namespace can be made (a container without CAP_SYS_ADMIN),
// the daemon gets its socket the way systemd socket activation hands it one
// (LISTEN_FDS), which skips the check for another pcscd; it still writes and
// at exit removes /run/pcscd/pcscd.pid, so Start and Stop put back what that
// file held, and it sees the machine's USB readers.
package pcsctest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SocketEnv is the variable through which libpcsclite (and so ebfe/scard,
// scriptor and every other client) finds the daemon's socket. The library
// reads it once, on its first use in a process: set it before any PC/SC call.
const SocketEnv = "PCSCLITE_CSOCK_NAME"

// FriendlyName names the private daemon's readers. It differs from the system
// configuration's "Virtual PCD" so that a test that reached the machine's
// pcscd instead of its own fails, naming a reader that is not there.
const FriendlyName = "Sportello Test PCD"

// The private daemon's readers.
const (
	Reader0 = FriendlyName + " 00 00"
	Reader1 = FriendlyName + " 00 01"
)

// PCSCD is one private pcscd.
type PCSCD struct {
	Socket       string // the daemon's socket: the value for SocketEnv
	Port0, Port1 string // where a virtual card attaches to Reader0 and Reader1 (host:port)

	dir  string
	pid  int
	done chan struct{} // closed when the daemon has exited
	// Without a mount namespace pcscd writes the machine's pid file:
	// restorePID says to put back savedPID, what pidFile held before.
	pidFile    string
	savedPID   saved
	restorePID bool
	stop       sync.Once
}

// vpcdConf is the configuration Debian's vsmartcard-vpcd installs; its
// LIBPATH names the driver.
const vpcdConf = "/etc/reader.conf.d/vpcd"

// Missing says what is not installed, or "" when everything is.
func Missing() string {
	var miss []string
	if _, err := exec.LookPath("pcscd"); err != nil {
		miss = append(miss, "pcscd")
	}
	if _, err := vpcdDriver(); err != nil {
		miss = append(miss, "vsmartcard-vpcd")
	}
	if len(miss) == 0 {
		return ""
	}
	return strings.Join(miss, ", ") + " not installed: run `make deps` (as root) to install the test packages"
}

// vpcdDriver is the path of the vpcd driver library.
func vpcdDriver() (string, error) {
	b, err := os.ReadFile(vpcdConf)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "LIBPATH" {
			if _, err := os.Stat(f[1]); err != nil {
				return "", err
			}
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%s names no LIBPATH", vpcdConf)
}

// Start starts a private pcscd; Stop ends it.
func Start() (*PCSCD, error) {
	return start(canUnshare())
}

// canUnshare reports whether this process may make a mount namespace and
// mount in it (unshare and mount are util-linux's and Debian's mount's).
func canUnshare() bool {
	if _, err := exec.LookPath("mount"); err != nil {
		return false
	}
	return exec.Command("unshare", "--mount", "--propagation", "private", "true").Run() == nil
}

func start(namespace bool) (*PCSCD, error) {
	if m := Missing(); m != "" {
		return nil, errors.New(m)
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("a private pcscd for the tests needs root: it needs /run/pcscd and, to leave the machine's alone, its own mount namespace (run the tests as root, as `make test` does)")
	}
	driver, err := vpcdDriver()
	if err != nil {
		return nil, err
	}
	ipcDir, dropDir, err := builtInDirs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sportello-pcscd-")
	if err != nil {
		return nil, err
	}
	d := &PCSCD{dir: dir, Socket: filepath.Join(dir, "ipc", "pcscd.comm"), pidFile: filepath.Join(ipcDir, "pcscd.pid")}
	if err := d.start(namespace, driver, ipcDir, dropDir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return d, nil
}

// builtInDirs reads from `pcscd --version` the directories compiled into the
// daemon: where its socket and pid file go and where USB drivers are found.
func builtInDirs() (ipc, usbDrop string, err error) {
	out, _ := exec.Command("pcscd", "--version").CombinedOutput()
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "ipcdir="); ok {
			ipc = v
		}
		if v, ok := strings.CutPrefix(f, "usbdropdir="); ok {
			usbDrop = v
		}
	}
	if ipc == "" || usbDrop == "" {
		return "", "", fmt.Errorf("`pcscd --version` names no ipcdir and usbdropdir:\n%s", out)
	}
	return ipc, usbDrop, nil
}

// nsScript runs inside the new mount namespace, where the mounts it makes
// are private: the driver library is reached through a file bound into the
// temporary directory (so that the USB driver directory, which holds it, can
// be hidden behind an empty one), and the temporary ipc directory stands in
// for /run/pcscd. Arguments: the temporary directory, the driver, the
// daemon's USB driver directory and its ipc directory.
const nsScript = `set -e
mount --bind "$2" "$1/libifdvpcd.so"
mount --bind "$1/nodrivers" "$3"
mount --bind "$1/ipc" "$4"
exec pcscd --foreground -c "$1/reader.conf.d"
`

// activatedScript starts pcscd on the socket passed as descriptor 3, as
// systemd would; sd_listen_fds wants LISTEN_PID to be pcscd's own process
// id, which sh's is after exec.
const activatedScript = `export LISTEN_PID=$$ LISTEN_FDS=1
exec pcscd --foreground -c "$1/reader.conf.d"
`

func (d *PCSCD) start(namespace bool, driver, ipcDir, dropDir string) error {
	for _, sub := range []string{"ipc", "nodrivers", "reader.conf.d"} {
		if err := os.Mkdir(filepath.Join(d.dir, sub), 0o755); err != nil {
			return err
		}
	}
	// The mount point must exist; on a machine where pcscd never ran it
	// does not yet (pcscd itself would create it, with the same mode).
	if err := os.MkdirAll(ipcDir, 0o755); err != nil {
		return err
	}
	// Parallel test binaries each start a daemon: the lock keeps two from
	// choosing the same free ports before either daemon holds them.
	unlock, err := lock()
	if err != nil {
		return err
	}
	defer unlock()
	port, err := freePortPair()
	if err != nil {
		return err
	}
	d.Port0, d.Port1 = fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)
	logf, err := os.Create(filepath.Join(d.dir, "pcscd.log"))
	if err != nil {
		return err
	}
	defer logf.Close()

	var cmd *exec.Cmd
	libpath := driver
	if namespace {
		libpath = filepath.Join(d.dir, "libifdvpcd.so")
		if err := os.WriteFile(libpath, nil, 0o644); err != nil {
			return err
		}
		cmd = exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", nsScript, "sh", d.dir, driver, dropDir, ipcDir)
	} else {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: d.Socket, Net: "unix"})
		if err != nil {
			return err
		}
		l.SetUnlinkOnClose(false) // the socket file outlives this copy of the listener
		f, err := l.File()
		l.Close()
		if err != nil {
			return err
		}
		defer f.Close()
		cmd = exec.Command("sh", "-c", activatedScript, "sh", d.dir)
		cmd.ExtraFiles = []*os.File{f}
		d.savedPID = readSaved(d.pidFile)
		d.restorePID = true
	}
	// vpcd listens on CHANNELID for slot 0 and the next port for slot 1
	// (DEVICENAME /dev/null:<port>: wait for the card, do not dial it).
	conf := fmt.Sprintf("FRIENDLYNAME \"%s\"\nDEVICENAME /dev/null:0x%X\nLIBPATH %s\nCHANNELID 0x%X\n",
		FriendlyName, port, libpath, port)
	if err := os.WriteFile(filepath.Join(d.dir, "reader.conf.d", "vpcd"), []byte(conf), 0o644); err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// unshare and sh exec into pcscd, which keeps this process id; should
	// the test binary die without stopping it, the kernel ends it. That
	// follows the thread that started it, so the goroutine that starts and
	// waits for it keeps its thread for as long as the daemon runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	d.done = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(d.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("could not start pcscd: %w", err)
	}
	d.pid = cmd.Process.Pid
	if err := d.waitReady(port); err != nil {
		d.stop.Do(func() { d.halt(false) }) // this goroutine holds the lock
		return err
	}
	if d.restorePID {
		d.savedPID.restore(d.pidFile)
	}
	return nil
}

// saved is what a file held: present false when there was none.
type saved struct {
	data    []byte
	present bool
}

func readSaved(path string) saved {
	b, err := os.ReadFile(path)
	return saved{b, err == nil}
}

func (s saved) restore(path string) {
	if s.present {
		os.WriteFile(path, s.data, 0o644)
	} else {
		os.Remove(path)
	}
}

// waitReady waits until the daemon is ready: its socket exists and its
// vpcd driver listens on both ports (pcscd loads its readers before it
// opens its socket or, activated, writes its pid file; it then accepts
// clients that connected meanwhile).
func (d *PCSCD) waitReady(port int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		ready, err := d.ready(port)
		if err != nil {
			return err
		}
		if ready {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("the private pcscd ended before it was ready:\n%s", d.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the private pcscd (socket %s, vpcd ports %d and %d) was not ready within 10 s:\n%s", d.Socket, port, port+1, d.log())
		}
	}
}

func (d *PCSCD) ready(port int) (bool, error) {
	if _, err := os.Stat(d.Socket); err != nil {
		return false, nil
	}
	if d.restorePID {
		// Wait for its pid file too, so that what the file held is put
		// back after pcscd wrote it, not before.
		b, err := os.ReadFile(d.pidFile)
		if first, _, _ := strings.Cut(string(b), "\n"); err != nil || first != strconv.Itoa(d.pid) {
			return false, nil
		}
	}
	for _, p := range []int{port, port + 1} {
		ok, err := listensOn(d.pid, p)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (d *PCSCD) log() string {
	b, _ := os.ReadFile(filepath.Join(d.dir, "pcscd.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop ends the daemon, by the process id it was started with, and removes
// its directory; its mounts end with its namespace.
// A second Stop does nothing.
func (d *PCSCD) Stop() { d.stop.Do(func() { d.halt(true) }) }

// halt ends the daemon. Where pcscd writes the machine's pid file, putting
// its content back happens under the lock (unless the caller holds it), so
// that a daemon starting meanwhile in another test binary saves the
// machine's content and not the gap left by this one's exit.
func (d *PCSCD) halt(lockFirst bool) {
	if d.restorePID && lockFirst {
		if unlock, err := lock(); err == nil {
			defer unlock()
		}
	}
	syscall.Kill(d.pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(d.pid, syscall.SIGKILL)
		<-d.done
	}
	if d.restorePID {
		d.savedPID.restore(d.pidFile)
	}
	os.RemoveAll(d.dir)
}

// freePortPair finds a port p such that p and p+1 are both free on every
// address, as vpcd binds them (INADDR_ANY).
func freePortPair() (int, error) {
	for range 50 {
		l0, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			return 0, err
		}
		p := l0.Addr().(*net.TCPAddr).Port
		l1, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", p+1))
		l0.Close()
		if err == nil {
			l1.Close()
			return p, nil
		}
	}
	return 0, errors.New("found no two consecutive free TCP ports for the vpcd driver")
}

// listensOn reports whether process pid holds a TCP socket listening on port:
// one of its descriptors is the socket inode /proc/net/tcp lists there.
func listensOn(pid, port int) (bool, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(target, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if ok && err == nil && int(p) == port && inodes[f[9]] {
			return true, nil
		}
	}
	return false, nil
}

func lock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "sportello-pcscd.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
