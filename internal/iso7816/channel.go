package iso7816

import (
	"context"
	"errors"
	"fmt"
)

// Channel sends commands over a Transport and applies the transport-level
// rules of ISO 7816-3/-4 that callers should never see: 61xx means "more
// data, ask with GET RESPONSE", 6Cxx means "resend with Le=xx".
type Channel struct {
	T Transport
	// Wrap, when set, protects each command (secure messaging) and Unwrap
	// checks and opens each response.
	Wrap   func(Command) (Command, error)
	Unwrap func(Response) (Response, error)
}

// NewChannel returns a Channel over t.
func NewChannel(t Transport) *Channel { return &Channel{T: t} }

// maxChained bounds the 61xx loop so a misbehaving card cannot keep us
// reading forever.
const maxChained = 256

// Send transmits cmd and returns the final response, with any 61xx chain
// collected. It returns an error only when the transport fails or the
// exchange is malformed; a refusal is a Response whose SW is not 9000.
func (ch *Channel) Send(ctx context.Context, cmd Command) (Response, error) {
	if ch.Wrap != nil {
		w, err := ch.Wrap(cmd)
		if err != nil {
			return Response{}, err
		}
		cmd = w
	}
	resp, err := ch.exchange(ctx, cmd)
	if err != nil {
		return Response{}, err
	}
	if ch.Unwrap != nil {
		return ch.Unwrap(resp)
	}
	return resp, nil
}

func (ch *Channel) exchange(ctx context.Context, cmd Command) (Response, error) {
	resp, err := ch.raw(ctx, cmd)
	if err != nil {
		return Response{}, err
	}
	if resp.SW.SW1() == 0x6C {
		// The card tells us the exact length to ask for: resend as is with that Le.
		cmd.Ne = int(resp.SW.SW2())
		if cmd.Ne == 0 {
			cmd.Ne = 256
		}
		if resp, err = ch.raw(ctx, cmd); err != nil {
			return Response{}, err
		}
	}
	data := resp.Data
	for i := 0; resp.SW.SW1() == 0x61; i++ {
		if i == maxChained {
			return Response{}, errors.New("the card kept answering 61xx (more data) past 256 GET RESPONSE commands")
		}
		ne := int(resp.SW.SW2())
		if ne == 0 {
			ne = 256
		}
		if resp, err = ch.raw(ctx, Command{CLA: cmd.CLA &^ 0x0C, INS: 0xC0, Ne: ne}); err != nil {
			return Response{}, err
		}
		data = append(data, resp.Data...)
	}
	resp.Data = data
	return resp, nil
}

func (ch *Channel) raw(ctx context.Context, cmd Command) (Response, error) {
	b, err := cmd.Bytes()
	if err != nil {
		return Response{}, err
	}
	if err := ctx.Err(); err != nil {
		return Response{}, err
	}
	out, err := ch.T.Transmit(ctx, b)
	if err != nil {
		return Response{}, err
	}
	resp, err := ParseResponse(out)
	if err != nil {
		return Response{}, err
	}
	if cmd.IsExtended() && (resp.SW == SWWrongLength || resp.SW == SWCLANotSupported || resp.SW == SWINSNotSupported) && len(out) == 2 {
		return resp, fmt.Errorf("%w (status %s)", ErrExtendedRefused, resp.SW)
	}
	return resp, nil
}

// Do sends cmd and turns any status but 9000 into a *StatusError naming op.
func (ch *Channel) Do(ctx context.Context, op string, cmd Command) ([]byte, error) {
	resp, err := ch.Send(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := resp.SW.Err(op); err != nil {
		return nil, err
	}
	return resp.Data, nil
}

// ReadChunk is the READ BINARY block size: 0xE7 (231) bytes fits every
// reader we know and leaves room for secure-messaging overhead.
const ReadChunk = 0xE7

// MaxFileSize bounds ReadBinary so a card cannot make us allocate without limit.
const MaxFileSize = 1 << 16

// ReadBinary reads a whole transparent EF: the first READ BINARY addresses
// the file by its short file identifier (sfi, 1..30), or the current EF when
// sfi is 0, and the following ones by offset. It stops when a block comes back
// short, with 6282 (end of file) or 6B00 (offset beyond the end).
func (ch *Channel) ReadBinary(ctx context.Context, op string, sfi byte) ([]byte, error) {
	if sfi > 30 {
		return nil, fmt.Errorf("short file identifier %d is outside 1..30", sfi)
	}
	var out []byte
	for {
		off := len(out)
		cmd := Command{CLA: 0x00, INS: 0xB0, Ne: ReadChunk}
		if off == 0 && sfi != 0 {
			cmd.P1 = 0x80 | sfi
		} else {
			if off > 0x7FFF {
				return nil, fmt.Errorf("%s: file longer than the 32767 bytes READ BINARY can address", op)
			}
			cmd.P1, cmd.P2 = byte(off>>8), byte(off)
		}
		resp, err := ch.Send(ctx, cmd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		switch {
		case resp.SW == SWOK:
			out = append(out, resp.Data...)
			if len(resp.Data) < cmd.Ne || len(resp.Data) == 0 {
				return out, nil
			}
		case resp.SW == SWEndOfFile:
			return append(out, resp.Data...), nil
		case resp.SW == SWWrongParameters && off > 0:
			return out, nil
		default:
			return nil, resp.SW.Err(op)
		}
		if len(out) > MaxFileSize {
			return nil, fmt.Errorf("%s: file longer than %d bytes", op, MaxFileSize)
		}
	}
}
