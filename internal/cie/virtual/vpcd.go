package virtual

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// VPCD control messages (DESIGN.md §CIE 3.0): one byte from the reader.
const (
	vpcdPowerOff = 0x00
	vpcdPowerOn  = 0x01
	vpcdReset    = 0x02
	vpcdGetATR   = 0x04
)

// DefaultVPCD is where the vpcd driver waits for the card of slot 0
// (reader "Virtual PCD 00 00"); slot 1 is on port 35964.
const DefaultVPCD = "127.0.0.1:35963"

// VPCDOptions tunes Attach.
type VPCDOptions struct {
	// RemoveAfter, when positive, drops the connection after that many
	// command APDUs, which pcscd sees as the card being pulled out.
	RemoveAfter int
	// Retry is how long to keep trying to connect while pcscd starts; 0 tries once.
	Retry time.Duration
}

// Attach connects card to a vsmartcard-vpcd reader at addr and answers the
// reader until ctx ends, the reader closes the connection, or RemoveAfter
// commands have been answered. Returning means the card left the reader.
func Attach(ctx context.Context, addr string, card *Card, opt VPCDOptions) error {
	conn, err := dialRetry(ctx, addr, opt.Retry)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	return serve(ctx, quickAck{conn}, card, opt.RemoveAfter)
}

// quickAck re-arms TCP_QUICKACK before each read. vpcd writes each message
// as a length and then a payload in two sends; with Nagle on its side and
// delayed ACKs on ours every APDU would wait about 40 ms for the payload.
type quickAck struct{ net.Conn }

func (q quickAck) Read(b []byte) (int, error) {
	if tc, ok := q.Conn.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { setQuickAck(fd) })
		}
	}
	return q.Conn.Read(b)
}

func dialRetry(ctx context.Context, addr string, retry time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(retry)
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return conn, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("could not reach the vpcd reader at %s (is pcscd running with vsmartcard-vpcd installed?): %w", addr, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ErrRemovedByTest is returned by Attach when RemoveAfter ended the session.
var ErrRemovedByTest = errors.New("the virtual card left the reader after the configured number of commands")

func serve(ctx context.Context, rw io.ReadWriter, card *Card, removeAfter int) error {
	n := 0
	for {
		msg, err := readFrame(rw)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return nil // the reader went away
			}
			return fmt.Errorf("vpcd connection: %w", err)
		}
		var reply []byte
		if len(msg) == 1 {
			switch msg[0] {
			case vpcdPowerOff, vpcdPowerOn, vpcdReset:
				card.Reset()
				continue
			case vpcdGetATR:
				reply = card.ATR()
			default:
				reply = card.Process(msg)
			}
		} else {
			if removeAfter > 0 && n >= removeAfter {
				return ErrRemovedByTest
			}
			n++
			reply = card.Process(msg)
		}
		if err := writeFrame(rw, reply); err != nil {
			return fmt.Errorf("vpcd connection: %w", err)
		}
	}
}

func readFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	return msg, nil
}

func writeFrame(w io.Writer, b []byte) error {
	if len(b) > 0xFFFF {
		return fmt.Errorf("a vpcd message of %d bytes does not fit its 2-byte length", len(b))
	}
	out := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(out, uint16(len(b)))
	copy(out[2:], b)
	_, err := w.Write(out)
	return err
}
