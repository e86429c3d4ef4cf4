package staff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/sportello/sportello/internal/protocol"
)

// Service runs the console's operations on staff accounts and sessions,
// each in transactions of Store, with an injected clock: on a database
// shared by several hubs a session opened on one is valid on all, and
// failed log-ins count on every hub.
type Service struct {
	Store    Runner
	Now      func() time.Time
	Rand     io.Reader // tokens and salts; crypto/rand when nil
	Throttle Throttle
	// Gate bounds the password checks running at once (DefaultGate).
	Gate *Gate
}

// NewService is the service on r with the default throttle and gate.
func NewService(r Runner, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{Store: r, Now: now, Throttle: DefaultThrottle, Gate: DefaultGate()}
}

var bg = context.Background()

// Add stores a new account (Tx.AddAccount).
func (s *Service) Add(a *Account, replace bool) error {
	return s.Store.Update(bg, func(tx Tx) error { return tx.AddAccount(a, replace) })
}

// Account returns one account.
func (s *Service) Account(user string) (a *Account, err error) {
	err = s.Store.View(bg, func(tx Tx) error { a, err = tx.Account(user); return err })
	return a, err
}

// Accounts lists the accounts.
func (s *Service) Accounts() (as []*Account, err error) {
	err = s.Store.View(bg, func(tx Tx) error { as, err = tx.Accounts(); return err })
	return as, err
}

// Update changes an account in one transaction.
func (s *Service) Update(user string, fn func(*Account) error) error {
	return s.Store.Update(bg, func(tx Tx) error {
		a, err := tx.Account(user)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		return tx.PutAccount(a)
	})
}

// Change applies an administrator's change to user's account (see
// Account's Disable, Enable and ResetPassword) and ends its sessions, so a
// disabled account or a replaced password locks out a browser signed in
// before. It clears the account's failed log-ins: an administrator who
// enables an account or sets its password lifts its lock-outs. Disabling
// the last enabled admin is refused: nobody could manage staff any more.
func (s *Service) Change(user string, fn func(*Account) error) (*Account, error) {
	var a *Account
	err := s.Store.Update(bg, func(tx Tx) error {
		// Every account is read (and, on a shared database, locked)
		// first, so two admins disabled at once on two hubs cannot both
		// pass the last-admin check.
		all, err := tx.Accounts()
		if err != nil {
			return err
		}
		if a, err = tx.Account(user); err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
		if a.Disabled && a.Role == Admin {
			left := 0
			for _, o := range all {
				if o.Role == Admin && !o.Disabled && o.User != a.User {
					left++
				}
			}
			if left == 0 {
				return fmt.Errorf("%w: %q is the last enabled admin; enable or add another admin first", ErrInvalid, a.User)
			}
		}
		if err := tx.PutAccount(a); err != nil {
			return err
		}
		if err := tx.ClearTallies(user); err != nil {
			return err
		}
		return tx.EndSessions(user)
	})
	return a, err
}

// Attempt is one log-in, or one confirmation of the password (and code)
// of a signed-in staff member: what was typed, and from where.
type Attempt struct {
	User, Password, Code string
	From                 netip.Addr // the client's address; see SourceOf
}

// Login checks an attempt and, on success, opens a session: it returns the
// cookie token. See attempt for how guessing is bounded.
func (s *Service) Login(ctx context.Context, at Attempt) (token string, sess *Session, a *Account, err error) {
	a, err = s.attempt(ctx, at, func(tx Tx, a *Account, now time.Time) error {
		token, sess, err = NewSession(s.Rand, a.User, now)
		if err != nil {
			return err
		}
		return tx.PutSession(token, sess)
	})
	if err != nil {
		return "", nil, a, err
	}
	return token, sess, a, nil
}

// Reauth checks a signed-in staff member's password (and current code,
// when they have codes) before a change to how they sign in, and applies
// change in the same transaction as the success. Wrong passwords count
// against the same limits as log-ins: a stolen session is no oracle for
// guessing the password.
func (s *Service) Reauth(ctx context.Context, at Attempt, change func(*Account) error) error {
	_, err := s.attempt(ctx, at, func(_ Tx, a *Account, _ time.Time) error { return change(a) })
	return err
}

// attempt runs one password check against the throttle (Throttle):
//
//  1. In one write transaction it checks the limits and counts the attempt
//     as failed before anything else: concurrent attempts therefore see
//     each other, and a burst gets at most Max checks, not one each. (The
//     count was once read before and written after the hash, outside any
//     transaction: 39 guesses fired at once were all checked against a
//     limit of 5, and the right one among them signed in.)
//  2. It hashes the password outside any transaction, through the Gate, so
//     a log-in never holds a write transaction for the length of argon2id
//     and never more than a few run at once. An unknown user name is
//     checked against DummyHash: the same work, the same writes and the
//     same answer as a wrong password.
//  3. In a second write transaction it decides against the account as it
//     is by then (a password reset or a used code meanwhile counts), turns
//     the reservation into a failure or gives it back, and on success
//     calls done with the account before storing it.
func (s *Service) attempt(ctx context.Context, at Attempt, done func(tx Tx, a *Account, now time.Time) error) (*Account, error) {
	now := s.Now()
	source := SourceOf(at.From)
	var snap *Account
	err := s.Store.Update(ctx, func(tx Tx) error {
		t, err := tx.Tallies(at.User, source, now)
		if err != nil {
			return err
		}
		a, err := tx.Account(at.User)
		switch {
		case err == nil:
			snap = a
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if err := s.Throttle.Check(t, knownOf(snap), source, now); err != nil {
			return err
		}
		s.Throttle.Reserve(&t, now)
		return tx.PutTallies(at.User, source, t)
	})
	if err != nil {
		return nil, err
	}
	hash := DummyHash
	if snap != nil {
		hash = snap.PasswordHash
	}
	ok, err := s.Gate.Check(ctx, hash, at.Password)
	if errors.Is(err, ErrBusy) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// Never checked: the attempt is not held against anyone. The
		// caller's context may be over, so the release does not use it.
		rerr := s.Store.Update(bg, func(tx Tx) error {
			t, err := tx.Tallies(at.User, source, now)
			if err != nil {
				return err
			}
			s.Throttle.Release(&t, now)
			return tx.PutTallies(at.User, source, t)
		})
		if rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	if err != nil {
		return nil, err // a damaged stored hash: the reservation stays, as a failure would
	}
	var verdict error
	var cur *Account
	err = s.Store.Update(bg, func(tx Tx) error {
		verdict = ErrBadLogin
		t, err := tx.Tallies(at.User, source, now)
		if err != nil {
			return err
		}
		cur, err = tx.Account(at.User)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if snap != nil && cur != nil && cur.PasswordHash == snap.PasswordHash {
			verdict = cur.Admit(ok, at.Code, now, source)
		}
		if verdict != nil {
			s.Throttle.Fail(&t, now)
			if lerr := s.Throttle.Check(t, knownOf(cur), source, now); lerr != nil {
				verdict = lerr // this failure reached a limit: say so now
			}
			return tx.PutTallies(at.User, source, t)
		}
		s.Throttle.Succeed(&t, now)
		if err := tx.PutTallies(at.User, source, t); err != nil {
			return err
		}
		if err := done(tx, cur, now); err != nil {
			return err
		}
		return tx.PutAccount(cur)
	})
	if err != nil {
		return nil, err
	}
	if verdict != nil {
		return nil, verdict
	}
	return cur, nil
}

// knownOf is the sources the account-wide limit spares: a's recent ones,
// none for an unknown user name (nil a).
func knownOf(a *Account) []string {
	if a == nil {
		return nil
	}
	return a.Sources
}

// Session returns the live session of token and its account, and marks it
// seen (at most once a minute, to spare the store a write per page).
func (s *Service) Session(token string) (*Session, *Account, error) {
	now := s.Now()
	var sess *Session
	var a *Account
	var stale bool
	err := s.Store.View(bg, func(tx Tx) error {
		var err error
		if sess, err = tx.Session(token); err != nil {
			return err
		}
		if !sess.Live(now) {
			return ErrNoSession
		}
		stale = now.Sub(sess.LastSeen) > time.Minute
		a, err = tx.Account(sess.User)
		if err != nil || a.Disabled {
			return ErrNoSession
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if stale {
		sess.LastSeen = now.UTC()
		err := s.Store.Update(bg, func(tx Tx) error {
			// Ended meanwhile (a log-out, on this hub or another): not
			// brought back.
			if _, err := tx.Session(token); err != nil {
				return err
			}
			return tx.PutSession(token, sess)
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return sess, a, nil
}

// Logout ends the session of token.
func (s *Service) Logout(token string) error {
	return s.Store.Update(bg, func(tx Tx) error { return tx.DeleteSession(token) })
}

// PurgeSessions deletes sessions no longer live and returns how many; it
// also drops failed-log-in tallies that hold nothing any more, so user
// names tried once do not pile up.
func (s *Service) PurgeSessions() (n int, err error) {
	now := s.Now()
	err = s.Store.Update(bg, func(tx Tx) error {
		if n, err = tx.PurgeSessions(now); err != nil {
			return err
		}
		return tx.PurgeTallies(s.Throttle, now)
	})
	return n, err
}

// Count adds one to the day's counter of kind and reason (a reason is cut
// at 64 bytes).
func (s *Service) Count(at time.Time, kind, reason string) error {
	if len(reason) > 64 {
		reason = reason[:64]
	}
	fn := func(tx Tx) error { return tx.Count(protocol.DayOf(at), kind, reason) }
	// A burst of refusals shares commits where the store can group them.
	if b, ok := s.Store.(interface {
		Batch(context.Context, func(Tx) error) error
	}); ok {
		return b.Batch(bg, fn)
	}
	return s.Store.Update(bg, fn)
}

// Events returns the counters of days from to to inclusive.
func (s *Service) Events(from, to protocol.Day) (out []EventCount, err error) {
	err = s.Store.View(bg, func(tx Tx) error { out, err = tx.Events(from, to); return err })
	return out, err
}
