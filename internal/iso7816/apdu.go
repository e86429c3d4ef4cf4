// Package iso7816 speaks ISO/IEC 7816-4 to a smart card: command and response
// APDUs in short and extended length, status words turned into errors that say
// what happened, the 61xx/6Cxx retry rules, chained READ BINARY and BER-TLV.
// It knows nothing of how bytes reach the card: a Transport does that.
package iso7816

import (
	"context"
	"errors"
	"fmt"
)

// Transport carries one command APDU to the card and returns its whole
// response APDU, data and status word. Readers implement it.
type Transport interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// Command is one command APDU. Ne is the number of response bytes expected:
// 0 means no Le field; 256 is the short-form maximum (Le 00) and 65536 the
// extended one.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Ne               int
	// Extended forces extended-length encoding even where short would do.
	Extended bool
}

// MaxShortNe and MaxExtendedNe are the largest Ne each encoding can ask for.
const (
	MaxShortNe    = 256
	MaxExtendedNe = 65536
)

// ErrExtendedRefused is returned when a reader or card refused an
// extended-length APDU; some readers do, and the caller must then use short ones.
var ErrExtendedRefused = errors.New("the reader or card refused an extended-length APDU (some readers only pass short ones)")

// IsExtended reports whether c needs (or asks for) the extended encoding.
func (c Command) IsExtended() bool {
	return c.Extended || len(c.Data) > 255 || c.Ne > MaxShortNe
}

// Bytes encodes c as ISO 7816-4 cases 1 to 4, short or extended.
func (c Command) Bytes() ([]byte, error) {
	if len(c.Data) > 65535 {
		return nil, fmt.Errorf("command data of %d bytes is longer than the 65535 an APDU can carry", len(c.Data))
	}
	if c.Ne < 0 || c.Ne > MaxExtendedNe {
		return nil, fmt.Errorf("expected response length %d is outside 0..65536", c.Ne)
	}
	out := []byte{c.CLA, c.INS, c.P1, c.P2}
	if !c.IsExtended() {
		if len(c.Data) > 0 {
			out = append(out, byte(len(c.Data)))
			out = append(out, c.Data...)
		}
		if c.Ne > 0 {
			out = append(out, byte(c.Ne)) // 256 wraps to 00, as the standard says
		}
		return out, nil
	}
	if len(c.Data) > 0 {
		out = append(out, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		out = append(out, c.Data...)
	}
	if c.Ne > 0 {
		if len(c.Data) == 0 {
			out = append(out, 0) // case 2E: the leading zero marks extended Le
		}
		out = append(out, byte(c.Ne>>8), byte(c.Ne)) // 65536 wraps to 0000
	}
	return out, nil
}

// ParseCommand decodes a command APDU; the virtual card uses it.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("a command APDU of %d bytes is shorter than its 4-byte header", len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2S
		c.Ne = int(body[0])
		if c.Ne == 0 {
			c.Ne = 256
		}
	case body[0] != 0:
		n := int(body[0])
		if len(body) != 1+n && len(body) != 2+n {
			return Command{}, fmt.Errorf("short APDU says Lc=%d but carries %d bytes", n, len(body)-1)
		}
		c.Data = append([]byte(nil), body[1:1+n]...)
		if len(body) == 2+n {
			c.Ne = int(body[1+n])
			if c.Ne == 0 {
				c.Ne = 256
			}
		}
	default: // extended: body[0] == 0
		c.Extended = true
		if len(body) == 3 { // case 2E
			c.Ne = int(body[1])<<8 | int(body[2])
			if c.Ne == 0 {
				c.Ne = 65536
			}
			break
		}
		if len(body) < 3 {
			return Command{}, fmt.Errorf("extended APDU body of %d bytes is too short for its length field", len(body))
		}
		n := int(body[1])<<8 | int(body[2])
		rest := body[3:]
		switch {
		case len(rest) == n:
		case len(rest) == n+2:
			c.Ne = int(rest[n])<<8 | int(rest[n+1])
			if c.Ne == 0 {
				c.Ne = 65536
			}
		default:
			return Command{}, fmt.Errorf("extended APDU says Lc=%d but carries %d bytes", n, len(rest))
		}
		c.Data = append([]byte(nil), rest[:n]...)
	}
	return c, nil
}

// Response is one response APDU: data and status word.
type Response struct {
	Data []byte
	SW   SW
}

// ParseResponse splits a response APDU into data and status word.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("a response APDU of %d bytes is shorter than its 2-byte status word", len(b))
	}
	n := len(b) - 2
	return Response{Data: append([]byte(nil), b[:n]...), SW: SW(uint16(b[n])<<8 | uint16(b[n+1]))}, nil
}

// Bytes encodes r as a response APDU.
func (r Response) Bytes() []byte {
	out := append([]byte(nil), r.Data...)
	return append(out, byte(r.SW>>8), byte(r.SW))
}

// OK reports whether r ended in 9000.
func (r Response) OK() bool { return r.SW == SWOK }
