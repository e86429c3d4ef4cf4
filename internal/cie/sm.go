package cie

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/sportello/sportello/internal/iso7816"
)

// IAS secure messaging, as the CIE runs it after the Diffie-Hellman key
// exchange (ias.go): ISO 7816-4 §10 with two-key 3DES.
//
//   - Session keys: K_enc = SHA-256(Z || 00000001)[:16] and
//     K_mac = SHA-256(Z || 00000002)[:16], where Z is the DH shared secret as
//     many bytes long as p.
//   - Send sequence counter: 8 bytes, 00..01 after the key exchange, then
//     the last 4 bytes of the card's challenge and the last 4 of the
//     terminal's random once device authentication succeeds. It is
//     incremented before protecting each command and before checking each
//     response.
//   - Command: CLA gets bits 0x0C; data padded (ISO 9797-1 method 2, always
//     at least one byte) and encrypted 3DES-CBC with a zero IV in DO 87
//     (first byte 01, the padding indicator); Le in DO 97; a MAC over
//     pad(SSC || header) || DO87 || DO97, padded, in DO 8E.
//   - Response: DO 87 (encrypted data), DO 99 (the real status word) and DO
//     8E, the MAC over SSC || DO87 || DO99, padded; the outer status is 9000.
//   - MAC: ISO 9797-1 algorithm 3 (the "retail MAC"): single-DES CBC with the
//     first key half over all blocks, then decrypt with the second half and
//     encrypt with the first on the last; zero IV; 8 bytes.
//
// Unlike ICAO 9303 secure messaging, the IV is zero rather than the
// encrypted counter: the counter protects only the MAC.

type session struct {
	enc    cipher.Block // 3DES K1 K2 K1
	ka, kb cipher.Block // single-DES halves of the MAC key
	ssc    [8]byte
}

// sessionKeys derives the IAS session keys from the DH shared secret.
func sessionKeys(secret []byte) (kenc, kmac []byte) {
	e := sha256.Sum256(append(append([]byte(nil), secret...), 0, 0, 0, 1))
	m := sha256.Sum256(append(append([]byte(nil), secret...), 0, 0, 0, 2))
	return e[:16], m[:16]
}

func newSession(secret []byte) (*session, error) {
	return newSessionKeys(sessionKeys(secret))
}

func newSessionKeys(kenc, kmac []byte) (*session, error) {
	enc, err := des.NewTripleDESCipher(append(append([]byte(nil), kenc...), kenc[:8]...))
	if err != nil {
		return nil, err
	}
	ka, err := des.NewCipher(kmac[:8])
	if err != nil {
		return nil, err
	}
	kb, err := des.NewCipher(kmac[8:])
	if err != nil {
		return nil, err
	}
	s := &session{enc: enc, ka: ka, kb: kb}
	s.ssc[7] = 1
	return s, nil
}

func (s *session) inc() {
	for i := len(s.ssc) - 1; i >= 0; i-- {
		s.ssc[i]++
		if s.ssc[i] != 0 {
			return
		}
	}
}

// pad is ISO 9797-1 padding method 2 to 8-byte blocks.
func pad(b []byte) []byte {
	out := append(append([]byte(nil), b...), 0x80)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	return out
}

func unpad(b []byte) ([]byte, error) {
	i := bytes.LastIndexByte(b, 0x80)
	if i < 0 || len(b)-i > 8 || !allZero(b[i+1:]) {
		return nil, errors.New("secure messaging padding is invalid")
	}
	return b[:i], nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var zeroIV = make([]byte, 8)

func (s *session) encrypt(b []byte) []byte {
	p := pad(b)
	cipher.NewCBCEncrypter(s.enc, zeroIV).CryptBlocks(p, p)
	return p
}

func (s *session) decrypt(b []byte) ([]byte, error) {
	if len(b) == 0 || len(b)%8 != 0 {
		return nil, errors.New("secure messaging cryptogram length is not a multiple of the block size")
	}
	p := make([]byte, len(b))
	cipher.NewCBCDecrypter(s.enc, zeroIV).CryptBlocks(p, b)
	return unpad(p)
}

// mac is the retail MAC of msg, which must already be padded.
func (s *session) mac(msg []byte) []byte {
	x := make([]byte, 8)
	for i := 0; i < len(msg); i += 8 {
		for j := range x {
			x[j] ^= msg[i+j]
		}
		s.ka.Encrypt(x, x)
	}
	s.kb.Decrypt(x, x)
	s.ka.Encrypt(x, x)
	return x
}

// commandMAC is the MAC of a protected command: the counter and header as
// one padded block run, then the data objects, padded.
func (s *session) commandMAC(header [4]byte, dos []byte) []byte {
	in := pad(append(append([]byte(nil), s.ssc[:]...), header[:]...))
	return s.mac(pad(append(in, dos...)))
}

func (s *session) responseMAC(dos []byte) []byte {
	return s.mac(pad(append(append([]byte(nil), s.ssc[:]...), dos...)))
}

// TerminalSession protects commands and checks responses on the reader's side.
type TerminalSession struct{ s *session }

// Wrap turns cmd into its secure-messaging form. The chaining bit of CLA is kept.
func (t *TerminalSession) Wrap(cmd iso7816.Command) (iso7816.Command, error) {
	t.s.inc()
	cla := cmd.CLA | 0x0C
	var dos []byte
	if len(cmd.Data) > 0 {
		dos = iso7816.AppendTLV(dos, 0x87, append([]byte{0x01}, t.s.encrypt(cmd.Data)...))
	}
	if cmd.Ne > 0 {
		le := []byte{byte(cmd.Ne)}
		if cmd.Ne > 256 {
			le = []byte{byte(cmd.Ne >> 8), byte(cmd.Ne)}
		}
		dos = iso7816.AppendTLV(dos, 0x97, le)
	}
	mac := t.s.commandMAC([4]byte{cla, cmd.INS, cmd.P1, cmd.P2}, dos)
	dos = iso7816.AppendTLV(dos, 0x8E, mac)
	return iso7816.Command{CLA: cla, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Data: dos, Ne: 256}, nil
}

// ErrSMResponse is a secure-messaging response whose MAC or format is wrong:
// the channel was tampered with or lost sync.
var ErrSMResponse = errors.New("the card's secure-messaging response does not verify")

// Unwrap checks a protected response and returns the plain one.
func (t *TerminalSession) Unwrap(r iso7816.Response) (iso7816.Response, error) {
	if len(r.Data) == 0 && r.SW != iso7816.SWOK {
		// The card refuses in clear when the SM layer itself fails (6987,
		// 6988: MAC wrong, objects missing); the session is over then.
		return r, nil
	}
	t.s.inc()
	objs, err := iso7816.ParseAllTLV(r.Data)
	if err != nil {
		return r, fmt.Errorf("%w: %v", ErrSMResponse, err)
	}
	var macd, enc, sw, mac []byte
	for _, o := range objs {
		switch o.Tag {
		case 0x87:
			enc = o.Value
			macd = append(macd, o.Bytes()...)
		case 0x99:
			sw = o.Value
			macd = append(macd, o.Bytes()...)
		case 0x8E:
			mac = o.Value
		default:
			return r, fmt.Errorf("%w: unexpected object %X", ErrSMResponse, o.Tag)
		}
	}
	if len(sw) != 2 || len(mac) != 8 || subtle.ConstantTimeCompare(mac, t.s.responseMAC(macd)) != 1 {
		return r, ErrSMResponse
	}
	out := iso7816.Response{SW: iso7816.SW(uint16(sw[0])<<8 | uint16(sw[1]))}
	if enc != nil {
		if len(enc) < 1 || enc[0] != 0x01 {
			return r, ErrSMResponse
		}
		if out.Data, err = t.s.decrypt(enc[1:]); err != nil {
			return r, fmt.Errorf("%w: %v", ErrSMResponse, err)
		}
	}
	return out, nil
}

// CardSession is the card's side of the secure channel (the virtual card uses it).
type CardSession struct{ s *session }

// NewCardSession derives the session keys from the DH shared secret, as
// long as p, and starts the counter at 1.
func NewCardSession(secret []byte) (*CardSession, error) {
	s, err := newSession(secret)
	if err != nil {
		return nil, err
	}
	return &CardSession{s}, nil
}

// SetSSC sets the counter, as device authentication does.
func (c *CardSession) SetSSC(ssc [8]byte) { c.s.ssc = ssc }

// UnwrapCommand checks and opens a protected command; the chaining bit of
// CLA survives, the SM bits do not.
func (c *CardSession) UnwrapCommand(cmd iso7816.Command) (iso7816.Command, error) {
	c.s.inc()
	objs, err := iso7816.ParseAllTLV(cmd.Data)
	if err != nil {
		return cmd, err
	}
	var macd, enc, mac []byte
	ne := 0
	for _, o := range objs {
		switch o.Tag {
		case 0x87:
			enc = o.Value
			macd = append(macd, o.Bytes()...)
		case 0x97:
			macd = append(macd, o.Bytes()...)
			for _, b := range o.Value {
				ne = ne<<8 | int(b)
			}
			if ne == 0 {
				ne = 256
			}
		case 0x8E:
			mac = o.Value
		default:
			return cmd, ErrSMResponse
		}
	}
	want := c.s.commandMAC([4]byte{cmd.CLA, cmd.INS, cmd.P1, cmd.P2}, macd)
	if len(mac) != 8 || subtle.ConstantTimeCompare(mac, want) != 1 {
		return cmd, ErrSMResponse
	}
	out := iso7816.Command{CLA: cmd.CLA &^ 0x0C, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Ne: ne}
	if enc != nil {
		if len(enc) < 1 || enc[0] != 0x01 {
			return cmd, ErrSMResponse
		}
		if out.Data, err = c.s.decrypt(enc[1:]); err != nil {
			return cmd, err
		}
	}
	return out, nil
}

// WrapResponse protects a response.
func (c *CardSession) WrapResponse(r iso7816.Response) iso7816.Response {
	c.s.inc()
	var dos []byte
	if len(r.Data) > 0 {
		dos = iso7816.AppendTLV(dos, 0x87, append([]byte{0x01}, c.s.encrypt(r.Data)...))
	}
	dos = iso7816.AppendTLV(dos, 0x99, []byte{r.SW.SW1(), r.SW.SW2()})
	dos = iso7816.AppendTLV(dos, 0x8E, c.s.responseMAC(dos))
	return iso7816.Response{Data: dos, SW: iso7816.SWOK}
}
