package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// Result is the hub's answer to a delivered operation.
type Result struct {
	Ref  string // the hub's reference (certificate id, protocol number); kept in the tombstone
	Body []byte // the whole answer, passed to OnResult and never stored: it may hold personal data
	// Jobs are the documents to print for it (a certificate, its receipt),
	// put in the outbox's spool in the commit that records the delivery.
	Jobs []Job
	// Keep keeps the operation's payload, sealed as it was queued, beside
	// its tombstone until Release: the hub accepted the operation, but
	// what follows needs the request again and its requester present, as
	// a self-service kiosk's request is collected there with the same card
	// (issue 15, item 5). Purge deletes it with the tombstone.
	Keep bool
}

// Refusal is why an operation left the queue for the operator: a
// permanent refusal by the hub (sending it again would be refused again),
// or, with SetAside, an operation the hub failed on again and again, set
// aside so that it stops holding up the operations behind it.
type Refusal struct {
	Reason  string `json:"reason"`  // machine code, e.g. "not_resident"
	Message string `json:"message"` // sentence for the operator
	// SetAside: the hub did not refuse it; it failed on it SetAsideAfter
	// times in a row. Outbox.Requeue puts it back in the queue.
	SetAside bool `json:"set_aside,omitempty"`
}

func (r *Refusal) Error() string {
	who := "the hub refused the operation"
	if r.SetAside {
		who = "the operation was set aside"
	}
	if r.Message == "" {
		return fmt.Sprintf("%s (%s)", who, r.Reason)
	}
	return fmt.Sprintf("%s: %s (%s)", who, r.Message, r.Reason)
}

// RetryableError is a failure worth trying again: the network, the hub
// unavailable, a 429. Any error a Deliverer returns that is not a *Refusal
// counts as retryable; this type adds the wait the hub asked for, and
// whether the hub failed on this very operation (SetAside).
type RetryableError struct {
	Err   error
	After time.Duration // the hub's Retry-After; 0 when it gave none
	// Reason is the hub's reason code, when it gave one.
	Reason string
	// SetAside: the hub failed on the operation itself (api.SetAside);
	// after SenderOptions.SetAsideAfter such failures in a row the
	// operation is set aside, so that it cannot block the queue.
	SetAside bool
	// Hold: the hub will not hear this device just now (api.Hold): the
	// queue keeps the operation, in order; a sale being made at the
	// counter is refused instead, since it cannot be delivered either.
	Hold bool
	// Cause is the error the answer arrived as (the client's, say, which
	// may say the hub could not be reached), kept in the chain so callers
	// can still tell it with errors.Is and errors.As.
	Cause error
}

func (e *RetryableError) Error() string { return e.Err.Error() }

// Unwrap gives both the description and the cause to errors.Is and As.
func (e *RetryableError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// ClassifyHTTP turns the hub's answer into nil (2xx), a *Refusal (the hub
// decided: the same request will be refused again) or a *RetryableError,
// as api.Decide says: the one table the kiosk's client and flow follow too.
// A request the device may not send just now (api.Hold) stays in the queue,
// in order; one the hub failed on (api.SetAside) is marked so, for the
// Sender to set aside after a few tries. reason and message are the hub's
// refusal body, if any.
func ClassifyHTTP(status int, retryAfter time.Duration, reason, message string) error {
	return ClassifyCause(nil, status, retryAfter, reason, message)
}

// ClassifyCause is ClassifyHTTP keeping cause, the error the hub's answer
// arrived as, in a RetryableError's chain.
func ClassifyCause(cause error, status int, retryAfter time.Duration, reason, message string) error {
	if api.Decide(status, reason) == 0 {
		return nil
	}
	if reason == "" {
		reason = fmt.Sprintf("http_%d", status)
	}
	if message == "" {
		message = http.StatusText(status)
	}
	return classifyRefusal(cause, &api.Refusal{Status: status, Reason: reason, Message: message, RetryAfter: retryAfter})
}

// Classify is what the outbox makes of a Deliverer's error: a *Refusal or
// *RetryableError the deliverer decided on stands; the hub's answer
// (*api.Refusal) in the chain, as the hub client returns it, is decided by
// its Disposition (api.Decide); anything else is worth another try.
func Classify(err error) error {
	var why *Refusal
	var re *RetryableError
	var hub *api.Refusal
	switch {
	case err == nil, errors.As(err, &why), errors.As(err, &re):
		return err
	case errors.As(err, &hub):
		return classifyRefusal(err, hub)
	}
	return err
}

// classifyRefusal is the outbox's error for the hub's answer r, which
// arrived as cause.
func classifyRefusal(cause error, r *api.Refusal) error {
	d := r.Disposition()
	switch d {
	case 0:
		return nil
	case api.Refuse:
		return &Refusal{Reason: r.Reason, Message: r.Message}
	}
	err := fmt.Errorf("the hub answered %d %s: %s (%s)", r.Status, http.StatusText(r.Status), r.Message, r.Reason)
	if d == api.Hold {
		// Not the hub's refusal as the cause: a request held in the
		// queue is no refusal to whoever reads the error (api.Refused).
		cause = nil
	}
	return &RetryableError{Err: err, After: r.RetryAfter, Reason: r.Reason, SetAside: d == api.SetAside, Hold: d == api.Hold, Cause: cause}
}

// Deliverer sends one operation to the hub, with its idempotency key. An
// error carrying the hub's answer (*api.Refusal, as the hub client returns
// it) is decided by the outbox as api.Decide says; a deliverer returns a
// *Refusal or *RetryableError only for what it decides itself (see
// ClassifyHTTP), and any other error is tried again.
type Deliverer interface {
	Deliver(ctx context.Context, e Entry) (Result, error)
}

// DelivererFunc adapts a function to Deliverer.
type DelivererFunc func(ctx context.Context, e Entry) (Result, error)

func (f DelivererFunc) Deliver(ctx context.Context, e Entry) (Result, error) { return f(ctx, e) }

// Outcome reports an operation that left the queue: Entry.State is
// Delivered (with Result) or Refused (with Entry.Refusal).
type Outcome struct {
	Entry  Entry
	Result Result
}

// SenderOptions configures a Sender; zero values take the defaults.
type SenderOptions struct {
	BaseDelay      time.Duration // first retry wait; 1 s
	MaxDelay       time.Duration // longest retry wait; 5 min
	AttemptTimeout time.Duration // per delivery; 30 s
	IdleTick       time.Duration // how often an idle sender compacts, purges and looks again; 1 min
	PurgeEvery     time.Duration // 1 h
	// CompactEvery spaces out the compactions that scrub delivered
	// personal data from the file's free pages; 1 min. Online, every
	// delivery empties the queue, and one compaction per certificate
	// would stall the counter for nothing.
	CompactEvery time.Duration
	Rand         *rand.Rand // jitter source; seeded randomly when nil
	// OnResult is called from the sending goroutine after each outcome is
	// committed, e.g. to print a fulfilled certificate. It should return
	// quickly; the queue waits for it.
	OnResult func(Outcome)
	Logger   *slog.Logger
	// SetAsideAfter is how many times in a row the hub may fail on one
	// operation (a RetryableError with SetAside) before it is set aside
	// for the operator and the next one goes; 3.
	SetAsideAfter int
}

// Sender drains an outbox in order. Only one sender may run per outbox.
type Sender struct {
	o           *Outbox
	d           Deliverer
	opt         SenderOptions
	log         *slog.Logger
	kick        chan struct{}
	mu          sync.Mutex // one Drain at a time
	lastPurge   time.Time
	lastCompact time.Time // zero: the first idle Drain compacts
}

// NewSender returns a sender for o that delivers through d.
func (o *Outbox) NewSender(d Deliverer, opt SenderOptions) *Sender {
	if opt.BaseDelay <= 0 {
		opt.BaseDelay = time.Second
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = 5 * time.Minute
	}
	if opt.MaxDelay < opt.BaseDelay {
		opt.MaxDelay = opt.BaseDelay
	}
	if opt.AttemptTimeout <= 0 {
		opt.AttemptTimeout = 30 * time.Second
	}
	if opt.IdleTick <= 0 {
		opt.IdleTick = time.Minute
	}
	if opt.PurgeEvery <= 0 {
		opt.PurgeEvery = time.Hour
	}
	if opt.CompactEvery <= 0 {
		opt.CompactEvery = time.Minute
	}
	if opt.SetAsideAfter <= 0 {
		opt.SetAsideAfter = 3
	}
	if opt.Rand == nil {
		opt.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	log := opt.Logger
	if log == nil {
		log = o.log
	}
	return &Sender{o: o, d: d, opt: opt, log: log, kick: make(chan struct{}, 1), lastPurge: o.clock.Now()}
}

// Kick ends the current wait, e.g. when the operator presses "retry now" or
// the network comes back; the backoff starts again from BaseDelay.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Drain delivers pending operations in order until none is left, a delivery
// fails with a retryable error (returned), or ctx ends. It returns how many
// operations left the queue. When the queue is empty it also scrubs deleted
// personal data from the file, at most once every CompactEvery.
func (s *Sender) Drain(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		e, ok, err := s.o.head()
		if errors.Is(err, errUnsealed) && ok {
			// Nothing will ever decrypt it; holding it would stop the
			// whole queue, so it goes to the operator like a refusal.
			if err := s.refuse(e, &Refusal{Reason: "undecryptable", Message: err.Error()}); err != nil {
				return n, err
			}
			n++
			continue
		}
		if err != nil {
			return n, err
		}
		if !ok {
			now := s.o.clock.Now()
			if s.o.dirty() && (s.lastCompact.IsZero() || now.Sub(s.lastCompact) >= s.opt.CompactEvery) {
				if err := s.o.Compact(); err != nil {
					s.log.Warn("outbox compaction failed", slog.String("error", err.Error()))
				}
				s.lastCompact = now
			}
			return n, nil
		}
		actx, cancel := context.WithTimeout(ctx, s.opt.AttemptTimeout)
		res, err := s.d.Deliver(actx, e)
		cancel()
		err = Classify(err)
		if err == nil {
			done, err := s.o.delivered(e.ID, res)
			if err != nil {
				return n, err
			}
			n++
			s.log.Debug("outbox delivered", slog.Uint64("id", e.ID), slog.String("kind", e.Kind), slog.String("ref", res.Ref))
			if s.opt.OnResult != nil {
				s.opt.OnResult(Outcome{Entry: done, Result: res})
			}
			continue
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		var why *Refusal
		if errors.As(err, &why) {
			if err := s.refuse(e, why); err != nil {
				return n, err
			}
			n++
			continue
		}
		if ferr := s.o.failed(e.ID, err); ferr != nil {
			return n, ferr
		}
		var re *RetryableError
		if errors.As(err, &re) && re.SetAside && e.Failures+1 >= s.opt.SetAsideAfter {
			// The hub fails on this one and not, as far as we know, on
			// the others: it goes to the operator, the queue goes on.
			why := &Refusal{Reason: re.Reason, SetAside: true,
				Message: fmt.Sprintf("set aside after the hub failed on it %d times in a row: %v", e.Failures+1, re.Err)}
			if err := s.refuse(e, why); err != nil {
				return n, err
			}
			n++
			continue
		}
		return n, err
	}
}

func (s *Sender) refuse(e Entry, why *Refusal) error {
	out, err := s.o.refused(e.ID, why)
	if err != nil {
		return err
	}
	s.log.Info("outbox operation refused", slog.Uint64("id", e.ID), slog.String("kind", e.Kind), slog.String("reason", why.Reason))
	if s.opt.OnResult != nil {
		s.opt.OnResult(Outcome{Entry: out})
	}
	return nil
}

// backoff returns the wait after the n-th consecutive failure (n ≥ 1):
// "equal jitter", half of min(MaxDelay, BaseDelay·2^(n-1)) plus a random
// part up to the other half, so that kiosks cut off together do not all
// come back at the same instant, and never less than the hub's Retry-After.
func (s *Sender) backoff(n int, err error) time.Duration {
	d := s.opt.BaseDelay
	for i := 1; i < n && d < s.opt.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, s.opt.MaxDelay)
	half := d / 2
	wait := half + time.Duration(s.opt.Rand.Int64N(int64(d-half)+1))
	var re *RetryableError
	if errors.As(err, &re) && re.After > wait {
		wait = re.After
	}
	return wait
}

// Run drains the outbox until ctx ends: at once when something is enqueued,
// after a backoff when the hub fails, and every IdleTick otherwise.
func (s *Sender) Run(ctx context.Context) error {
	s.o.sendMu.Lock()
	if s.o.sending {
		s.o.sendMu.Unlock()
		return errors.New("another sender is already draining this outbox; two would deliver out of order")
	}
	s.o.sending = true
	s.o.sendMu.Unlock()
	defer func() {
		s.o.sendMu.Lock()
		s.o.sending = false
		s.o.sendMu.Unlock()
	}()

	failures := 0
	for {
		_, err := s.Drain(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var wait time.Duration
		var wake <-chan struct{}
		if err != nil {
			failures++
			wait = s.backoff(failures, err)
			s.log.Info("outbox delivery failed; will retry", slog.Int("failures", failures),
				slog.Duration("wait", wait), slog.String("error", err.Error()))
		} else {
			failures = 0
			wait = s.opt.IdleTick
			wake = s.o.wake // a new operation is worth trying at once; during a backoff it is not
			if now := s.o.clock.Now(); now.Sub(s.lastPurge) >= s.opt.PurgeEvery {
				if _, err := s.o.Purge(); err != nil {
					s.log.Warn("outbox purge failed", slog.String("error", err.Error()))
				}
				s.lastPurge = now
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.o.clock.After(wait):
		case <-wake:
		case <-s.kick:
			failures = 0
		}
	}
}
