package hub

import (
	"context"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
)

// wireNotices puts the queue under the desk when a channel is on; with
// none it says so and nothing is queued.
func (h *Hub) wireNotices() {
	if len(h.cfg.Notifiers) == 0 {
		h.log.Info("citizen notifications are off: give --appio-url with --appio-key-file, or --smtp-addr with --smtp-from, to notify subjects of certificates issued at a household member's request")
		return
	}
	// The queue is the hub's store's: on a database several hubs share,
	// each delivery is claimed by one sender (notify.Store.Claim).
	q := store.NoticesOf(h.cfg.Stores)
	// issuance.QueueNotices queues in the issuing transaction; the hub's
	// store wakes the sender once it commits (store.Waker).
	h.Desk.Notices = issuance.QueueNotices{Now: h.now}
	for _, n := range h.cfg.Notifiers {
		h.Channels = append(h.Channels, n.Channel())
	}
	h.notices = &q
	h.log.Info("citizen notifications on", "channels", strings.Join(h.Channels, ","))
}

// runNotices delivers the queued notices until ctx ends.
func (h *Hub) runNotices(ctx context.Context) {
	if h.notices == nil {
		return
	}
	q := *h.notices
	s := &notify.Sender{Queue: q, Notifiers: h.cfg.Notifiers, Now: h.now, Log: h.log, Base: h.cfg.NotifyRetry}
	var wake <-chan struct{} // nil: the sender polls at its next due time only
	st := h.cfg.Stores
	if a, ok := st.(*store.Anchoring); ok {
		st = a.Store // the anchoring wrapper does not say when notices commit
	}
	if w, ok := st.(store.Waker); ok {
		wake = w.NoticeWake()
	}
	channels := h.Channels
	s.Run(ctx, wake, func() (time.Time, bool) {
		at, ok, err := q.Next(channels)
		return at, ok && err == nil
	})
}

// ReminderSources are the scheduled reminders the daily scan looks for;
// bookURL is where a citizen books an appointment. Domains with reminders
// due on a date (appointments the day before) add theirs here.
func ReminderSources(bookURL string) []reminder.Source[store.Tx] {
	return []reminder.Source[store.Tx]{reminder.CIEExpiringSource[store.Tx](bookURL), reminder.AppointmentsTomorrowSource[store.Tx]}
}

// runReminders runs the daily scan of scheduled reminders on the hub's
// store until ctx ends: at once (a hub that was stopped catches up) and
// then every morning; what it queues the sender delivers. It runs only
// while there is a channel to send them on, so a reminder of an
// appointment tomorrow is not queued to go out weeks late.
func (h *Hub) runReminders(ctx context.Context) {
	if h.notices == nil || !h.cfg.Reminders {
		return
	}
	s := &reminder.Scan[store.Tx]{Store: h.cfg.Stores, Sources: ReminderSources(h.Desk.PublicURL), Now: h.now, Log: h.log}
	s.Run(ctx)
}
