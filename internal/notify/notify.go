// Package notify tells citizens when a certificate about them was issued at
// someone else's request: one Notifier interface with one implementation
// per channel (notify/appio for the App IO REST API, notify/mail for e-mail
// over SMTP), a durable queue whose items are written in the transaction
// that issues the certificate (notify/notifybolt), and a Sender that
// delivers them with retries.
//
// Delivery is exactly once per channel except in one window, kept as small
// as it can be: between the server accepting a message and the queue
// recording that it did (one bbolt commit). A hub that stops inside that
// window finds the delivery marked "sending" at its next start and sends it
// again, since a message lost is worse than a message sent twice; it logs
// that it may be a duplicate. Outside that window a delivery the server
// accepted is never sent again, and one it did not accept is never dropped.
//
// Several hubs on one database run a sender each on one queue. A sender
// claims a delivery before sending it (Claimer: the mark "sending" is
// stored only if the delivery is still as the sender read it), so two
// senders never send it both; the claim is a lease (NextAt) that another
// hub's sender takes over once it has passed, when the claiming hub stopped.
//
// This package knows nothing of HTTP, SMTP or storage.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one notification to one citizen.
type Message struct {
	CF    string `json:"cf"`              // the recipient's codice fiscale (App IO addresses by it)
	Email string `json:"email,omitempty"` // the recipient's e-mail from the registry, if it holds one
	// Subject is 10–120 characters and Markdown 80–10,000: App IO's limits,
	// which the e-mail follows too so both say the same.
	Subject  string `json:"subject"`
	Markdown string `json:"markdown"`
}

// Limits of App IO's MessageContent.
const (
	SubjectMin, SubjectMax   = 10, 120
	MarkdownMin, MarkdownMax = 80, 10000
)

// Validate checks the message against the limits every channel accepts.
func (m Message) Validate() error {
	if n := utf8.RuneCountInString(m.Subject); n < SubjectMin || n > SubjectMax {
		return fmt.Errorf("the subject has %d characters; it must have %d to %d", n, SubjectMin, SubjectMax)
	}
	if n := utf8.RuneCountInString(m.Markdown); n < MarkdownMin || n > MarkdownMax {
		return fmt.Errorf("the text has %d characters; it must have %d to %d", n, MarkdownMin, MarkdownMax)
	}
	if strings.TrimSpace(m.CF) == "" {
		return errors.New("the message has no recipient codice fiscale")
	}
	return nil
}

// Receipt is what a server answered when it accepted a message: App IO's
// message id, or the SMTP server's reply to the end of the data.
type Receipt struct {
	ID string
}

// Notifier delivers a message through one channel. Send returns a Receipt
// only once the server has accepted the message; otherwise one of:
// ErrNoRecipient (the citizen cannot be reached this way: not on App IO,
// the service not allowed, no e-mail address), a *Refused with Permanent
// set (the server refused the message as it is: sending it again cannot
// help), or any other error, which is retried.
type Notifier interface {
	// Channel names the channel in the queue and in staff's lists:
	// "appio", "email". It must not change between hub starts.
	Channel() string
	Send(ctx context.Context, m Message) (Receipt, error)
}

// ErrNoRecipient means the citizen cannot be reached on this channel.
var ErrNoRecipient = errors.New("the citizen cannot be reached on this channel")

// Refused is a server's refusal of a message.
type Refused struct {
	Permanent bool
	Code      int // HTTP status or SMTP reply code
	// RetryAfter is the wait the server asked for (HTTP 429 Retry-After);
	// zero when it said nothing.
	RetryAfter time.Duration
	Message    string
}

func (r *Refused) Error() string {
	kind := "temporarily"
	if r.Permanent {
		kind = "permanently"
	}
	return fmt.Sprintf("the server refused the message %s (%d): %s", kind, r.Code, r.Message)
}

// State is where a delivery on one channel stands.
type State string

const (
	Pending State = "pending" // not yet accepted; due at NextAt
	// Sending is recorded just before a send and replaced as soon as it
	// ends: found at start, it means the hub stopped mid-send.
	Sending State = "sending"
	Sent    State = "sent"    // the server accepted it; never sent again
	Skipped State = "skipped" // the citizen has no address on this channel
	Failed  State = "failed"  // refused permanently; shown to staff, not retried
)

// Delivery is one item's progress on one channel.
type Delivery struct {
	State     State     `json:"state"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at,omitzero"`
	Receipt   string    `json:"receipt,omitempty"`
	SentAt    time.Time `json:"sent_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
}

// MaxClockSkew is how far the clocks of the hubs sharing a database may
// disagree (NTP keeps them within a second; this bounds a broken one). A
// lease is set by the clock of the hub that claims it and read by the
// clocks of the others: a hub whose clock is ahead must not take over a
// lease still held, which would send the notification twice.
const MaxClockSkew = 5 * time.Minute

// DueAt is when the delivery is next due: NextAt, or for a Sending one,
// whose NextAt is a lease another hub's clock may have set, MaxClockSkew
// after it.
func (d Delivery) DueAt() time.Time {
	if d.State == Sending {
		return d.NextAt.Add(MaxClockSkew)
	}
	return d.NextAt
}

// Done reports whether the delivery needs nothing more.
func (d Delivery) Done() bool { return d.State == Sent || d.State == Skipped || d.State == Failed }

// Item is one queued notification and its deliveries.
type Item struct {
	// ID is what the notification is about (the certificate id), so a
	// certificate is never notified twice whatever enqueues it.
	ID       string    `json:"id"`
	Message  Message   `json:"message"`
	Enqueued time.Time `json:"enqueued"`
	// Expires, when set, is when the message stops being worth sending
	// (an appointment's reminder once the appointment began): a delivery
	// not made by then is skipped, never sent late.
	Expires time.Time `json:"expires,omitzero"`
	// Deliveries by channel; a channel with no entry is pending.
	Deliveries map[string]Delivery `json:"deliveries,omitempty"`
}

// Delivery returns the item's progress on channel.
func (it *Item) Delivery(channel string) Delivery {
	if d, ok := it.Deliveries[channel]; ok {
		return d
	}
	return Delivery{State: Pending}
}

// Queue is the durable list of notifications. Implementations commit each
// Mark before returning.
type Queue interface {
	// Due returns the items with a delivery among channels that is not
	// done and due at now (Sending counts as due: its hub stopped).
	Due(now time.Time, channels []string) ([]Item, error)
	// Mark records channel's delivery of item id.
	Mark(id, channel string, d Delivery) error
	// List returns every item, newest first, for staff.
	List() ([]Item, error)
	// Settle drops the text and the e-mail address of an item whose every
	// delivery is done: what stays (the certificate it was about, the
	// recipient's codice fiscale, each channel's outcome) is what staff
	// need, and a delivered message is not kept twice.
	Settle(id string) error
}

// ErrNotFound is returned by Mark for an unknown item.
var ErrNotFound = errors.New("no such notification")

// Sender delivers the queue's items through its notifiers.
type Sender struct {
	Queue     Queue
	Notifiers []Notifier
	Now       func() time.Time
	Log       *slog.Logger
	// Backoff is the wait before attempt n+1 after n failed (n ≥ 1);
	// Base doubled each time, capped at Max, when nil.
	Base, Max time.Duration
	// Timeout bounds one send (default 30 s).
	Timeout time.Duration
}

func (s *Sender) channels() []string {
	cs := make([]string, len(s.Notifiers))
	for i, n := range s.Notifiers {
		cs[i] = n.Channel()
	}
	return cs
}

// backoff is the wait after the n-th failed attempt.
func (s *Sender) backoff(n int) time.Duration {
	base, max := s.Base, s.Max
	if base <= 0 {
		base = 30 * time.Second
	}
	if max <= 0 {
		max = 6 * time.Hour
	}
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// RunOnce tries every delivery due now, one at a time, and returns how many
// the servers accepted. It stops at the first error of the queue itself.
func (s *Sender) RunOnce(ctx context.Context) (int, error) { return s.run(ctx, false) }

// run is RunOnce; early also tries the deliveries still waiting out a
// backoff, as the hub does once when it starts: a restart is when staff
// have fixed what made deliveries fail.
func (s *Sender) run(ctx context.Context, early bool) (int, error) {
	due := s.Now()
	if early {
		due = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	items, err := s.Queue.Due(due, s.channels())
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, it := range items {
		done := true
		for _, n := range s.Notifiers {
			if err := ctx.Err(); err != nil {
				return sent, err
			}
			ok, err := s.deliver(ctx, &it, n, early)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
			done = done && it.Delivery(n.Channel()).Done()
		}
		if done {
			if err := s.Queue.Settle(it.ID); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

// deliver sends it on n's channel if that delivery is due. The Sending mark
// is committed before the send and replaced right after it: the window in
// the package comment.
func (s *Sender) deliver(ctx context.Context, it *Item, n Notifier, early bool) (bool, error) {
	ch := n.Channel()
	d := it.Delivery(ch)
	now := s.Now()
	// Not yet due: a pending one waiting out its backoff (the first run
	// after a start tries those all the same), or one a sender holds the
	// lease of — even on that first run, since on a shared database the
	// sender may be another hub's, sending it now.
	if d.Done() || (d.DueAt().After(now) && (!early || d.State == Sending)) {
		return false, nil
	}
	if !it.Expires.IsZero() && !now.Before(it.Expires) {
		return false, s.expire(it, ch, d)
	}
	if d.State == Sending {
		s.logger().Warn("a notification was being sent when the hub stopped: sending it again, the citizen may receive it twice",
			"id", it.ID, "channel", ch)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	seen := d
	// The lease outlasts the send by a minute: a hub still sending is
	// not taken over by another.
	d.State, d.Attempts, d.NextAt = Sending, d.Attempts+1, now.Add(timeout+time.Minute)
	if c, ok := s.Queue.(Claimer); ok {
		won, err := c.Claim(it.ID, ch, seen, d)
		if err != nil || !won {
			return false, err // another hub's sender has it
		}
	} else if err := s.Queue.Mark(it.ID, ch, d); err != nil {
		return false, err
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	rc, err := n.Send(sctx, it.Message)
	cancel()
	now = s.Now()
	var ref *Refused
	switch {
	case err == nil:
		d.State, d.Receipt, d.SentAt, d.LastError, d.NextAt = Sent, rc.ID, now, "", time.Time{}
	case errors.Is(err, ErrNoRecipient):
		d.State, d.LastError, d.NextAt = Skipped, err.Error(), time.Time{}
	case errors.As(err, &ref) && ref.Permanent:
		d.State, d.LastError, d.NextAt = Failed, err.Error(), time.Time{}
		s.logger().Error("a notification was refused for good; staff see it in hub notify list", "id", it.ID, "channel", ch, "err", err)
	default:
		wait := s.backoff(d.Attempts)
		if ref != nil && ref.RetryAfter > wait {
			wait = ref.RetryAfter
		}
		d.State, d.LastError, d.NextAt = Pending, err.Error(), now.Add(wait)
		s.logger().Warn("a notification could not be delivered; it stays queued", "id", it.ID, "channel", ch, "attempt", d.Attempts, "retry_at", d.NextAt, "err", err)
	}
	if it.Deliveries == nil {
		it.Deliveries = map[string]Delivery{}
	}
	it.Deliveries[ch] = d
	if err := s.Queue.Mark(it.ID, ch, d); err != nil {
		return false, fmt.Errorf("notification %s on %s ended as %s but that could not be recorded: %w", it.ID, ch, d.State, err)
	}
	return d.State == Sent, nil
}

// ExpiredNote is what a delivery skipped past the item's Expires records.
const ExpiredNote = "not sent: past the time it was useful"

// expire records d, due past it's Expires, as skipped; on a shared queue
// only if no other sender changed it meanwhile.
func (s *Sender) expire(it *Item, ch string, d Delivery) error {
	seen := d
	d.State, d.LastError, d.NextAt = Skipped, ExpiredNote, time.Time{}
	if c, ok := s.Queue.(Claimer); ok {
		if won, err := c.Claim(it.ID, ch, seen, d); err != nil || !won {
			return err
		}
	} else if err := s.Queue.Mark(it.ID, ch, d); err != nil {
		return err
	}
	if it.Deliveries == nil {
		it.Deliveries = map[string]Delivery{}
	}
	it.Deliveries[ch] = d
	s.logger().Info("a notification expired before it could be sent", "id", it.ID, "channel", ch, "expires", it.Expires)
	return nil
}

// logger is Log, or a logger that discards when it is nil.
func (s *Sender) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Run delivers until ctx ends: every delivery not done at once (backoffs
// included), then those due whenever wake fires or the next retry is due
// (next tells when; it may be nil for "only on wake").
func (s *Sender) Run(ctx context.Context, wake <-chan struct{}, next func() (time.Time, bool)) {
	for early := true; ; early = false {
		wait := time.Minute
		if _, err := s.run(ctx, early); err != nil && ctx.Err() == nil {
			s.logger().Error("the notification queue cannot be read or written; trying again in a minute", "err", err)
		} else if next != nil {
			if at, ok := next(); ok {
				wait = max(at.Sub(s.Now()), 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}
