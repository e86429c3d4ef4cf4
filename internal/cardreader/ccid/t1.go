package ccid

import (
	"context"
	"errors"
	"fmt"
)

// T=1 (ISO/IEC 7816-3 §11) for TPDU-level readers: the reader only moves
// blocks, so the host frames APDUs into I-blocks, chains those longer than
// the card's IFSC, acknowledges chained answers with R-blocks and answers the
// card's waiting-time extension requests.
//
// Block: NAD, PCB, LEN, INF (0..254 bytes), LRC (XOR of all before it).
// PCB: I-block 0 N(S) M 00000; R-block 10 0 N(R) 00ee; S-block 11 r tttttt.

const (
	pcbR        = 0x80
	pcbS        = 0xC0
	sIFSRequest = 0xC1
	sIFSReply   = 0xE1
	sWTXRequest = 0xC3
	sWTXReply   = 0xE3
	maxRetries  = 3
	ourIFSD     = 254
)

// ErrT1 is a T=1 exchange that broke the protocol.
var ErrT1 = errors.New("the card broke the T=1 block protocol")

type t1 struct {
	xfr  func(ctx context.Context, block []byte) ([]byte, error)
	ns   byte // N(S) of our next I-block
	nr   byte // N(S) we expect in the card's next I-block
	ifsc int
}

func lrc(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

func t1Block(pcb byte, inf []byte) []byte {
	b := append([]byte{0x00, pcb, byte(len(inf))}, inf...)
	return append(b, lrc(b))
}

// parseBlock checks a block's length and LRC and returns PCB and INF.
func parseBlock(b []byte) (byte, []byte, error) {
	if len(b) < 4 || int(b[2]) != len(b)-4 || b[2] == 0xFF {
		return 0, nil, fmt.Errorf("%w: a block of %d bytes does not match its LEN", ErrT1, len(b))
	}
	if lrc(b[:len(b)-1]) != b[len(b)-1] {
		return 0, nil, fmt.Errorf("%w: LRC mismatch", ErrT1)
	}
	return b[1], b[3 : len(b)-1], nil
}

func isI(pcb byte) bool { return pcb&0x80 == 0 }
func isR(pcb byte) bool { return pcb&0xC0 == pcbR }

// send transmits one block and returns the card's answer, answering WTX
// requests and resending our block when the card reports an error in it.
func (t *t1) send(ctx context.Context, block []byte) (byte, []byte, error) {
	retries := 0
	out := block
	for {
		resp, err := t.xfr(ctx, out)
		if err != nil {
			return 0, nil, err
		}
		pcb, inf, err := parseBlock(resp)
		if err != nil {
			if retries++; retries > maxRetries {
				return 0, nil, err
			}
			// Ask for the card's block again: R-block with the N(S) we expect.
			out = t1Block(pcbR|t.nr<<4|0x01, nil)
			continue
		}
		switch {
		case pcb == sWTXRequest:
			out = t1Block(sWTXReply, inf)
			continue
		case pcb == sIFSRequest && len(inf) == 1:
			t.ifsc = int(inf[0])
			out = t1Block(sIFSReply, inf)
			continue
		case isR(pcb) && pcb&0x0F != 0 && isI(block[1]) && (pcb>>4)&1 == (block[1]>>6)&1:
			// The card got our I-block wrong and asks for it again.
			if retries++; retries > maxRetries {
				return 0, nil, fmt.Errorf("%w: the card kept refusing a block", ErrT1)
			}
			out = block
			continue
		}
		return pcb, inf, nil
	}
}

// negotiateIFSD tells the card we take blocks of up to 254 bytes.
func (t *t1) negotiateIFSD(ctx context.Context) error {
	pcb, inf, err := t.send(ctx, t1Block(sIFSRequest, []byte{ourIFSD}))
	if err != nil {
		return err
	}
	if pcb != sIFSReply || len(inf) != 1 || inf[0] != ourIFSD {
		return fmt.Errorf("%w: IFS request answered with PCB %02X", ErrT1, pcb)
	}
	return nil
}

func (t *t1) transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) == 0 {
		return nil, errors.New("empty APDU")
	}
	var pcb byte
	var inf []byte
	for off := 0; off < len(apdu); {
		n := min(t.ifsc, len(apdu)-off)
		more := off+n < len(apdu)
		p := t.ns << 6
		if more {
			p |= 0x20
		}
		var err error
		pcb, inf, err = t.send(ctx, t1Block(p, apdu[off:off+n]))
		if err != nil {
			return nil, err
		}
		t.ns ^= 1
		off += n
		if more && (!isR(pcb) || (pcb>>4)&1 != t.ns) {
			return nil, fmt.Errorf("%w: a chained block was answered with PCB %02X", ErrT1, pcb)
		}
	}
	var out []byte
	for {
		if !isI(pcb) || (pcb>>6)&1 != t.nr {
			return nil, fmt.Errorf("%w: expected I-block %d, got PCB %02X", ErrT1, t.nr, pcb)
		}
		t.nr ^= 1
		out = append(out, inf...)
		if len(out) > maxMessage {
			return nil, fmt.Errorf("%w: answer longer than %d bytes", ErrT1, maxMessage)
		}
		if pcb&0x20 == 0 {
			return out, nil
		}
		var err error
		if pcb, inf, err = t.send(ctx, t1Block(pcbR|t.nr<<4, nil)); err != nil {
			return nil, err
		}
	}
}

// ATRInfo is what the host needs from an ATR to speak T=1.
type ATRInfo struct {
	T1         bool
	IFSC       int  // TA(i>2) for T=1; 32 when absent
	FiDi       byte // TA1; 0x11 when absent
	GuardTime  byte // TC1
	BWICWI     byte // TB(i>2) for T=1; 0x4D when absent
	Historical []byte
}

// ParseATR reads the interface bytes of an ATR (ISO/IEC 7816-3 §8.2).
func ParseATR(atr []byte) (ATRInfo, error) {
	info := ATRInfo{IFSC: 32, FiDi: 0x11, BWICWI: 0x4D}
	if len(atr) < 2 || (atr[0] != 0x3B && atr[0] != 0x3F) {
		return info, errors.New("ATR does not start with 3B or 3F")
	}
	y, k := atr[1]>>4, int(atr[1]&0x0F)
	i, level, proto := 2, 1, -1
	seenIFSC, seenBWI := false, false
	next := func() (byte, error) {
		if i >= len(atr) {
			return 0, errors.New("ATR ends inside its interface bytes")
		}
		i++
		return atr[i-1], nil
	}
	for {
		if y&1 != 0 {
			b, err := next()
			if err != nil {
				return info, err
			}
			if level == 1 {
				info.FiDi = b
			} else if level > 2 && proto == 1 && !seenIFSC {
				info.IFSC, seenIFSC = int(b), true
			}
		}
		if y&2 != 0 {
			b, err := next()
			if err != nil {
				return info, err
			}
			if level > 2 && proto == 1 && !seenBWI {
				info.BWICWI, seenBWI = b, true
			}
		}
		if y&4 != 0 {
			b, err := next()
			if err != nil {
				return info, err
			}
			if level == 1 {
				info.GuardTime = b
			}
		}
		if y&8 == 0 {
			break
		}
		td, err := next()
		if err != nil {
			return info, err
		}
		proto = int(td & 0x0F)
		if proto == 1 {
			info.T1 = true
		}
		y = td >> 4
		level++
	}
	if i+k > len(atr) {
		return info, errors.New("ATR is shorter than its historical bytes")
	}
	info.Historical = atr[i : i+k]
	if info.IFSC < 1 || info.IFSC > 254 {
		return info, fmt.Errorf("ATR gives IFSC %d, outside 1..254", info.IFSC)
	}
	return info, nil
}

// UseT1 switches the slot to T=1 framing, for TPDU-level readers: it sets
// the reader's T=1 parameters from the ATR and negotiates the block size.
func (s *Slot) UseT1(ctx context.Context) error {
	info, err := ParseATR(s.atr)
	if err != nil {
		return err
	}
	if !info.T1 {
		return errors.New("the card does not offer T=1, and T=0 over a TPDU-level reader is not supported")
	}
	params := []byte{info.FiDi, 0x10, info.GuardTime, info.BWICWI, 0x00, byte(info.IFSC), 0x00}
	// Readers that configure themselves from the ATR may refuse this; the
	// block exchange that follows shows whether the parameters are right.
	s.exchange(ctx, "set the T=1 parameters", PCtoRDRSetParameters, [3]byte{0x01}, params, RDRtoPCParameters)
	s.t1 = &t1{xfr: s.xfr, ifsc: info.IFSC}
	return s.t1.negotiateIFSD(ctx)
}
