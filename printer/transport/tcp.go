package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
)

// TCPOptions tune a raw TCP printer connection.
type TCPOptions struct {
	Timeout time.Duration // per write or status read; DefaultTimeout if 0
	// Status: the printer answers DLE EOT. Network printers usually do; a
	// print server box in front of a one-way printer does not.
	Status bool
}

// TCP is a raw socket to a network receipt printer (JetDirect, port 9100):
// bytes out, status bytes back on the same connection.
type TCP struct {
	addr string
	opt  TCPOptions
	mu   sync.Mutex
	conn net.Conn
}

// DialTCP connects to HOST:PORT.
func DialTCP(ctx context.Context, addr string, opt TCPOptions) (*TCP, error) {
	if opt.Timeout == 0 {
		opt.Timeout = DefaultTimeout
	}
	t := &TCP{addr: addr, opt: opt}
	if err := t.dial(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *TCP) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: t.opt.Timeout}
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return fmt.Errorf("cannot connect to the printer at %s: %w", t.addr, err)
	}
	t.conn = c
	return nil
}

// Send writes the job. A connection the printer closed since the last job
// is redialled once, since printers drop idle sockets.
func (t *TCP) Send(ctx context.Context, job printer.Job) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		if err := t.dial(ctx); err != nil {
			return err
		}
	}
	err := t.write(ctx, job.Data)
	if err != nil {
		t.conn.Close()
		t.conn = nil
	}
	return err
}

func (t *TCP) write(ctx context.Context, p []byte) error {
	stop := context.AfterFunc(ctx, func() { t.conn.SetDeadline(time.Now()) })
	defer stop()
	// The deadline is per chunk, not per job: a long job is fine as long
	// as the printer keeps taking bytes.
	const chunk = 4096
	for len(p) > 0 {
		n := min(chunk, len(p))
		t.conn.SetWriteDeadline(time.Now().Add(t.opt.Timeout))
		if _, err := t.conn.Write(p[:n]); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("the printer at %s took no data for %v", t.addr, t.opt.Timeout)
			}
			return fmt.Errorf("writing to the printer at %s: %w", t.addr, err)
		}
		p = p[n:]
	}
	return nil
}

// Status asks DLE EOT 1-4.
func (t *TCP) Status(ctx context.Context) (printer.Status, error) {
	if !t.opt.Status {
		return printer.Status{}, printer.ErrNoStatus
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		if err := t.dial(ctx); err != nil {
			return printer.Status{Offline: true}, err
		}
	}
	st, err := queryStatus(ctx, t.conn, t.opt.Timeout)
	if err != nil {
		t.conn.Close()
		t.conn = nil
		return printer.Status{}, fmt.Errorf("printer at %s: %w", t.addr, err)
	}
	return st, nil
}

func (t *TCP) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		return nil
	}
	err := t.conn.Close()
	t.conn = nil
	return err
}

// deadliner is a connection whose reads and writes can time out.
type deadliner interface {
	io.ReadWriter
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// queryStatus sends the four DLE EOT requests and reads one byte for each.
// Bytes already waiting (automatic status a printer sent on its own, or a
// late answer) are drained first so answers are not read out of step.
func queryStatus(ctx context.Context, c deadliner, timeout time.Duration) (printer.Status, error) {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	var junk [64]byte
	for range 64 {
		c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		n, err := c.Read(junk[:])
		if n == 0 || err != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return printer.Status{}, ctx.Err()
	}
	var ans [4]byte
	for i, n := range escpos.StatusQueries {
		c.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := c.Write(escpos.StatusQuery(n)); err != nil {
			return printer.Status{}, fmt.Errorf("sending status request: %w", err)
		}
		c.SetReadDeadline(time.Now().Add(timeout))
		if _, err := io.ReadFull(c, ans[i:i+1]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return printer.Status{}, fmt.Errorf("no answer to status request DLE EOT %d within %v (if this printer cannot report status, add ?status=off to its URI)", n, timeout)
			}
			return printer.Status{}, fmt.Errorf("reading status: %w", err)
		}
	}
	return escpos.ParseStatus(ans)
}
