package cie

import (
	"crypto/sha256"
	"time"
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
