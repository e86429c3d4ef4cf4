// Package ccid talks to a USB smart-card reader directly with the CCID
// protocol (USB Device Class: Smart Card, rev 1.1), for kiosks without pcscd.
// The message framing here is pure Go and tested against recorded transfers;
// usb.go moves the bytes with github.com/google/gousb and provider.go makes
// the readers a cardreader.Provider. Readers exchanging short or extended
// APDUs (nearly all contactless ones) carry each APDU in one XfrBlock;
// TPDU-level readers get ISO 7816-3 T=1 blocks (t1.go). Character-level
// readers and T=0 cards on TPDU readers are not supported.
package ccid

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/sportello/sportello/internal/cardreader"
)

// Message types (CCID §6.1, §6.2).
const (
	PCtoRDRIccPowerOn     = 0x62
	PCtoRDRIccPowerOff    = 0x63
	PCtoRDRGetSlotStatus  = 0x65
	PCtoRDRXfrBlock       = 0x6F
	PCtoRDRSetParameters  = 0x61
	RDRtoPCParameters     = 0x82
	RDRtoPCNotifySlot     = 0x50
	RDRtoPCDataBlock      = 0x80
	RDRtoPCSlotStatus     = 0x81
	headerSize            = 10
	maxTimeExtensions     = 200
	maxMessage            = 65536 + headerSize
	statusCommandFailed   = 1
	statusTimeExtension   = 2
	iccStatusNotPresent   = 2
	errICCMute            = 0xFE
	errXfrParity          = 0xFD
	errHardware           = 0xFB
	errBadLength          = 0x01
	errCmdSlotBusy        = 0xE0
	errCmdAborted         = 0xFF
	errBusyWithAutoSeq    = 0xF2
	errICCProtoNotSupport = 0xF6
)

// Bulk moves whole CCID messages: one write to the bulk-OUT endpoint, one
// message read from bulk-IN.
type Bulk interface {
	Write(ctx context.Context, msg []byte) error
	Read(ctx context.Context) ([]byte, error)
}

// Slot is one card slot of a CCID reader.
type Slot struct {
	bulk Bulk
	slot byte
	// A reader has one bulk pipe and one sequence counter for all its
	// slots, and one exchange at a time on it.
	line *line
	atr  []byte
	t1   *t1 // set when the reader exchanges TPDUs and the card speaks T=1
}

type line struct {
	mu  sync.Mutex
	seq byte
}

// NewSlot speaks to slot n of the reader behind bulk.
func NewSlot(bulk Bulk, n byte) *Slot { return &Slot{bulk: bulk, slot: n, line: &line{}} }

// Encode builds a PC_to_RDR message.
func Encode(msgType, slot, seq byte, specific [3]byte, data []byte) []byte {
	out := make([]byte, headerSize+len(data))
	out[0] = msgType
	binary.LittleEndian.PutUint32(out[1:5], uint32(len(data)))
	out[5], out[6] = slot, seq
	copy(out[7:10], specific[:])
	copy(out[headerSize:], data)
	return out
}

// Reply is a decoded RDR_to_PC message.
type Reply struct {
	Type, Slot, Seq byte
	Status, Error   byte
	Param           byte // bChainParameter or bClockStatus
	Data            []byte
}

// Decode parses a RDR_to_PC message.
func Decode(b []byte) (Reply, error) {
	if len(b) < headerSize {
		return Reply{}, fmt.Errorf("CCID reply of %d bytes is shorter than its 10-byte header", len(b))
	}
	n := binary.LittleEndian.Uint32(b[1:5])
	if uint64(n) != uint64(len(b)-headerSize) {
		return Reply{}, fmt.Errorf("CCID reply says %d data bytes but carries %d", n, len(b)-headerSize)
	}
	return Reply{Type: b[0], Slot: b[5], Seq: b[6], Status: b[7], Error: b[8], Param: b[9], Data: b[headerSize:]}, nil
}

// ErrMute is a card that does not answer: removed, or not powered.
var ErrMute = errors.New("the card does not answer (removed or not powered)")

func (r Reply) err(op string) error {
	if r.Status>>6 != statusCommandFailed {
		return nil
	}
	if r.Status&0x03 == iccStatusNotPresent {
		return fmt.Errorf("%s: %w", op, cardreader.ErrNoCard)
	}
	switch r.Error {
	case errICCMute:
		return fmt.Errorf("%s: %w", op, ErrMute)
	case errXfrParity:
		return fmt.Errorf("%s: the reader reports a parity error talking to the card", op)
	case errHardware:
		return fmt.Errorf("%s: the reader reports a hardware error", op)
	case errBadLength:
		return fmt.Errorf("%s: the reader refused the message length (it may not take extended APDUs)", op)
	case errCmdSlotBusy:
		return fmt.Errorf("%s: the reader's slot is busy with another command", op)
	case errCmdAborted:
		return fmt.Errorf("%s: the command was aborted", op)
	case errICCProtoNotSupport:
		return fmt.Errorf("%s: the reader does not support the card's protocol", op)
	}
	return fmt.Errorf("%s: the reader reports error %#02x", op, r.Error)
}

// exchange sends one message and waits for its reply, skipping the
// time-extension replies a reader sends while the card is still working.
func (s *Slot) exchange(ctx context.Context, op string, msgType byte, specific [3]byte, data []byte, want byte) (Reply, error) {
	s.line.mu.Lock()
	defer s.line.mu.Unlock()
	s.line.seq++
	seq := s.line.seq
	if err := s.bulk.Write(ctx, Encode(msgType, s.slot, seq, specific, data)); err != nil {
		return Reply{}, fmt.Errorf("%s: %w", op, err)
	}
	for i := 0; ; i++ {
		b, err := s.bulk.Read(ctx)
		if err != nil {
			return Reply{}, fmt.Errorf("%s: %w", op, err)
		}
		r, err := Decode(b)
		if err != nil {
			return Reply{}, fmt.Errorf("%s: %w", op, err)
		}
		if r.Seq != seq || r.Slot != s.slot {
			continue // a late reply to an aborted command
		}
		if r.Status>>6 == statusTimeExtension {
			if i >= maxTimeExtensions {
				return Reply{}, fmt.Errorf("%s: the card asked for more than %d time extensions", op, maxTimeExtensions)
			}
			continue
		}
		if r.Type != want {
			return Reply{}, fmt.Errorf("%s: the reader answered message type %#02x, want %#02x", op, r.Type, want)
		}
		return r, r.err(op)
	}
}

// PowerOn powers the card and returns its ATR.
func (s *Slot) PowerOn(ctx context.Context) ([]byte, error) {
	r, err := s.exchange(ctx, "power on the card", PCtoRDRIccPowerOn, [3]byte{0x00}, nil, RDRtoPCDataBlock)
	if err != nil {
		return nil, err
	}
	s.atr = append([]byte(nil), r.Data...)
	return s.atr, nil
}

// PowerOff powers the card down.
func (s *Slot) PowerOff(ctx context.Context) error {
	_, err := s.exchange(ctx, "power off the card", PCtoRDRIccPowerOff, [3]byte{}, nil, RDRtoPCSlotStatus)
	return err
}

// Present reports whether a card is in the slot.
func (s *Slot) Present(ctx context.Context) (bool, error) {
	r, err := s.exchange(ctx, "get slot status", PCtoRDRGetSlotStatus, [3]byte{}, nil, RDRtoPCSlotStatus)
	if errors.Is(err, cardreader.ErrNoCard) {
		return false, nil
	}
	if err != nil && !errors.Is(err, ErrMute) {
		return false, err
	}
	return r.Status&0x03 != iccStatusNotPresent, nil
}

// Transmit sends one APDU: in one XfrBlock on APDU-level readers, as T=1
// blocks on TPDU-level ones (after UseT1).
func (s *Slot) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if s.t1 != nil {
		return s.t1.transmit(ctx, apdu)
	}
	return s.xfr(ctx, apdu)
}

func (s *Slot) xfr(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu)+headerSize > maxMessage {
		return nil, fmt.Errorf("APDU of %d bytes is too long for one CCID message", len(apdu))
	}
	r, err := s.exchange(ctx, "send an APDU", PCtoRDRXfrBlock, [3]byte{}, apdu, RDRtoPCDataBlock)
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// ATR is the ATR from the last PowerOn.
func (s *Slot) ATR() []byte { return s.atr }

// Close powers the card down.
func (s *Slot) Close() error { return s.PowerOff(context.Background()) }
