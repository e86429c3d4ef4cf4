package virtual

import (
	"bytes"
	"crypto/rand"

	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/iso7816"
)

// The card's half of the IAS secure channel and device authentication,
// answering the commands cie/ias.go describes.

func resp(s iso7816.SW) iso7816.Response { return iso7816.Response{SW: s} }

const (
	swAuthFailed   = 0x6300
	swWrongData    = 0x6A80
	swRefNotFound  = 0x6A88
	swSMMissing    = 0x6882
	swSMWrong      = 0x6988
	swNoSMInClear  = 0x6987
	swNoSuchObject = 0x6A88
)

func (c *Card) getData(cmd iso7816.Command) iso7816.Response {
	if c.df != 2 || cmd.P1 != 0x3F || cmd.P2 != 0xFF {
		return resp(iso7816.SWWrongP1P2)
	}
	switch {
	case bytes.Equal(cmd.Data, cie.GetDataDHParams) && !c.cfg.NewChip:
		return iso7816.Response{Data: c.dh.Template(0), SW: iso7816.SWOK}
	case c.cfg.NewChip && len(cmd.Data) == 12 && bytes.Equal(cmd.Data, cie.GetDataDHPart(cmd.Data[10])) && cmd.Data[10] >= 0x97 && cmd.Data[10] <= 0x99:
		return iso7816.Response{Data: c.dh.Template(cmd.Data[10]), SW: iso7816.SWOK}
	case bytes.Equal(cmd.Data, cie.GetDataExtAuth):
		return iso7816.Response{Data: c.ca.ExtAuthTemplate(), SW: iso7816.SWOK}
	case bytes.Equal(cmd.Data, cie.GetDataICCDHKey):
		if c.ias.yICC == nil {
			return resp(iso7816.SWConditionsNotMet)
		}
		return iso7816.Response{Data: iso7816.AppendTLV(nil, 0xA6, iso7816.AppendTLV(nil, 0x91, c.ias.yICC)), SW: iso7816.SWOK}
	}
	return resp(swNoSuchObject)
}

// keyAgreement is MSE SET 41 A6: the terminal's DH key arrives, the card
// answers with its own (through GET DATA) and secure messaging starts.
func (c *Card) keyAgreement(cmd iso7816.Command) iso7816.Response {
	if c.df != 2 {
		return resp(iso7816.SWConditionsNotMet)
	}
	alg, ok1 := iso7816.FindTLV(cmd.Data, 0x80)
	ref, ok2 := iso7816.FindTLV(cmd.Data, 0x83)
	y, ok3 := iso7816.FindTLV(cmd.Data, 0x91)
	if !ok1 || !ok2 || !ok3 || !bytes.Equal(alg.Value, []byte{cie.AlgDH}) || !bytes.Equal(ref.Value, []byte{cie.KeyRefDH}) {
		return resp(swWrongData)
	}
	x, yICC, err := c.dh.DHKey(rand.Reader)
	if err != nil {
		return resp(iso7816.SWUnknown)
	}
	z, err := c.dh.DHSecret(x, y.Value)
	if err != nil {
		return resp(swWrongData)
	}
	sm, err := cie.NewCardSession(z)
	clear(z)
	if err != nil {
		return resp(iso7816.SWUnknown)
	}
	c.ias = iasState{sm: sm, yIFD: append([]byte(nil), y.Value...), yICC: yICC}
	return resp(iso7816.SWOK)
}

// secure handles a command protected by secure messaging.
func (c *Card) secure(cmd iso7816.Command) iso7816.Response {
	if c.ias.sm == nil {
		return resp(swSMMissing)
	}
	plain, err := c.ias.sm.UnwrapCommand(cmd)
	if err != nil {
		c.ias = iasState{} // a bad MAC ends the session, as on a real card
		return resp(swSMWrong)
	}
	r := c.chained(plain, c.secureCommand)
	out := c.ias.sm.WrapResponse(r)
	if f := c.ias.afterResp; f != nil {
		c.ias.afterResp = nil
		f()
	}
	return out
}

func (c *Card) secureCommand(cmd iso7816.Command) iso7816.Response {
	s := &c.ias
	switch {
	case cmd.INS == 0x22 && cmd.P1 == 0x81 && cmd.P2 == 0xB6:
		alg, _ := iso7816.FindTLV(cmd.Data, 0x80)
		ref, _ := iso7816.FindTLV(cmd.Data, 0x83)
		if !bytes.Equal(alg.Value, []byte{cie.AlgCVCert}) || !bytes.Equal(ref.Value, []byte{cie.KeyRefExtAuth}) {
			return resp(swRefNotFound)
		}
		s.certKeySel = true
		return resp(iso7816.SWOK)
	case cmd.INS == 0x2A && cmd.P1 == 0x00 && cmd.P2 == 0xAE:
		if !s.certKeySel {
			return resp(iso7816.SWConditionsNotMet)
		}
		chr, key, err := cie.OpenDeviceCertificate(cmd.Data, c.ca)
		if err != nil {
			return resp(swWrongData)
		}
		s.devCHR, s.devKey = chr, key
		return resp(iso7816.SWOK)
	case cmd.INS == 0x22 && cmd.P1 == 0x81 && cmd.P2 == 0xA4:
		chr, _ := iso7816.FindTLV(cmd.Data, 0x83)
		if s.devCHR == nil || !bytes.Equal(chr.Value, s.devCHR) {
			return resp(swRefNotFound)
		}
		s.extKeySel = true
		return resp(iso7816.SWOK)
	case cmd.INS == 0x84:
		if cmd.Ne != 8 {
			return resp(iso7816.SWWrongLength)
		}
		s.challenge = make([]byte, 8)
		rand.Read(s.challenge)
		return iso7816.Response{Data: s.challenge, SW: iso7816.SWOK}
	case cmd.INS == 0x82:
		if !s.extKeySel || s.challenge == nil || len(cmd.Data) != 8+s.devKey.Size() {
			return resp(iso7816.SWConditionsNotMet)
		}
		sn := cmd.Data[:8]
		if !bytes.Equal(sn, s.devCHR[4:]) || cie.VerifyDAPP(s.devKey, cmd.Data[8:], s.yIFD, sn, s.challenge, s.yICC, c.dh) != nil {
			s.challenge = nil
			return resp(swAuthFailed)
		}
		s.extAuthOK = true
		return resp(iso7816.SWOK)
	case cmd.INS == 0x22 && cmd.P1 == 0x41 && cmd.P2 == 0xA4:
		ref, _ := iso7816.FindTLV(cmd.Data, 0x84)
		if !bytes.Equal(ref.Value, []byte{cie.KeyRefDAPP}) {
			return resp(swRefNotFound)
		}
		s.dappKeySel = true
		return resp(iso7816.SWOK)
	case cmd.INS == 0x88:
		if !s.extAuthOK || !s.dappKeySel || len(cmd.Data) != 8 {
			return resp(iso7816.SWConditionsNotMet)
		}
		sig, err := cie.SignDAPP(c.dapp, rand.Reader, s.yICC, c.snICC, cmd.Data, s.yIFD, c.dh)
		if err != nil {
			return resp(iso7816.SWUnknown)
		}
		var ssc [8]byte
		copy(ssc[:4], s.challenge[4:])
		copy(ssc[4:], cmd.Data[4:])
		// The answer still goes out under the old counter.
		s.afterResp = func() { c.ias.sm.SetSSC(ssc); c.ias.dappOK = true }
		return iso7816.Response{Data: append(append([]byte(nil), c.snICC...), sig...), SW: iso7816.SWOK}
	case cmd.INS == 0x20:
		if !s.dappOK {
			return resp(iso7816.SWSecurityNotSatisfied)
		}
		return c.verify(cmd)
	}
	return resp(iso7816.SWINSNotSupported)
}
