package cie

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sportello/sportello/internal/iso7816"
)

// PINRef is the CIE user PIN's reference in VERIFY (P2).
const PINRef = 0x81

// PINError is a refused PIN: wrong (with the tries left) or blocked.
type PINError struct {
	TriesLeft int
	Blocked   bool
}

func (e *PINError) Error() string {
	switch {
	case e.Blocked:
		return "the card's PIN is blocked after 3 wrong attempts: unblock it with the PUK"
	case e.TriesLeft == 1:
		return "wrong PIN: 1 try left before the card blocks it"
	default:
		return fmt.Sprintf("wrong PIN: %d tries left", e.TriesLeft)
	}
}

// ErrPINFormat is returned for a PIN that is not 8 digits, before the card
// sees it, so a typo does not cost a try.
var ErrPINFormat = errors.New("the CIE PIN is 8 digits")

// PINOptions configures the secure channel the PIN travels in.
type PINOptions struct {
	Auth DeviceAuth
	// Rand supplies the DH key, paddings and challenges; crypto/rand when nil.
	Rand io.Reader
}

// OpenSecureChannel selects the CIE application and opens the IAS secure
// channel (ias.go); commands sent on the returned channel are protected.
func OpenSecureChannel(ctx context.Context, t iso7816.Transport, opt PINOptions) (*iso7816.Channel, error) {
	rnd := opt.Rand
	if rnd == nil {
		rnd = randReader
	}
	by, err := SelectCIE(ctx, iso7816.NewChannel(t))
	if err != nil {
		return nil, err
	}
	return openIAS(ctx, t, by, opt.Auth, rnd)
}

// VerifyPIN opens the secure channel and verifies pin. It returns nil when
// the card accepts it and a *PINError when it refuses. The PIN is never
// logged or kept: the buffer holding it is cleared before returning, and it
// reaches the card only encrypted.
func VerifyPIN(ctx context.Context, t iso7816.Transport, pin []byte, opt PINOptions) error {
	if len(pin) != 8 {
		return ErrPINFormat
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return ErrPINFormat
		}
	}
	ch, err := OpenSecureChannel(ctx, t, opt)
	if err != nil {
		return err
	}
	data := append([]byte(nil), pin...)
	defer clear(data)
	resp, err := ch.Send(ctx, iso7816.Command{INS: 0x20, P2: PINRef, Data: data})
	if err != nil {
		return &ReadError{"verify the PIN", err}
	}
	return pinResult(resp.SW)
}

// PINTriesLeft asks the card how many tries are left without spending one
// (VERIFY with no data, inside the secure channel). The middleware does not
// use this ISO 7816-4 form; cards that refuse it give an error.
func PINTriesLeft(ctx context.Context, t iso7816.Transport, opt PINOptions) (int, error) {
	ch, err := OpenSecureChannel(ctx, t, opt)
	if err != nil {
		return 0, err
	}
	resp, err := ch.Send(ctx, iso7816.Command{INS: 0x20, P2: PINRef})
	if err != nil {
		return 0, &ReadError{"ask the PIN tries left", err}
	}
	if resp.SW == iso7816.SWOK {
		return 3, nil // already verified in this session
	}
	var pe *PINError
	if errors.As(pinResult(resp.SW), &pe) {
		return pe.TriesLeft, nil
	}
	return 0, resp.SW.Err("VERIFY")
}

func pinResult(s iso7816.SW) error {
	if s == iso7816.SWOK {
		return nil
	}
	if n, ok := s.TriesLeft(); ok {
		return &PINError{TriesLeft: n, Blocked: n == 0}
	}
	if s == iso7816.SWAuthBlocked {
		return &PINError{Blocked: true}
	}
	return s.Err("VERIFY PIN")
}
