package httpsig

import (
	"crypto/ed25519"
	"errors"
)

// Suspension is a KeyResolver's error for a key whose device or operator
// city staff have suspended: it wraps ErrKeySuspended and carries the key,
// so the verifier can check that the refused request was signed by it, and
// the notice the city gave (why, and whom to call). The notice is told only
// to the device itself: a request its key did not sign is refused as
// key_suspended without it, so a key id alone reveals nothing more.
type Suspension struct {
	Key    ed25519.PublicKey
	Notice string
	Err    error
}

func (s *Suspension) Error() string { return s.Err.Error() }
func (s *Suspension) Unwrap() error { return s.Err }

// suspendedRefusal is the refusal of a suspended key: with the city's
// notice when the message is the device's own, else keyRefusal's.
func suspendedRefusal(m *Message, in *SignatureInput, sig []byte, err error) error {
	var s *Suspension
	if errors.As(err, &s) && s.Notice != "" && len(s.Key) == ed25519.PublicKeySize && VerifySignature(m, in, sig, s.Key) == nil {
		e := refuseErr(ReasonKeySuspended, "this device is suspended by the city: "+s.Notice, err)
		e.Notice = s.Notice
		return e
	}
	return keyRefusal(in.KeyID, err)
}
