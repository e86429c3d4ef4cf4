package virtual

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"

	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/iso7816"
)

// Mode is how the virtual card behaves.
type Mode string

const (
	Genuine    Mode = "genuine"     // passes every check
	Cloned     Mode = "cloned"      // the issuer's data copied onto a chip with another key: internal authentication fails
	Tampered   Mode = "tampered"    // the NIS was changed after signing: the SOD hash does not match
	Expired    Mode = "expired"     // signed by a Document Signer whose certificate ended in 2023
	PINBlocked Mode = "pin-blocked" // level 1 passes; the PIN is blocked (6983)
)

// Modes lists every Mode, for flag help.
var Modes = []Mode{Genuine, Cloned, Tampered, Expired, PINBlocked}

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("card mode %q is not one of genuine, cloned, tampered, expired, pin-blocked", s)
}

// DemoNIS is the NIS a virtual card holds when none is given.
const DemoNIS = "012345678901"

// DemoPIN is the virtual card's PIN (the CIE's PIN is 8 digits).
const DemoPIN = "12345678"

// ATR is a Gemalto CIE's answer to reset (DESIGN.md).
var ATR = []byte{0x3B, 0x8F, 0x80, 0x01, 0x80, 0x31, 0x80, 0x65, 0xB0, 0x85, 0x04, 0x00, 0x11, 0x12, 0x0F, 0xFF, 0x82, 0x90, 0x00, 0x8A}

// Config describes one virtual card.
type Config struct {
	NIS  string // 12 digits; DemoNIS when empty
	Mode Mode   // Genuine when empty
	// NewChip makes a JCOP4-style card: the IAS AID select is refused (the
	// reader must select the MF) and the SOD uses SHA-512 and RSA-PSS.
	NewChip bool
	PIN     string // DemoPIN when empty
}

// Card is one virtual CIE. It is safe for one reader at a time; a mutex
// guards it against the vpcd goroutine and tests.
type Card struct {
	cfg   Config
	nis   []byte
	kpub  []byte
	sod   []byte
	key   *rsa.PrivateKey // what the chip signs with
	KeyIA *rsa.PublicKey  // the public key in EF.Servizi_Int.Kpub

	mu       sync.Mutex
	df       int // 0 none, 1 IAS, 2 DF_CIE
	cur      []byte
	mseOK    bool
	tries    int
	sm       *cie.CardSession
	verified bool
	// Log, when set, receives each command and response (tests, -v).
	Log func(cmd, resp []byte)
}

// New makes a virtual card.
func New(cfg Config) (*Card, error) {
	if cfg.NIS == "" {
		cfg.NIS = DemoNIS
	}
	if _, err := cie.ParseNIS([]byte(cfg.NIS)); err != nil || len(cfg.NIS) != 12 {
		return nil, fmt.Errorf("NIS %q is not 12 digits", cfg.NIS)
	}
	if cfg.Mode == "" {
		cfg.Mode = Genuine
	}
	if _, err := ParseMode(string(cfg.Mode)); err != nil {
		return nil, err
	}
	if cfg.PIN == "" {
		cfg.PIN = DemoPIN
	}
	p, err := TestPKI()
	if err != nil {
		return nil, err
	}
	ds, err := p.DS(cfg.Mode == Expired)
	if err != nil {
		return nil, err
	}
	c := &Card{cfg: cfg, key: p.CardKey, KeyIA: &p.CardKey.PublicKey, tries: 3}
	if cfg.Mode == Cloned {
		c.key = p.CloneKey
	}
	if cfg.Mode == PINBlocked {
		c.tries = 0
	}
	der := x509.MarshalPKCS1PublicKey(&p.CardKey.PublicKey)
	// Like real cards, the key file is longer than its DER: padding follows.
	c.kpub = append(der, bytes.Repeat([]byte{0xFF}, 16)...)
	signedNIS := []byte(cfg.NIS)
	c.nis = []byte(cfg.NIS)
	if cfg.Mode == Tampered {
		// The SOD is genuine for another person; the NIS file was rewritten.
		signedNIS = []byte(cfg.NIS[:11] + string('0'+(cfg.NIS[11]-'0'+1)%10))
	}
	opt := SODOptions{Hash: crypto.SHA256}
	if cfg.NewChip {
		opt = SODOptions{Hash: crypto.SHA512, PSS: true}
	}
	if c.sod, err = BuildSOD(map[int][]byte{cie.DGNIS: signedNIS, cie.DGKpub: der}, ds, p.DSKey, opt); err != nil {
		return nil, err
	}
	return c, nil
}

// NIS is the NIS the card presents.
func (c *Card) NIS() string { return string(c.nis) }

// Mode is the card's mode.
func (c *Card) Mode() Mode { return c.cfg.Mode }

// ATR returns the answer to reset.
func (c *Card) ATR() []byte { return append([]byte(nil), ATR...) }

// Reset returns the card to its power-on state; the PIN counter survives.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.df, c.cur, c.mseOK, c.sm, c.verified = 0, nil, false, nil, false
}

// Transmit makes Card an iso7816.Transport for in-process use.
func (c *Card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.Process(apdu), nil
}

// Process answers one command APDU.
func (c *Card) Process(apdu []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := c.process(apdu)
	if c.Log != nil {
		c.Log(apdu, resp)
	}
	return resp
}

func sw(s iso7816.SW) []byte { return iso7816.Response{SW: s}.Bytes() }

func (c *Card) process(apdu []byte) []byte {
	cmd, err := iso7816.ParseCommand(apdu)
	if err != nil {
		return sw(iso7816.SWWrongLength)
	}
	if cmd.CLA&0x0C != 0 {
		return c.secure(cmd)
	}
	if cmd.CLA != 0x00 {
		return sw(iso7816.SWCLANotSupported)
	}
	r := c.plain(cmd)
	return r.Bytes()
}

func (c *Card) plain(cmd iso7816.Command) iso7816.Response {
	switch cmd.INS {
	case 0xA4:
		return c.selectFile(cmd)
	case 0xB0:
		return c.readBinary(cmd)
	case 0x22:
		if cmd.P1 == 0x41 && cmd.P2 == 0xA4 && bytes.Equal(cmd.Data, cie.MSEIntAuth) && c.df == 2 {
			c.mseOK = true
			return iso7816.Response{SW: iso7816.SWOK}
		}
		return iso7816.Response{SW: iso7816.SWWrongP1P2}
	case 0x88:
		return c.internalAuth(cmd)
	case 0x86:
		return c.generalAuth(cmd)
	case 0x20:
		// VERIFY only inside the secure channel: a PIN never crosses in clear.
		return iso7816.Response{SW: 0x6987}
	}
	return iso7816.Response{SW: iso7816.SWINSNotSupported}
}

func (c *Card) selectFile(cmd iso7816.Command) iso7816.Response {
	c.mseOK = false
	switch {
	case cmd.P1 == 0x04 && bytes.Equal(cmd.Data, cie.AIDIAS):
		if c.cfg.NewChip {
			return iso7816.Response{SW: iso7816.SWFileNotFound}
		}
		c.df = 1
	case cmd.P1 == 0x00 && (len(cmd.Data) == 0 || bytes.Equal(cmd.Data, []byte{0x3F, 0x00})):
		c.df = 1
	case cmd.P1 == 0x04 && bytes.Equal(cmd.Data, cie.AIDCIE) && c.df >= 1:
		c.df = 2
	default:
		return iso7816.Response{SW: iso7816.SWFileNotFound}
	}
	c.cur = nil
	return iso7816.Response{SW: iso7816.SWOK}
}

func (c *Card) readBinary(cmd iso7816.Command) iso7816.Response {
	off := int(cmd.P1)<<8 | int(cmd.P2)
	if cmd.P1&0x80 != 0 {
		if c.df != 2 {
			return iso7816.Response{SW: iso7816.SWFileNotFound}
		}
		switch cmd.P1 & 0x1F {
		case cie.SFINIS:
			c.cur = c.nis
		case cie.SFIKpub:
			c.cur = c.kpub
		case cie.SFISOD:
			c.cur = c.sod
		default:
			return iso7816.Response{SW: iso7816.SWFileNotFound}
		}
		off = int(cmd.P2)
	}
	if c.cur == nil {
		return iso7816.Response{SW: 0x6986}
	}
	if off >= len(c.cur) {
		return iso7816.Response{SW: iso7816.SWWrongParameters}
	}
	n := cmd.Ne
	if n == 0 {
		n = 256
	}
	end := off + n
	if end > len(c.cur) {
		return iso7816.Response{Data: c.cur[off:], SW: iso7816.SWEndOfFile}
	}
	return iso7816.Response{Data: c.cur[off:end], SW: iso7816.SWOK}
}

func (c *Card) internalAuth(cmd iso7816.Command) iso7816.Response {
	if !c.mseOK {
		return iso7816.Response{SW: iso7816.SWConditionsNotMet}
	}
	if len(cmd.Data) == 0 || len(cmd.Data) > c.key.Size()-11 {
		return iso7816.Response{SW: iso7816.SWWrongLength}
	}
	sig, err := rsa.SignPKCS1v15(nil, c.key, crypto.Hash(0), cmd.Data)
	if err != nil {
		return iso7816.Response{SW: iso7816.SWUnknown}
	}
	if cmd.Ne != 0 && cmd.Ne < len(sig) {
		return iso7816.Response{SW: 0x6C00 | iso7816.SW(len(sig)&0xFF)}
	}
	return iso7816.Response{Data: sig, SW: iso7816.SWOK}
}

func (c *Card) generalAuth(cmd iso7816.Command) iso7816.Response {
	if c.df == 0 {
		return iso7816.Response{SW: iso7816.SWConditionsNotMet}
	}
	answer, sess, err := cie.CardKeyAgreement(cmd.Data, rand.Reader)
	if err != nil {
		return iso7816.Response{SW: 0x6A80}
	}
	c.sm = sess
	return iso7816.Response{Data: answer, SW: iso7816.SWOK}
}

// secure handles a command protected by secure messaging: only VERIFY is
// offered there, which is all the kiosk needs.
func (c *Card) secure(cmd iso7816.Command) []byte {
	if c.sm == nil {
		return sw(0x6882)
	}
	plain, err := c.sm.UnwrapCommand(cmd)
	if err != nil {
		c.sm = nil // a bad MAC ends the session, as on a real card
		return sw(0x6988)
	}
	var r iso7816.Response
	switch plain.INS {
	case 0x20:
		r = c.verify(plain)
	default:
		r = iso7816.Response{SW: iso7816.SWINSNotSupported}
	}
	return c.sm.WrapResponse(r).Bytes()
}

func (c *Card) verify(cmd iso7816.Command) iso7816.Response {
	if cmd.P2 != cie.PINRef {
		return iso7816.Response{SW: 0x6A88}
	}
	if c.tries == 0 {
		return iso7816.Response{SW: iso7816.SWAuthBlocked}
	}
	if len(cmd.Data) == 0 {
		if c.verified {
			return iso7816.Response{SW: iso7816.SWOK}
		}
		return iso7816.Response{SW: 0x63C0 | iso7816.SW(c.tries)}
	}
	if subtle.ConstantTimeCompare(cmd.Data, []byte(c.cfg.PIN)) == 1 {
		c.tries, c.verified = 3, true
		return iso7816.Response{SW: iso7816.SWOK}
	}
	c.tries--
	c.verified = false
	return iso7816.Response{SW: 0x63C0 | iso7816.SW(c.tries)}
}

// ErrRemoved is what a removed card's transport says.
var ErrRemoved = errors.New("the card was removed from the reader")

// Removable wraps a Card as a Transport that fails, as if the card were
// pulled out, after a number of commands: tests use it for "removed mid-read".
type Removable struct {
	Card  *Card
	After int
	n     int
}

// Transmit passes the first After commands and then fails.
func (r *Removable) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if r.n >= r.After {
		return nil, ErrRemoved
	}
	r.n++
	return r.Card.Transmit(ctx, apdu)
}
