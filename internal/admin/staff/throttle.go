package staff

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Throttling password guesses.
//
// One counter per account is what lets an attacker lock a clerk out at
// will: five wrong passwords typed from anywhere and the clerk cannot work.
// One counter per source address alone lets a botnet guess on forever.
// So a failed log-in counts three times, each with its own rule:
//
//   - Pair: the account as tried from one source. This is the tight limit
//     (5 failures), and its lock-outs grow: 15 minutes, then 30, 60, … up
//     to a day, so a guesser at one address gets a few dozen tries a day.
//     It shuts out only that source: the clerk at their desk is not
//     affected by someone guessing from elsewhere.
//   - Source: one address across every user name, known or not, so that
//     trying one password against many accounts ("spraying") is bounded
//     too. A shared office address is why it is looser (20).
//   - Account: every source together, against a botnet that spreads its
//     guesses thinly over many addresses. It is much looser (50 a day) and
//     it shuts out only sources the account has not signed in from
//     recently (Account.Sources): the clerk at their usual address still
//     gets in while the account is under a distributed attack.
//
// An attacker can still shut out their own address, or everyone behind
// it: one who shares the clerk's address is inside the clerk's network,
// where other defences apply. An administrator's change to the account
// (enable, password reset) clears its counters.
//
// A source is an IPv4 address, or an IPv6 /64: a single host usually owns
// a whole /64, so counting its addresses one by one would count nothing.
//
// Unknown user names are counted exactly like real ones, so the answers
// (and lock-outs) do not tell which names exist.

// Rule is one limit: Max failures within Window lock the key out for
// Lock, doubled at each lock-out that follows within Forget of the last
// one, up to MaxLock.
type Rule struct {
	Max     int
	Window  time.Duration
	Lock    time.Duration
	MaxLock time.Duration
	Forget  time.Duration
}

// Throttle is the policy against password guessing; see the comment above.
type Throttle struct {
	Pair, Source, Account Rule
}

// DefaultThrottle: 5 failures per account and source in 15 minutes; 20
// per source across accounts; 50 a day per account across sources.
var DefaultThrottle = Throttle{
	Pair:    Rule{Max: 5, Window: 15 * time.Minute, Lock: 15 * time.Minute, MaxLock: 24 * time.Hour, Forget: 24 * time.Hour},
	Source:  Rule{Max: 20, Window: 15 * time.Minute, Lock: 15 * time.Minute, MaxLock: 24 * time.Hour, Forget: 24 * time.Hour},
	Account: Rule{Max: 50, Window: 24 * time.Hour, Lock: time.Hour, MaxLock: 24 * time.Hour, Forget: 7 * 24 * time.Hour},
}

// Tally is the failure record of one key: a pair, a source or an account.
type Tally struct {
	// Failures are the attempts within the window that have not succeeded:
	// those that failed and those still being checked (see Reserve).
	Failures []time.Time `json:"failures,omitempty"`
	Until    time.Time   `json:"until,omitzero"`  // locked out until then
	Level    int         `json:"level,omitempty"` // lock-outs so far: the next lasts Lock << Level
}

// recent returns the failures within the window around now. Failures
// stamped after now count too: concurrent attempts read the clock before
// they wait for the file's write lock, so one stamped earlier may well be
// checked after others were recorded, and must see them.
func (r Rule) recent(fs []time.Time, now time.Time) []time.Time {
	var out []time.Time
	for _, f := range fs {
		if d := now.Sub(f); d < r.Window && d > -r.Window {
			out = append(out, f)
		}
	}
	return out
}

// LockedUntil reports whether t refuses attempts at now, and until when.
// Attempts still being checked count, so a burst of concurrent guesses
// gets no more checks than Max.
func (r Rule) LockedUntil(t Tally, now time.Time) (time.Time, bool) {
	if now.Before(t.Until) {
		return t.Until, true
	}
	rec := r.recent(t.Failures, now)
	if r.Max <= 0 || len(rec) < r.Max {
		return time.Time{}, false
	}
	// Locked by attempts not yet decided: they will be soon.
	return slices.MinFunc(rec, time.Time.Compare).Add(r.Window), true
}

// Reserve counts an attempt as failed before its password is checked, in
// the same transaction as the check of LockedUntil: concurrent attempts
// then see each other, and the one that succeeds gives its failure back
// (Release).
func (r Rule) Reserve(t *Tally, at time.Time) {
	t.Failures = append(r.recent(t.Failures, at), at.UTC())
}

// Fail confirms a reserved failure: when the failures reach Max, the key
// is locked out for Lock << Level and its count starts again.
func (r Rule) Fail(t *Tally, at time.Time) {
	t.Failures = r.recent(t.Failures, at)
	if r.Max <= 0 || len(t.Failures) < r.Max || at.Before(t.Until) {
		return
	}
	if !t.Until.IsZero() && at.Sub(t.Until) > r.Forget {
		t.Level = 0
	}
	d := r.Lock
	for i := 0; i < t.Level && d < r.MaxLock; i++ {
		d *= 2
	}
	t.Until = at.UTC().Add(min(d, r.MaxLock))
	t.Level++
	t.Failures = nil
}

// Release gives back the failure reserved at at by an attempt that
// succeeded or was never checked.
func (r Rule) Release(t *Tally, at time.Time) {
	if i := slices.IndexFunc(t.Failures, func(f time.Time) bool { return f.Equal(at) }); i >= 0 {
		t.Failures = slices.Delete(t.Failures, i, i+1)
	}
}

// Idle reports whether t holds nothing worth keeping at now.
func (r Rule) Idle(t Tally, now time.Time) bool {
	return len(r.recent(t.Failures, now)) == 0 && !now.Before(t.Until) && (t.Level == 0 || now.Sub(t.Until) > r.Forget)
}

// Tallies are the three records one attempt counts against.
type Tallies struct {
	Pair, Source, Account Tally
}

// Check refuses an attempt from source when any of its limits is reached;
// the account-wide one does not apply to the account's usual sources
// (known, from Account.Sources; empty for an unknown user name).
func (th Throttle) Check(t Tallies, known []string, source string, now time.Time) error {
	var until time.Time
	locked := false
	for i, c := range []struct {
		r Rule
		t Tally
	}{{th.Pair, t.Pair}, {th.Source, t.Source}, {th.Account, t.Account}} {
		if i == 2 && slices.Contains(known, source) {
			continue
		}
		if u, ok := c.r.LockedUntil(c.t, now); ok {
			locked = true
			if u.After(until) {
				until = u
			}
		}
	}
	if locked {
		return &LockedError{Until: until}
	}
	return nil
}

// Reserve counts the attempt against all three.
func (th Throttle) Reserve(t *Tallies, at time.Time) {
	th.Pair.Reserve(&t.Pair, at)
	th.Source.Reserve(&t.Source, at)
	th.Account.Reserve(&t.Account, at)
}

// Fail confirms the attempt's failure in all three.
func (th Throttle) Fail(t *Tallies, at time.Time) {
	th.Pair.Fail(&t.Pair, at)
	th.Source.Fail(&t.Source, at)
	th.Account.Fail(&t.Account, at)
}

// Release gives the attempt's reservation back, when it was never checked.
func (th Throttle) Release(t *Tallies, at time.Time) {
	th.Pair.Release(&t.Pair, at)
	th.Source.Release(&t.Source, at)
	th.Account.Release(&t.Account, at)
}

// Succeed records a successful log-in: the pair starts afresh, since the
// person at that source knows the password; the source and the account
// only get this attempt back, so one success does not wipe the count of a
// guesser elsewhere (or of one spraying from a shared address).
func (th Throttle) Succeed(t *Tallies, at time.Time) {
	t.Pair = Tally{}
	th.Source.Release(&t.Source, at)
	th.Account.Release(&t.Account, at)
}

// maxSources is how many recent sources an account remembers.
const maxSources = 4

// SourceOf is the source an address counts as: the address itself for
// IPv4, its /64 for IPv6; "unknown" for the zero Addr.
func SourceOf(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4():
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// rememberSource puts source first among the account's recent sources.
func (a *Account) rememberSource(source string) {
	s := slices.DeleteFunc(slices.Clone(a.Sources), func(x string) bool { return x == source })
	a.Sources = append([]string{source}, s...)
	if len(a.Sources) > maxSources {
		a.Sources = a.Sources[:maxSources]
	}
}

// LockedError says until when log-ins are refused.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed log-ins: log-ins are refused until %s", e.Until.Format("15:04"))
}

func (e *LockedError) Unwrap() error { return ErrLocked }
