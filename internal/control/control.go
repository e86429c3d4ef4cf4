// Package control lets staff commands run inside a hub that is already
// serving. bbolt allows one writer process per file, and a city must not stop
// its hub to enrol a shop, so a staff command that finds the registry locked
// sends its arguments over a Unix socket in the data directory and the hub
// runs the very same command against the store it holds, streaming the output
// back. The socket is created with mode 0600: only the hub's own user (the
// one who may open the data files anyway) can use it.
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// SocketName is the socket's file name inside the data directory.
const SocketName = "hub.sock"

// Request is one command to run.
type Request struct {
	Args []string `json:"args"` // the command line after the program name
	Dir  string   `json:"dir"`  // the caller's working directory, for relative paths
	// UID is the caller's user id as the kernel reports it for the socket
	// (SO_PEERCRED), set by Serve: whatever a client sends here is ignored,
	// so the audit log records who really ran the command.
	UID int `json:"-"`
}

// frame is one message from the hub: output on a stream, or the exit status.
type frame struct {
	Stream string `json:"s,omitempty"` // "out" or "err"
	Data   []byte `json:"d,omitempty"`
	Exit   *int   `json:"exit,omitempty"`
}

// RunFunc runs a command and returns its exit status.
type RunFunc func(ctx context.Context, req Request, stdout, stderr io.Writer) int

// ErrNoHub means nothing answers on the socket.
var ErrNoHub = errors.New("no running hub answers on the control socket")

// Listen creates the socket at path, replacing a stale one left by a hub
// that died, and restricts it to the owner.
func Listen(path string) (net.Listener, error) {
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("another hub is already serving on %s", path)
	}
	_ = os.Remove(path) // stale socket from a crashed hub
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("cannot create the control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("cannot restrict the control socket %s: %w", path, err)
	}
	return ln, nil
}

// Serve answers requests on ln until ctx ends or ln is closed.
func Serve(ctx context.Context, ln net.Listener, run RunFunc) error {
	defer context.AfterFunc(ctx, func() { ln.Close() })()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			serveConn(ctx, c, run)
		}()
	}
}

func serveConn(ctx context.Context, c net.Conn, run RunFunc) {
	var req Request
	if err := json.NewDecoder(c).Decode(&req); err != nil {
		return
	}
	enc := &frameWriter{enc: json.NewEncoder(c)}
	uid, err := peerUID(c)
	if err != nil {
		fmt.Fprintf(enc.stream("err"), "the hub cannot tell which user is calling: %v\n", err)
		code := 1
		enc.write(frame{Exit: &code})
		return
	}
	req.UID = uid
	code := run(ctx, req, enc.stream("out"), enc.stream("err"))
	enc.write(frame{Exit: &code})
}

// frameWriter serialises frames from the two output streams.
type frameWriter struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

func (w *frameWriter) write(f frame) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = w.enc.Encode(f)
	}
	return w.err
}

type streamWriter struct {
	w    *frameWriter
	name string
}

func (w *frameWriter) stream(name string) io.Writer { return streamWriter{w, name} }

func (s streamWriter) Write(p []byte) (int, error) {
	if err := s.w.write(frame{Stream: s.name, Data: p}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// peerUID asks the kernel which user is on the other end of a Unix socket.
func peerUID(c net.Conn) (int, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return 0, errors.New("not a Unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return int(cred.Uid), nil
}

// Call runs req in the hub listening at path and copies its output.
func Call(ctx context.Context, path string, req Request, stdout, stderr io.Writer) (int, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return 0, fmt.Errorf("%w (%s): %v", ErrNoHub, path, err)
	}
	defer c.Close()
	defer context.AfterFunc(ctx, func() { c.Close() })()
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return 0, fmt.Errorf("cannot send the command to the hub: %w", err)
	}
	dec := json.NewDecoder(c)
	for {
		var f frame
		if err := dec.Decode(&f); err != nil {
			return 0, fmt.Errorf("the hub closed the control connection before the command finished: %w", err)
		}
		switch {
		case f.Exit != nil:
			return *f.Exit, nil
		case f.Stream == "out":
			stdout.Write(f.Data)
		case f.Stream == "err":
			stderr.Write(f.Data)
		}
	}
}
