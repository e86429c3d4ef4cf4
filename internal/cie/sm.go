package cie

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/sportello/sportello/internal/iso7816"
)

// The PIN travels only inside a secure channel, as in the public CIE
// middleware. This one follows the same shape (key agreement with the card,
// then ISO 7816-4 secure messaging with an encrypted data object 87, the
// protected Le 97, status 99 and a MAC 8E, with a send-sequence counter), but
// it is simplified: ECDH on P-256 through GENERAL AUTHENTICATE instead of the
// IAS's DH with the card's parameters, AES-128 and CMAC as in ICAO 9303-11 §9.8
// instead of 3DES, and no DAPP device authentication. Against a real CIE the
// key agreement must be swapped for the IAS one; the messaging layer stays.

type session struct {
	enc, mac cipher.Block
	ssc      [16]byte
}

func newSession(secret []byte) (*session, error) {
	kenc := sha256.Sum256(append(append([]byte(nil), secret...), 0, 0, 0, 1))
	kmac := sha256.Sum256(append(append([]byte(nil), secret...), 0, 0, 0, 2))
	enc, err := aes.NewCipher(kenc[:16])
	if err != nil {
		return nil, err
	}
	mac, err := aes.NewCipher(kmac[:16])
	if err != nil {
		return nil, err
	}
	return &session{enc: enc, mac: mac}, nil
}

func (s *session) inc() {
	for i := len(s.ssc) - 1; i >= 0; i-- {
		s.ssc[i]++
		if s.ssc[i] != 0 {
			return
		}
	}
}

func pad(b []byte) []byte {
	out := append(append([]byte(nil), b...), 0x80)
	for len(out)%16 != 0 {
		out = append(out, 0)
	}
	return out
}

func unpad(b []byte) ([]byte, error) {
	i := bytes.LastIndexByte(b, 0x80)
	if i < 0 || !allZero(b[i+1:]) {
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

func (s *session) iv() []byte {
	iv := make([]byte, 16)
	s.enc.Encrypt(iv, s.ssc[:])
	return iv
}

func (s *session) encrypt(b []byte) []byte {
	p := pad(b)
	cipher.NewCBCEncrypter(s.enc, s.iv()).CryptBlocks(p, p)
	return p
}

func (s *session) decrypt(b []byte) ([]byte, error) {
	if len(b) == 0 || len(b)%16 != 0 {
		return nil, errors.New("secure messaging cryptogram length is not a multiple of the block size")
	}
	p := make([]byte, len(b))
	cipher.NewCBCDecrypter(s.enc, s.iv()).CryptBlocks(p, b)
	return unpad(p)
}

// cmac is AES-CMAC (NIST SP 800-38B), truncated to 8 bytes as secure messaging uses it.
func (s *session) cmac(parts ...[]byte) []byte {
	msg := append([]byte(nil), s.ssc[:]...)
	for _, p := range parts {
		msg = append(msg, p...)
	}
	l := make([]byte, 16)
	s.mac.Encrypt(l, l)
	k1 := dbl(l)
	k2 := dbl(k1)
	var last []byte
	n := (len(msg) + 15) / 16
	if n == 0 {
		n = 1
	}
	if len(msg) > 0 && len(msg)%16 == 0 {
		last = xor(msg[(n-1)*16:], k1)
	} else {
		tail := append([]byte(nil), msg[(n-1)*16:]...)
		tail = append(tail, 0x80)
		for len(tail) < 16 {
			tail = append(tail, 0)
		}
		last = xor(tail, k2)
	}
	x := make([]byte, 16)
	for i := 0; i < n-1; i++ {
		x = xor(x, msg[i*16:(i+1)*16])
		s.mac.Encrypt(x, x)
	}
	x = xor(x, last)
	s.mac.Encrypt(x, x)
	return x[:8]
}

func dbl(b []byte) []byte {
	out := make([]byte, 16)
	carry := byte(0)
	for i := 15; i >= 0; i-- {
		out[i] = b[i]<<1 | carry
		carry = b[i] >> 7
	}
	if carry != 0 {
		out[15] ^= 0x87
	}
	return out
}

func xor(a, b []byte) []byte {
	out := make([]byte, 16)
	for i := range out {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// TerminalSession protects commands and checks responses on the reader's side.
type TerminalSession struct{ s *session }

// Wrap turns cmd into its secure-messaging form.
func (t *TerminalSession) Wrap(cmd iso7816.Command) (iso7816.Command, error) {
	t.s.inc()
	cla := cmd.CLA | 0x0C
	header := pad([]byte{cla, cmd.INS, cmd.P1, cmd.P2})
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
	var mac []byte
	if len(dos) > 0 {
		mac = t.s.cmac(header, pad(dos))
	} else {
		mac = t.s.cmac(header)
	}
	dos = iso7816.AppendTLV(dos, 0x8E, mac)
	return iso7816.Command{CLA: cla, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Data: dos, Ne: 256}, nil
}

// ErrSMResponse is a response whose MAC or format is wrong: the channel was
// tampered with or lost sync.
var ErrSMResponse = errors.New("the card's secure-messaging response does not verify")

// Unwrap checks a protected response and returns the plain one.
func (t *TerminalSession) Unwrap(r iso7816.Response) (iso7816.Response, error) {
	t.s.inc()
	if len(r.Data) == 0 {
		// A card answers errors in the SM layer itself (6987, 6988) in clear.
		if r.SW != iso7816.SWOK {
			return r, nil
		}
		return r, ErrSMResponse
	}
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
		}
	}
	if len(sw) != 2 || mac == nil || subtle.ConstantTimeCompare(mac, t.s.cmac(pad(macd))) != 1 {
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

// UnwrapCommand checks and opens a protected command.
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
		}
	}
	header := pad([]byte{cmd.CLA, cmd.INS, cmd.P1, cmd.P2})
	var want []byte
	if len(macd) > 0 {
		want = c.s.cmac(header, pad(macd))
	} else {
		want = c.s.cmac(header)
	}
	if mac == nil || subtle.ConstantTimeCompare(mac, want) != 1 {
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
	dos = iso7816.AppendTLV(dos, 0x8E, c.s.cmac(pad(dos)))
	return iso7816.Response{Data: dos, SW: iso7816.SWOK}
}

// Key agreement: GENERAL AUTHENTICATE 00 86 00 00 with 7C{81 terminal key},
// answered by 7C{82 card key}.
const (
	tagDynAuth     = 0x7C
	tagTerminalKey = 0x81
	tagCardKey     = 0x82
)

// CardKeyAgreement is the card's half: given the GENERAL AUTHENTICATE data,
// it returns the answer and the session.
func CardKeyAgreement(data []byte, rnd io.Reader) ([]byte, *CardSession, error) {
	o, ok := iso7816.FindTLV(data, tagTerminalKey)
	if !ok {
		return nil, nil, errors.New("key agreement without the terminal's key")
	}
	peer, err := ecdh.P256().NewPublicKey(o.Value)
	if err != nil {
		return nil, nil, err
	}
	priv, err := ecdh.P256().GenerateKey(rnd)
	if err != nil {
		return nil, nil, err
	}
	z, err := priv.ECDH(peer)
	if err != nil {
		return nil, nil, err
	}
	s, err := newSession(z)
	if err != nil {
		return nil, nil, err
	}
	return iso7816.AppendTLV(nil, tagDynAuth, iso7816.AppendTLV(nil, tagCardKey, priv.PublicKey().Bytes())), &CardSession{s}, nil
}

// OpenSecureChannel agrees keys with the card and returns a channel whose
// commands are protected.
func OpenSecureChannel(ctx context.Context, t iso7816.Transport, rnd io.Reader) (*iso7816.Channel, error) {
	if rnd == nil {
		rnd = randReader
	}
	priv, err := ecdh.P256().GenerateKey(rnd)
	if err != nil {
		return nil, err
	}
	plain := iso7816.NewChannel(t)
	data := iso7816.AppendTLV(nil, tagDynAuth, iso7816.AppendTLV(nil, tagTerminalKey, priv.PublicKey().Bytes()))
	resp, err := plain.Do(ctx, "open the secure channel (GENERAL AUTHENTICATE)", iso7816.Command{INS: 0x86, Data: data, Ne: 256})
	if err != nil {
		return nil, err
	}
	o, ok := iso7816.FindTLV(resp, tagCardKey)
	if !ok {
		return nil, errors.New("the card's key-agreement answer lacks its key")
	}
	peer, err := ecdh.P256().NewPublicKey(o.Value)
	if err != nil {
		return nil, fmt.Errorf("the card's key-agreement key is invalid: %w", err)
	}
	z, err := priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	s, err := newSession(z)
	if err != nil {
		return nil, err
	}
	ts := &TerminalSession{s}
	return &iso7816.Channel{T: t, Wrap: ts.Wrap, Unwrap: ts.Unwrap}, nil
}
