package cie

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/sportello/sportello/internal/iso7816"
)

// The IAS secure channel, as the public CIE middleware opens it before
// VERIFY PIN (IAS.cpp: InitDHParam, ReadDappPubKey, InitExtAuthKeyParam,
// DHKeyExchange, DAPP):
//
//  1. GET DATA 00 CB 3F FF reads the card's DH domain parameters g, p, q
//     (DOs 97, 98, 99 of key object BF A1 01): Gemalto cards in one request,
//     NXP (JCOP) cards one parameter per request.
//  2. SELECT 1004 and READ BINARY: the card's DAPP public key (RSA, PKCS#1).
//  3. GET DATA: the public key of the CA that certifies terminals for
//     external authentication (key BF A0 04: modulus 81, exponent 82, CHR
//     5F20, CHA 5F4C).
//  4. MSE SET 00 22 41 A6 {80 9B, 83 81, 91 g^x mod p} in clear (chained),
//     then GET DATA {A6 {91}} returns the card's g^y mod p. Both sides derive
//     the session keys from g^xy (sm.go) and secure messaging starts.
//  5. DAPP, in secure messaging: the terminal certifies its own RSA key with
//     the CA key as a card-verifiable certificate 7F21 (ISO 9796-2 message
//     recovery: 6A || body || SHA-256(body) || BC, the body's rest in 5F38),
//     MSE SET 81 B6 {80 41, 83 84} and PSO VERIFY CERTIFICATE 00 2A 00 AE;
//     MSE SET 81 A4 {83 CHR}; GET CHALLENGE; EXTERNAL AUTHENTICATE with
//     SN.IFD || sig, where sig signs 6A || PRND || SHA-256(PRND || g^x ||
//     SN.IFD || challenge || g^y || g || p || q) || BC. Then MSE SET 41 A4
//     {84 82, 80 9B} and INTERNAL AUTHENTICATE with 8 random bytes: the card
//     answers SN.ICC || sig with its DAPP key over PRND' || g^y || SN.ICC ||
//     rnd || g^x || g || p || q. The counter becomes challenge[4:] || rnd[4:].
//
// What makes DAPP pass is the private exponent of the external-
// authentication CA key: the card holds only its public half. The CIE
// middleware ships that exponent in its source (ExtAuthKey.cpp), so it is no
// secret, but it is not ours to copy: DeviceAuth takes it from configuration.
// The device key itself is any 2048-bit RSA key the terminal holds, since the
// terminal certifies it on the spot.

// Key references and algorithm identifiers of the IAS flow.
const (
	KeyRefDH      = 0x81 // the card's DH key (83 in MSE SET A6)
	KeyRefExtAuth = 0x84 // the CA key that verifies terminal certificates
	KeyRefDAPP    = 0x82 // the card's DAPP internal-authentication key
	AlgDH         = 0x9B // DH / DAPP scheme (80 in MSE SET)
	AlgCVCert     = 0x41 // certificate verification scheme
	FIDDAPPKey    = 0x1004
	cpiDevice     = 0x8A
	dappHashLen   = sha256.Size
)

// GET DATA requests (data field of 00 CB 3F FF), exported for the virtual card.
var (
	GetDataDHParams = []byte{0x4D, 0x08, 0x70, 0x06, 0xBF, 0xA1, 0x01, 0x02, 0xA3, 0x80}
	GetDataExtAuth  = []byte{0x4D, 0x0C, 0x70, 0x0A, 0xBF, 0xA0, KeyRefExtAuth & 0x7F, 0x06, 0x7F, 0x49, 0x03, 0x5F, 0x20, 0x80}
	GetDataICCDHKey = []byte{0x4D, 0x04, 0xA6, 0x02, 0x91, 0x00}
	// DeviceSN is the terminal's serial (SN.IFD) in its certificate's CHR.
	DeviceSN = []byte{0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01}
	// DeviceCertOID names the device certificate's key (SHA-256 variant).
	DeviceCertOID = []byte{0x2A, 0x81, 0x22, 0xF4, 0x2A, 0x02, 0x04, 0x01, 0x04}
)

// GetDataDHPart asks for one DH parameter (tag 97 g, 98 p, 99 q), as NXP cards want.
func GetDataDHPart(tag byte) []byte {
	return []byte{0x4D, 0x0A, 0x70, 0x08, 0xBF, 0xA1, 0x01, 0x04, 0xA3, 0x02, tag, 0x00}
}

// DHParams are the card's Diffie-Hellman domain parameters, as it gives
// them: DAPP hashes these exact bytes.
type DHParams struct{ G, P, Q []byte }

// DeviceAuth is what the terminal brings to device authentication.
type DeviceAuth struct {
	// CAExponent is the private exponent of the card's external-
	// authentication CA key (big-endian). The card supplies the modulus.
	CAExponent []byte
	// DeviceKey is the terminal's RSA key, certified on the spot; a fresh
	// 2048-bit key is made when nil.
	DeviceKey *rsa.PrivateKey
}

// ErrNoDeviceAuth is returned when no CA exponent is configured.
var ErrNoDeviceAuth = errors.New("no IAS external-authentication CA key is configured, so the PIN cannot be sent to the card")

// ErrCAExponent is a configured exponent that does not match the card's CA key.
var ErrCAExponent = errors.New("the configured IAS CA exponent does not belong to the card's external-authentication CA key")

// ErrChipDAPP is a chip whose DAPP signature does not verify: the other end
// of the channel is not the card that sent the DH key.
var ErrChipDAPP = errors.New("the chip's device-authentication signature does not verify")

// rsaRaw computes in^exp mod n, left-padded to the length of n. math/big is
// not constant-time; the exponents here are public (CA), per-session (DH) or
// a terminal key certified for one session.
func rsaRaw(in []byte, exp, n *big.Int) ([]byte, error) {
	m := new(big.Int).SetBytes(in)
	if m.Cmp(n) >= 0 {
		return nil, errors.New("RSA input is not smaller than the modulus")
	}
	return new(big.Int).Exp(m, exp, n).FillBytes(make([]byte, (n.BitLen()+7)/8)), nil
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// DAPPDigest is what a DAPP signature binds: the signer's padding, its DH
// public key and serial, the other side's challenge and DH key, and the
// domain parameters.
func DAPPDigest(prnd, ownKey, ownSN, challenge, peerKey []byte, dh DHParams) []byte {
	h := sha256.Sum256(concat(prnd, ownKey, ownSN, challenge, peerKey, dh.G, dh.P, dh.Q))
	return h[:]
}

// SignDAPP makes a DAPP signature with key (ISO 9796-2 scheme 1 with SHA-256,
// the random padding filling the modulus).
func SignDAPP(key *rsa.PrivateKey, rnd io.Reader, ownKey, ownSN, challenge, peerKey []byte, dh DHParams) ([]byte, error) {
	prnd := make([]byte, key.Size()-dappHashLen-2)
	if _, err := io.ReadFull(rnd, prnd); err != nil {
		return nil, err
	}
	m := concat([]byte{0x6A}, prnd, DAPPDigest(prnd, ownKey, ownSN, challenge, peerKey, dh), []byte{0xBC})
	return rsaRaw(m, key.D, key.N)
}

// VerifyDAPP checks a DAPP signature made by the holder of pub.
func VerifyDAPP(pub *rsa.PublicKey, sig, ownKey, ownSN, challenge, peerKey []byte, dh DHParams) error {
	m, err := rsaRaw(sig, big.NewInt(int64(pub.E)), pub.N)
	if err != nil {
		return err
	}
	if len(m) < dappHashLen+2 || m[0] != 0x6A || m[len(m)-1] != 0xBC {
		return errors.New("DAPP signature frame is wrong")
	}
	prnd := m[1 : len(m)-1-dappHashLen]
	if !bytes.Equal(m[len(m)-1-dappHashLen:len(m)-1], DAPPDigest(prnd, ownKey, ownSN, challenge, peerKey, dh)) {
		return errors.New("DAPP signature digest does not match")
	}
	return nil
}

// CAKey is the external-authentication CA key as the card describes it.
type CAKey struct {
	N   *big.Int
	E   int
	CHR []byte // 5F20: its last 8 bytes are the CAR of certificates it signs
	CHA []byte // 5F4C: its first 6 bytes are the AID certificates name
}

// CAR is the reference certificates signed by this key carry.
func (k *CAKey) CAR() []byte { return k.CHR[min(4, len(k.CHR)):] }

// ExtAuthTemplate is the card's answer to GetDataExtAuth.
func (k *CAKey) ExtAuthTemplate() []byte {
	e := big.NewInt(int64(k.E)).Bytes()
	inner := concat(iso7816.AppendTLV(nil, 0x81, k.N.Bytes()), iso7816.AppendTLV(nil, 0x82, e),
		iso7816.AppendTLV(nil, 0x5F20, k.CHR), iso7816.AppendTLV(nil, 0x5F4C, k.CHA))
	return iso7816.AppendTLV(nil, 0x70, iso7816.AppendTLV(nil, 0xBFA004, iso7816.AppendTLV(nil, 0x7F49, inner)))
}

func parseCAKey(b []byte) (*CAKey, error) {
	get := func(tag uint32) []byte {
		o, ok := iso7816.FindTLV(b, tag)
		if !ok {
			return nil
		}
		return o.Value
	}
	n, e, chr, cha := get(0x81), get(0x82), get(0x5F20), get(0x5F4C)
	if len(n) == 0 || len(e) == 0 || len(e) > 4 || len(chr) < 12 || len(cha) < 6 {
		return nil, errors.New("the card's external-authentication key template lacks its modulus, exponent, CHR or CHA")
	}
	ev := int(new(big.Int).SetBytes(e).Int64())
	return &CAKey{N: new(big.Int).SetBytes(n), E: ev, CHR: chr, CHA: cha}, nil
}

// deviceCertificate certifies dev under the CA key ca with private exponent d.
func deviceCertificate(ca *CAKey, d *big.Int, dev *rsa.PublicKey) (cert, chr []byte, err error) {
	chr = concat([]byte{0, 0, 0, 0}, DeviceSN)
	e := make([]byte, 4)
	big.NewInt(int64(dev.E)).FillBytes(e)
	body := concat([]byte{cpiDevice}, ca.CAR(), chr, ca.CHA[:6], []byte{0x01}, DeviceCertOID, dev.N.FillBytes(make([]byte, dev.Size())), e)
	k := (ca.N.BitLen()+7)/8 - dappHashLen - 2
	if k <= 0 || len(body) <= k {
		return nil, nil, errors.New("the card's CA key is too short for a device certificate")
	}
	h := sha256.Sum256(body)
	sig, err := rsaRaw(concat([]byte{0x6A}, body[:k], h[:], []byte{0xBC}), d, ca.N)
	if err != nil {
		return nil, nil, err
	}
	inner := concat(iso7816.AppendTLV(nil, 0x5F37, sig), iso7816.AppendTLV(nil, 0x5F38, body[k:]), iso7816.AppendTLV(nil, 0x42, ca.CAR()))
	return iso7816.AppendTLV(nil, 0x7F21, inner), chr, nil
}

// OpenDeviceCertificate is the card's check of a terminal certificate: the
// signature recovers with the CA key, the digest matches, the CAR, AID and
// OID are the card's. It returns the certificate's CHR and key.
func OpenDeviceCertificate(cert []byte, ca *CAKey) (chr []byte, dev *rsa.PublicKey, err error) {
	get := func(tag uint32) []byte {
		o, ok := iso7816.FindTLV(cert, tag)
		if !ok {
			return nil
		}
		return o.Value
	}
	sig, rem, car := get(0x5F37), get(0x5F38), get(0x42)
	if sig == nil || car == nil || !bytes.Equal(car, ca.CAR()) {
		return nil, nil, errors.New("device certificate is not for this CA")
	}
	m, err := rsaRaw(sig, big.NewInt(int64(ca.E)), ca.N)
	if err != nil {
		return nil, nil, err
	}
	if m[0] != 0x6A || m[len(m)-1] != 0xBC {
		return nil, nil, errors.New("device certificate signature does not recover")
	}
	body := concat(m[1:len(m)-1-dappHashLen], rem)
	if h := sha256.Sum256(body); !bytes.Equal(h[:], m[len(m)-1-dappHashLen:len(m)-1]) {
		return nil, nil, errors.New("device certificate digest does not match")
	}
	car8 := ca.CAR()
	fixed := 1 + len(car8) + 12 + 7 + len(DeviceCertOID)
	if len(body) < fixed+4+64 || body[0] != cpiDevice || !bytes.Equal(body[1:1+len(car8)], car8) {
		return nil, nil, errors.New("device certificate body is malformed")
	}
	chr = body[1+len(car8) : 1+len(car8)+12]
	cha := body[1+len(car8)+12 : 1+len(car8)+19]
	if !bytes.Equal(cha[:6], ca.CHA[:6]) || !bytes.Equal(body[fixed-len(DeviceCertOID):fixed], DeviceCertOID) {
		return nil, nil, errors.New("device certificate names another application or algorithm")
	}
	n := body[fixed : len(body)-4]
	e := new(big.Int).SetBytes(body[len(body)-4:])
	return append([]byte(nil), chr...), &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(e.Int64())}, nil
}

// Template is the card's answer to GetDataDHParams; part, when not 0,
// restricts it to one parameter as NXP cards answer.
func (dh DHParams) Template(part byte) []byte {
	var inner []byte
	for _, p := range []struct {
		tag byte
		v   []byte
	}{{0x97, dh.G}, {0x98, dh.P}, {0x99, dh.Q}} {
		if part == 0 || part == p.tag {
			inner = iso7816.AppendTLV(inner, uint32(p.tag), p.v)
		}
	}
	return iso7816.AppendTLV(nil, 0x70, iso7816.AppendTLV(nil, 0xBFA101, iso7816.AppendTLV(nil, 0xA3, inner)))
}

func (dh DHParams) ints() (g, p, q *big.Int) {
	return new(big.Int).SetBytes(dh.G), new(big.Int).SetBytes(dh.P), new(big.Int).SetBytes(dh.Q)
}

// CheckPublic reports whether y is a valid DH public key for dh: in 2..p-2
// and in the order-q subgroup, so a forged key cannot pin the secret.
func (dh DHParams) CheckPublic(y []byte) error {
	_, p, q := dh.ints()
	v := new(big.Int).SetBytes(y)
	if v.Cmp(big.NewInt(1)) <= 0 || v.Cmp(new(big.Int).Sub(p, big.NewInt(1))) >= 0 {
		return errors.New("DH public key is out of range")
	}
	if q.Sign() > 0 && new(big.Int).Exp(v, q, p).Cmp(big.NewInt(1)) != 0 {
		return errors.New("DH public key is not in the order-q subgroup")
	}
	return nil
}

// DHKey makes a DH key pair: x in 1..q-1, and g^x mod p as long as p.
func (dh DHParams) DHKey(rnd io.Reader) (x *big.Int, pub []byte, err error) {
	g, p, q := dh.ints()
	if p.BitLen() < 1024 || g.Cmp(big.NewInt(1)) <= 0 || g.Cmp(p) >= 0 || q.Sign() <= 0 || q.Cmp(p) >= 0 {
		return nil, nil, errors.New("the card's DH parameters are not usable (p under 1024 bits, or g or q out of range)")
	}
	buf := make([]byte, len(q.Bytes())+8)
	if _, err := io.ReadFull(rnd, buf); err != nil {
		return nil, nil, err
	}
	qm1 := new(big.Int).Sub(q, big.NewInt(1))
	x = new(big.Int).Mod(new(big.Int).SetBytes(buf), qm1)
	x.Add(x, big.NewInt(1))
	clear(buf)
	pub, err = rsaRaw(g.Bytes(), x, p)
	return x, pub, err
}

// DHSecret is peer^x mod p, as long as p: the input of the session keys.
func (dh DHParams) DHSecret(x *big.Int, peer []byte) ([]byte, error) {
	if err := dh.CheckPublic(peer); err != nil {
		return nil, err
	}
	_, p, _ := dh.ints()
	return rsaRaw(peer, x, p)
}

// readDHParams asks for g, p and q: in one request on cards selected by AID
// (Gemalto), one at a time on cards selected through the MF (NXP), trying
// the other way when the first is refused.
func readDHParams(ctx context.Context, ch *iso7816.Channel, by string) (DHParams, error) {
	whole := func() (DHParams, error) {
		b, err := ch.Do(ctx, "GET DATA (DH parameters)", getData(GetDataDHParams))
		if err != nil {
			return DHParams{}, err
		}
		return dhFrom(b, b, b)
	}
	parts := func() (DHParams, error) {
		var got [3][]byte
		for i, tag := range []byte{0x97, 0x98, 0x99} {
			b, err := ch.Do(ctx, "GET DATA (DH parameter)", getData(GetDataDHPart(tag)))
			if err != nil {
				return DHParams{}, err
			}
			got[i] = b
		}
		return dhFrom(got[0], got[1], got[2])
	}
	first, second := whole, parts
	if by == "MF" {
		first, second = parts, whole
	}
	dh, err := first()
	var se *iso7816.StatusError
	if errors.As(err, &se) {
		dh, err = second()
	}
	return dh, err
}

func dhFrom(gb, pb, qb []byte) (DHParams, error) {
	g, ok1 := iso7816.FindTLV(gb, 0x97)
	p, ok2 := iso7816.FindTLV(pb, 0x98)
	q, ok3 := iso7816.FindTLV(qb, 0x99)
	if !ok1 || !ok2 || !ok3 {
		return DHParams{}, errors.New("the card's DH parameters lack g, p or q")
	}
	return DHParams{G: g.Value, P: p.Value, Q: q.Value}, nil
}

func getData(data []byte) iso7816.Command {
	return iso7816.Command{INS: 0xCB, P1: 0x3F, P2: 0xFF, Data: data, Ne: iso7816.MaxShortNe}
}

// sendChained sends cmd, split into pieces of at most chunk bytes with the
// ISO 7816-4 chaining bit on all but the last (each piece is protected on
// its own in secure messaging).
func sendChained(ctx context.Context, ch *iso7816.Channel, op string, cmd iso7816.Command, chunk int) ([]byte, error) {
	data := cmd.Data
	for len(data) > chunk {
		c := cmd
		c.CLA |= 0x10
		c.Data, c.Ne = data[:chunk], 0
		if _, err := ch.Do(ctx, op, c); err != nil {
			return nil, err
		}
		data = data[chunk:]
	}
	cmd.Data = data
	return ch.Do(ctx, op, cmd)
}

// smChunk is the largest piece the middleware sends under secure messaging.
const smChunk = 0xE7

// openIAS opens the IAS secure channel on a card whose CIE application is
// selected (by says how the IAS was selected, see SelectCIE).
func openIAS(ctx context.Context, t iso7816.Transport, by string, auth DeviceAuth, rnd io.Reader) (*iso7816.Channel, error) {
	if len(auth.CAExponent) == 0 {
		return nil, ErrNoDeviceAuth
	}
	plain := iso7816.NewChannel(t)
	step := func(s string, err error) error { return &ReadError{s, err} }

	dh, err := readDHParams(ctx, plain, by)
	if err != nil {
		return nil, step("read the card's DH parameters", err)
	}
	if _, err := plain.Do(ctx, "SELECT EF 1004", iso7816.Command{INS: 0xA4, P1: 0x02, P2: 0x04, Data: []byte{FIDDAPPKey >> 8, FIDDAPPKey & 0xFF}}); err != nil {
		return nil, step("read the card's DAPP key", err)
	}
	kb, err := plain.ReadBinary(ctx, "read EF 1004 (DAPP key)", 0)
	if err != nil {
		return nil, step("read the card's DAPP key", err)
	}
	dappKey, _, err := ParseKpub(kb)
	if err != nil {
		return nil, step("read the card's DAPP key", err)
	}
	cb, err := plain.Do(ctx, "GET DATA (external-authentication key)", getData(GetDataExtAuth))
	if err != nil {
		return nil, step("read the card's external-authentication key", err)
	}
	ca, err := parseCAKey(cb)
	if err != nil {
		return nil, step("read the card's external-authentication key", err)
	}
	caD := new(big.Int).SetBytes(auth.CAExponent)
	if probe, err := rsaRaw([]byte{0x6A, 0x42}, caD, ca.N); err != nil || !bytes.Equal(new(big.Int).Exp(new(big.Int).SetBytes(probe), big.NewInt(int64(ca.E)), ca.N).Bytes(), []byte{0x6A, 0x42}) {
		return nil, ErrCAExponent
	}

	x, yIFD, err := dh.DHKey(rnd)
	if err != nil {
		return nil, step("make the DH key", err)
	}
	mse := concat(iso7816.AppendTLV(nil, 0x80, []byte{AlgDH}), iso7816.AppendTLV(nil, 0x83, []byte{KeyRefDH}), iso7816.AppendTLV(nil, 0x91, yIFD))
	if _, err := sendChained(ctx, plain, "MSE SET (DH key agreement)", iso7816.Command{INS: 0x22, P1: 0x41, P2: 0xA6, Data: mse}, 255); err != nil {
		return nil, step("exchange DH keys with the card", err)
	}
	yb, err := plain.Do(ctx, "GET DATA (card DH key)", getData(GetDataICCDHKey))
	if err != nil {
		return nil, step("exchange DH keys with the card", err)
	}
	yo, ok := iso7816.FindTLV(yb, 0x91)
	if !ok {
		return nil, step("exchange DH keys with the card", errors.New("the answer lacks the card's DH key"))
	}
	yICC := yo.Value
	z, err := dh.DHSecret(x, yICC)
	if err != nil {
		return nil, step("exchange DH keys with the card", err)
	}
	s, err := newSession(z)
	clear(z)
	if err != nil {
		return nil, err
	}
	ts := &TerminalSession{s}
	ch := &iso7816.Channel{T: t, Wrap: ts.Wrap, Unwrap: ts.Unwrap}

	if err := dapp(ctx, ch, ts, dh, ca, caD, auth.DeviceKey, dappKey, yIFD, yICC, rnd); err != nil {
		return nil, step("authenticate with the card (DAPP)", err)
	}
	return ch, nil
}

func dapp(ctx context.Context, ch *iso7816.Channel, ts *TerminalSession, dh DHParams, ca *CAKey, caD *big.Int, dev *rsa.PrivateKey, dappKey *rsa.PublicKey, yIFD, yICC []byte, rnd io.Reader) error {
	if dev == nil {
		var err error
		if dev, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return err
		}
	}
	cert, chr, err := deviceCertificate(ca, caD, &dev.PublicKey)
	if err != nil {
		return err
	}
	mse := func(p1, p2 byte, data []byte, ne int) error {
		_, err := ch.Do(ctx, "MSE SET", iso7816.Command{INS: 0x22, P1: p1, P2: p2, Data: data, Ne: ne})
		return err
	}
	if err := mse(0x81, 0xB6, concat(iso7816.AppendTLV(nil, 0x80, []byte{AlgCVCert}), iso7816.AppendTLV(nil, 0x83, []byte{KeyRefExtAuth})), 256); err != nil {
		return err
	}
	if _, err := sendChained(ctx, ch, "PSO VERIFY CERTIFICATE", iso7816.Command{INS: 0x2A, P2: 0xAE, Data: cert}, smChunk); err != nil {
		return fmt.Errorf("the card refused the terminal certificate: %w", err)
	}
	if err := mse(0x81, 0xA4, iso7816.AppendTLV(nil, 0x83, chr), 0); err != nil {
		return err
	}
	challenge, err := ch.Do(ctx, "GET CHALLENGE", iso7816.Command{INS: 0x84, Ne: 8})
	if err != nil {
		return err
	}
	if len(challenge) != 8 {
		return fmt.Errorf("the card's challenge is %d bytes, not 8", len(challenge))
	}
	sig, err := SignDAPP(dev, rnd, yIFD, DeviceSN, challenge, yICC, dh)
	if err != nil {
		return err
	}
	if _, err := sendChained(ctx, ch, "EXTERNAL AUTHENTICATE", iso7816.Command{INS: 0x82, Data: concat(DeviceSN, sig)}, smChunk); err != nil {
		return fmt.Errorf("the card refused the terminal's authentication: %w", err)
	}
	if err := mse(0x41, 0xA4, concat(iso7816.AppendTLV(nil, 0x84, []byte{KeyRefDAPP}), iso7816.AppendTLV(nil, 0x80, []byte{AlgDH})), 0); err != nil {
		return err
	}
	rndIFD := make([]byte, 8)
	if _, err := io.ReadFull(rnd, rndIFD); err != nil {
		return err
	}
	resp, err := ch.Do(ctx, "INTERNAL AUTHENTICATE (DAPP)", iso7816.Command{INS: 0x88, Data: rndIFD})
	if err != nil {
		return err
	}
	if len(resp) != 8+dappKey.Size() {
		return ErrChipDAPP
	}
	if err := VerifyDAPP(dappKey, resp[8:], yICC, resp[:8], rndIFD, yIFD, dh); err != nil {
		return fmt.Errorf("%w: %v", ErrChipDAPP, err)
	}
	var ssc [8]byte
	copy(ssc[:4], challenge[4:])
	copy(ssc[4:], rndIFD[4:])
	ts.s.ssc = ssc
	return nil
}
