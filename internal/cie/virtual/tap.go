package virtual

import (
	"bytes"
	"context"
	"time"

	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/iso7816"
)

// Tap reads the card as a kiosk does for a tap the hub checks: the
// level-1 files and the chip's answer to cie.TapChallenge(device, nonce,
// at), over the same APDUs a real reader sends. Tests and the demo use it
// to make requester evidence the hub verifies like a real card's.
func (c *Card) Tap(ctx context.Context, device string, nonce []byte, at time.Time) (*cie.Card, error) {
	c.Reset()
	return cie.Collect(ctx, iso7816.NewChannel(c), bytes.NewReader(cie.TapChallenge(device, nonce, at)))
}
