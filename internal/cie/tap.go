package cie

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"time"

	"github.com/sportello/sportello/internal/iso7816"
)

// TapNonceSize is the length of the nonce a kiosk draws for each tap.
const TapNonceSize = 16

// TapChallenge is the INTERNAL AUTHENTICATE challenge of a tap whose answer
// a hub is to check itself: the chip then signs over the enrolled device
// that read it, a nonce drawn for the tap and the tap's time (whole seconds,
// UTC). Another device cannot present the answer as its own, and the hub
// can bound how old a tap it accepts is, even for a request that waited in
// a kiosk's outbox while the hub could not be reached.
func TapChallenge(deviceKeyID string, nonce []byte, tapped time.Time) []byte {
	h := sha256.New()
	h.Write([]byte("sportello/cie-tap/v1\x00"))
	h.Write([]byte(deviceKeyID))
	h.Write([]byte{0})
	h.Write(nonce)
	h.Write([]byte{0})
	h.Write([]byte(tapped.UTC().Truncate(time.Second).Format(time.RFC3339)))
	return h.Sum(nil)[:ChallengeSize]
}

// Tap is what a kiosk sends a hub of one tap: the chip's files as read and
// its answer to TapChallenge.
type Tap struct {
	NIS      string
	Kpub     []byte
	SOD      []byte
	Nonce    []byte
	TappedAt time.Time
	Response []byte
}

// VerifyTap is the hub's check of a tap made at the enrolled device
// deviceKeyID: the chip's answer over TapChallenge(deviceKeyID, nonce,
// tapped time) with its key 1005, and EF.SOD against opt.CSCAs at opt.Now.
// It does not bound how old the tap is: each use says how old it accepts.
func VerifyTap(t Tap, deviceKeyID string, opt Options) *Result {
	if len(t.Nonce) != TapNonceSize {
		r := &Result{NIS: t.NIS}
		r.add(ChipAuthFailed, "The tap's nonce has %d bytes, not %d.", len(t.Nonce), TapNonceSize)
		return r
	}
	return Verify(&Card{
		NIS: []byte(t.NIS), Kpub: t.Kpub, SOD: t.SOD,
		Challenge: TapChallenge(deviceKeyID, t.Nonce, t.TappedAt), Response: t.Response,
	}, opt)
}

// ReadTap reads a card for a hub to check (VerifyTap): NIS, key and SOD
// as they are, and the chip's answer to TapChallenge for device
// deviceKeyID, a fresh nonce from rnd (crypto/rand when nil) and instant
// at. The kiosk checks nothing itself: the hub does.
func ReadTap(ctx context.Context, t iso7816.Transport, deviceKeyID string, rnd io.Reader, at time.Time) (*Tap, error) {
	ch := iso7816.NewChannel(t)
	if _, err := SelectCIE(ctx, ch); err != nil {
		return nil, err
	}
	nis, err := ch.ReadBinary(ctx, "read EF.ID_Servizi (NIS)", SFINIS)
	if err != nil {
		return nil, &ReadError{"read the NIS", err}
	}
	tap := &Tap{TappedAt: at.UTC().Truncate(time.Second), Nonce: make([]byte, TapNonceSize)}
	if tap.NIS, err = ParseNIS(nis); err != nil {
		return nil, &ReadError{"read the NIS", err}
	}
	if tap.Kpub, err = ch.ReadBinary(ctx, "read EF.Servizi_Int.Kpub", SFIKpub); err != nil {
		return nil, &ReadError{"read the card's public key", err}
	}
	if tap.SOD, err = ch.ReadBinary(ctx, "read EF.SOD", SFISOD); err != nil {
		return nil, &ReadError{"read the security object", err}
	}
	if rnd == nil {
		rnd = randReader
	}
	if _, err := io.ReadFull(rnd, tap.Nonce); err != nil {
		return nil, fmt.Errorf("could not draw a tap nonce: %w", err)
	}
	if tap.Response, err = InternalAuthenticate(ctx, ch, TapChallenge(deviceKeyID, tap.Nonce, tap.TappedAt)); err != nil {
		return nil, &ReadError{"authenticate the chip", err}
	}
	return tap, nil
}

// ParseCSCAs reads trusted CSCA certificates: PEM blocks, or one DER
// certificate.
func ParseCSCAs(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("an unreadable CSCA certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("no PEM or DER certificate")
		}
		out = append(out, c)
	}
	return out, nil
}
