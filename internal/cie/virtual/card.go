package virtual

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
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

	dapp    *rsa.PrivateKey // what the chip signs DAPP answers with
	dappPub *rsa.PublicKey  // what EF 1004 shows
	dappDER []byte          // EF 1004's content
	ca      *cie.CAKey      // verifies terminal certificates
	dh      cie.DHParams
	snICC   []byte

	mu       sync.Mutex
	df       int    // 0 none, 1 IAS, 2 DF_CIE
	ef       uint16 // the current EF's identifier, 0 none
	mseOK    bool
	tries    int
	verified bool
	// pending is the rest of a response longer than Le, for GET RESPONSE;
	// pendingSW its final status.
	pending   []byte
	pendingSW iso7816.SW
	// chain collects the data of a command sent in pieces (CLA bit 0x10).
	chain    []byte
	chainHdr [3]byte
	ias      iasState
	// Log, when set, receives each command and response (tests, -v).
	Log func(cmd, resp []byte)
}

// iasState is the card's half of the IAS secure channel (cie/ias.go).
type iasState struct {
	sm         *cie.CardSession
	yIFD, yICC []byte
	certKeySel bool           // MSE SET 81 B6: the CA key verifies certificates
	devCHR     []byte         // from the verified terminal certificate
	devKey     *rsa.PublicKey // ditto
	extKeySel  bool           // MSE SET 81 A4 named devCHR
	challenge  []byte
	extAuthOK  bool
	dappKeySel bool // MSE SET 41 A4 {84 82}
	dappOK     bool // device authentication complete: VERIFY allowed
	afterResp  func()
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
	c := &Card{cfg: cfg, key: p.CardKey, KeyIA: &p.CardKey.PublicKey, tries: 3, dapp: p.DAPPKey, dappPub: &p.DAPPKey.PublicKey, ca: p.caKey(), dh: p.DH}
	sn := sha256.Sum256([]byte("SN.ICC " + cfg.NIS))
	c.snICC = sn[:8]
	c.dappDER = x509.MarshalPKCS1PublicKey(c.dappPub)
	if cfg.Mode == Cloned {
		// A clone knows neither private key: its DAPP answers fail too.
		c.key, c.dapp = p.CloneKey, p.CloneKey
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
	c.df, c.ef, c.mseOK, c.verified = 0, 0, false, false
	c.pending, c.chain, c.ias = nil, nil, iasState{}
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
	if cmd.INS == 0xC0 && cmd.CLA&^0x0C == 0 {
		return c.getResponse(cmd)
	}
	c.pending = nil
	if cmd.CLA&0x0C != 0 {
		return c.deliver(c.secure(cmd), cmd.Ne)
	}
	if cmd.CLA&^0x10 != 0 {
		return sw(iso7816.SWCLANotSupported)
	}
	return c.deliver(c.chained(cmd, c.plain), cmd.Ne)
}

// deliver sends at most Le bytes (256 when Le is absent) and keeps the rest
// for GET RESPONSE, announcing it with 61xx.
func (c *Card) deliver(r iso7816.Response, ne int) []byte {
	if ne == 0 {
		ne = 256
	}
	if len(r.Data) <= ne {
		return r.Bytes()
	}
	c.pending, c.pendingSW = r.Data[ne:], r.SW
	return iso7816.Response{Data: r.Data[:ne], SW: 0x6100 | iso7816.SW(min(len(c.pending), 256)&0xFF)}.Bytes()
}

func (c *Card) getResponse(cmd iso7816.Command) []byte {
	if c.pending == nil {
		return sw(iso7816.SWConditionsNotMet)
	}
	rest, final := c.pending, c.pendingSW
	c.pending = nil
	return c.deliver(iso7816.Response{Data: rest, SW: final}, cmd.Ne)
}

// maxChain bounds a chained command's data.
const maxChain = 4096

// chained collects the pieces of a chained command and hands the whole one
// to handle.
func (c *Card) chained(cmd iso7816.Command, handle func(iso7816.Command) iso7816.Response) iso7816.Response {
	hdr := [3]byte{cmd.INS, cmd.P1, cmd.P2}
	if c.chain != nil && hdr != c.chainHdr {
		c.chain = nil
		return iso7816.Response{SW: 0x6883} // last command of the chain expected
	}
	if cmd.CLA&0x10 != 0 {
		if len(c.chain)+len(cmd.Data) > maxChain {
			c.chain = nil
			return iso7816.Response{SW: iso7816.SWWrongLength}
		}
		c.chain, c.chainHdr = append(c.chain, cmd.Data...), hdr
		if c.chain == nil {
			c.chain = []byte{}
		}
		return iso7816.Response{SW: iso7816.SWOK}
	}
	if c.chain != nil {
		cmd.Data = append(c.chain, cmd.Data...)
		c.chain = nil
	}
	cmd.CLA &^= 0x10
	return handle(cmd)
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
		if cmd.P1 == 0x41 && cmd.P2 == 0xA6 {
			return c.keyAgreement(cmd)
		}
		return iso7816.Response{SW: iso7816.SWWrongP1P2}
	case 0x88:
		return c.internalAuth(cmd)
	case 0xCB:
		return c.getData(cmd)
	case 0x20:
		// VERIFY only inside the secure channel: a PIN never crosses in clear.
		return iso7816.Response{SW: swNoSMInClear}
	}
	return iso7816.Response{SW: iso7816.SWINSNotSupported}
}

func (c *Card) selectFile(cmd iso7816.Command) iso7816.Response {
	if cmd.P1 == 0x02 {
		return c.selectEF(cmd)
	}
	c.mseOK = false
	c.ias = iasState{} // a secure channel lives in the application that opened it
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
	c.ef = 0
	return iso7816.Response{SW: iso7816.SWOK}
}

// selectEF is SELECT with P1 02: an EF of the current DF by its file
// identifier, as the CIE middleware and the CIE SDK select 1001–1006 before
// reading them with plain offsets. P2 0C answers no data; P2 04 (FCP) or 00
// answer the file's control parameters when the command has an Le. Selecting
// an EF leaves the DF, and so its security environment, as it was; a failed
// SELECT leaves the current EF as it was.
func (c *Card) selectEF(cmd iso7816.Command) iso7816.Response {
	if cmd.P2 != 0x0C && cmd.P2 != 0x04 && cmd.P2 != 0x00 {
		return iso7816.Response{SW: iso7816.SWWrongP1P2}
	}
	if len(cmd.Data) != 2 {
		return iso7816.Response{SW: iso7816.SWWrongLength}
	}
	fid := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])
	data, found := c.efCIE(fid)
	if c.df != 2 || !found {
		return iso7816.Response{SW: iso7816.SWFileNotFound}
	}
	c.ef = fid
	if cmd.P2 == 0x0C || cmd.Ne == 0 {
		return iso7816.Response{SW: iso7816.SWOK}
	}
	return iso7816.Response{Data: fcp(fid, data), SW: iso7816.SWOK}
}

// fcp is an EF's file control parameters (ISO 7816-4 tag 62): 80 the number
// of data bytes (left out for a file the card does not show in clear), 82 a
// transparent working EF, 83 the file identifier.
func fcp(fid uint16, data []byte) []byte {
	var in []byte
	if data != nil {
		in = iso7816.AppendTLV(in, 0x80, []byte{byte(len(data) >> 8), byte(len(data))})
	}
	in = iso7816.AppendTLV(in, 0x82, []byte{0x01})
	in = iso7816.AppendTLV(in, 0x83, []byte{byte(fid >> 8), byte(fid)})
	return iso7816.AppendTLV(nil, 0x62, in)
}

// efCIE is DF_CIE's elementary file fid: found says whether it exists. Real
// cards give 1002 (EF.Seriale) and 1003 (EF.Cert_CIE) only inside the IAS
// secure channel (the CIE middleware reads them with secure messaging); the
// virtual card holds neither, so data is nil for them and a plain READ
// BINARY is refused with 6982, as their access condition asks.
func (c *Card) efCIE(fid uint16) (data []byte, found bool) {
	switch fid {
	case 0x1000 | cie.SFINIS:
		return c.nis, true
	case 0x1002, 0x1003:
		return nil, true
	case cie.FIDDAPPKey:
		return c.dappDER, true
	case 0x1000 | cie.SFIKpub:
		return c.kpub, true
	case 0x1000 | cie.SFISOD:
		return c.sod, true
	}
	return nil, false
}

// readBinary reads the EF named by a short file identifier (P1 0x80|SFI,
// offset in P2), which also makes it the current EF, or the current EF at
// the offset in P1-P2.
func (c *Card) readBinary(cmd iso7816.Command) iso7816.Response {
	off := int(cmd.P1)<<8 | int(cmd.P2)
	if cmd.P1&0x80 != 0 {
		sfi := uint16(cmd.P1 & 0x1F)
		if _, found := c.efCIE(0x1000 | sfi); c.df != 2 || sfi == 0 || !found {
			return iso7816.Response{SW: iso7816.SWFileNotFound}
		}
		c.ef, off = 0x1000|sfi, int(cmd.P2)
	}
	if c.ef == 0 {
		return iso7816.Response{SW: 0x6986} // no current EF
	}
	cur, _ := c.efCIE(c.ef)
	if cur == nil {
		return iso7816.Response{SW: iso7816.SWSecurityNotSatisfied}
	}
	if off >= len(cur) {
		return iso7816.Response{SW: iso7816.SWWrongParameters}
	}
	n := cmd.Ne
	if n == 0 {
		n = 256
	}
	end := off + n
	if end > len(cur) {
		return iso7816.Response{Data: cur[off:], SW: iso7816.SWEndOfFile}
	}
	return iso7816.Response{Data: cur[off:end], SW: iso7816.SWOK}
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
