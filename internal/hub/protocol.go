package hub

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

// RecoverProtocol annuls the protocol numbers a stopped hub left reserved
// without an entry (protocol.Numbering.Recover); the store records each
// annulment in the audit log in the transaction that writes it, so numbers
// annulled when nobody is at a console still show in the log staff and the
// DPO read, and a crash cannot leave one without the other.
func (h *Hub) RecoverProtocol(ctx context.Context) error {
	return RecoverProtocol(ctx, h.cfg.Stores, h.now, h.log)
}

// RecoverProtocol is Hub.RecoverProtocol on a store with no hub built (hub
// protocol commands); through an anchoring store (store.Anchoring) the
// entries recorded are anchored. log (nil: none) hears of each annulment.
func RecoverProtocol(ctx context.Context, st store.Store, now func() time.Time, log *slog.Logger) error {
	annulled, err := st.Numbering().Recover(ctx, now())
	if err != nil {
		return fmt.Errorf("the protocol register could not be checked for unregistered numbers: %w", err)
	}
	for _, e := range annulled {
		if log != nil {
			log.Warn("protocol number annulled: it was handed out and its document was never registered",
				"protocol", e.Number.String(), "reason", e.Reason())
		}
	}
	return nil
}

// protocolRecovery runs the protocol register's recovery every half
// protocol.ReservationTimeout until ctx ends, so that on a database
// several hubs share, the numbers a stopped hub left reserved are annulled
// by the hubs still running, and no number stays open in the register for
// long. On a hub's own file it writes the annulments still waiting.
func (h *Hub) protocolRecovery(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(protocol.ReservationTimeout / 2):
		}
		if err := h.RecoverProtocol(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("protocol recovery", "err", err)
		}
	}
}
