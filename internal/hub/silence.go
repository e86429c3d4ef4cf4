package hub

import (
	"context"
	"time"

	"github.com/sportello/sportello/internal/request"
)

// SilenceEvery is how often a serving hub looks for residence and address
// changes accepted by the office's silence: their term ends at midnight,
// so within the hour after it the registry shows them.
const SilenceEvery = time.Hour

// AssentBySilence accepts, once, every open residence or address change
// whose silence-assent term has passed on the hub's clock
// (requestdesk.Desk.AssentBySilence); hubs sharing a database may run it
// at the same moment.
func (h *Hub) AssentBySilence(ctx context.Context) ([]request.Request, error) {
	if h.API == nil || h.API.Requests == nil {
		return nil, nil
	}
	return h.API.Requests.AssentBySilence(ctx)
}

// silenceAssent runs AssentBySilence at start (a hub that was stopped
// catches up) and every SilenceEvery until ctx ends; each acceptance is
// logged by the desk, failures here, and the next run tries again.
func (h *Hub) silenceAssent(ctx context.Context) {
	for {
		done, err := h.AssentBySilence(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Error("silence-assent run", "err", err, "accepted", len(done))
		} else if len(done) > 0 {
			h.log.Info("silence-assent run", "accepted", len(done))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(SilenceEvery):
		}
	}
}
