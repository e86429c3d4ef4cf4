// Package stafftest is the suite every backend's staff.Tx must pass
// (store.Tx.Staff), run through staff.Service as the console uses it, so
// that PostgreSQL behaves as bbolt does: log-in limits under concurrent
// attempts, sessions, account changes, the daily counters, and two hubs on
// one database sharing sessions and limits.
//
// A backend's test calls Run with a function that opens a new, empty hub
// store (closed by the test's cleanup) and one that opens a second
// store.Store on the same data, as a second hub on one database does (a
// backend of one process returns the store it is given).
package stafftest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
)

type (
	Store      = staff.Service
	Attempt    = staff.Attempt
	EventCount = staff.EventCount
	suite      struct {
		open func(t *testing.T) store.Store
		twin func(t *testing.T, s store.Store) store.Store
	}
)

const (
	EventRefused       = staff.EventRefused
	EventVerifyUnknown = staff.EventVerifyUnknown
)

// service is the console's operations on s with the clock *now.
func service(s store.Store, now *time.Time) *Store {
	return staff.NewService(store.Domain(s, store.Tx.Staff), func() time.Time { return *now })
}

// open is the service on a new hub store.
func (x suite) open1(t *testing.T, now *time.Time) *Store { return service(x.open(t), now) }

// addAccount adds user with role and the password "una-password-lunga".
func addAccount(t *testing.T, s *Store, user string, role staff.Role, at time.Time) {
	t.Helper()
	a, err := staff.NewAccount(nil, user, "", role, "una-password-lunga", at, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(a, false); err != nil {
		t.Fatal(err)
	}
}

// Run runs the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store, twin func(t *testing.T, s store.Store) store.Store) {
	x := suite{open, twin}
	t.Run("LoginSessionLockout", x.tLoginSessionLockout)
	t.Run("BurstIsCountedInOneTransaction", x.tBurstIsCountedInOneTransaction)
	t.Run("OutOfOrderAttemptsCount", x.tOutOfOrderAttemptsCount)
	t.Run("RightPasswordInsideBurst", x.tRightPasswordInsideBurst)
	t.Run("StrangerCannotLockOutClerk", x.tStrangerCannotLockOutClerk)
	t.Run("UnknownUserAnswersLikeWrongPassword", x.tUnknownUserAnswersLikeWrongPassword)
	t.Run("LoginBusy", x.tLoginBusy)
	t.Run("ConcurrentChecksBounded", x.tConcurrentChecksBounded)
	t.Run("AdminClearsLockoutAndReauth", x.tAdminClearsLockoutAndReauth)
	t.Run("Events", x.tEvents)
	t.Run("LastAdminStays", x.tLastAdminStays)
	t.Run("ChangeEndsSessions", x.tChangeEndsSessions)
	t.Run("TxReadsAndWrites", x.tTx)
	t.Run("ViewRefusesWrites", x.tView)
	t.Run("TwoHubs", x.tTwoHubs)
	t.Run("TwoHubsClocksDiffer", x.tTwoHubsClocksDiffer)
}

var (
	desk     = netip.MustParseAddr("192.0.2.10")   // the clerk's usual address
	attacker = netip.MustParseAddr("198.51.100.7") // someone else's
)

func login(s *Store, user, password string, from netip.Addr) (string, *staff.Session, error) {
	tok, sess, _, err := s.Login(context.Background(), Attempt{User: user, Password: password, From: from})
	return tok, sess, err
}

func (x suite) tLoginSessionLockout(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	a, err := staff.NewAccount(nil, "anna", "Anna Bianchi", staff.Admin, "a long enough pass", now, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(a, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(a, false); !errors.Is(err, staff.ErrExists) {
		t.Fatalf("second add: %v", err)
	}
	if _, _, err := login(s, "nobody", "a long enough pass", desk); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("unknown user: %v", err)
	}
	tok, sess, err := login(s, "anna", "a long enough pass", desk)
	if err != nil {
		t.Fatal(err)
	}
	got, acc, err := s.Session(tok)
	if err != nil || got.CSRF != sess.CSRF || acc.User != "anna" {
		t.Fatalf("session: %v %+v", err, got)
	}
	if _, _, err := s.Session(tok + "x"); !errors.Is(err, staff.ErrNoSession) {
		t.Fatalf("forged token: %v", err)
	}
	now = now.Add(31 * time.Minute)
	if _, _, err := s.Session(tok); !errors.Is(err, staff.ErrNoSession) {
		t.Fatalf("idle session: %v", err)
	}
	if n, err := s.PurgeSessions(); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}

	for i := range 5 {
		now = now.Add(time.Minute)
		_, _, err = login(s, "anna", "wrong password", desk)
		if i < 4 && !errors.Is(err, staff.ErrBadLogin) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("fifth failure: %v", err)
	}
	if _, _, err := login(s, "anna", "a long enough pass", desk); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("locked account let in: %v", err)
	}
	now = now.Add(15 * time.Minute)
	tok, _, err = login(s, "anna", "a long enough pass", desk)
	if err != nil {
		t.Fatalf("after lock-out: %v", err)
	}
	if err := s.Logout(tok); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(tok); !errors.Is(err, staff.ErrNoSession) {
		t.Fatalf("after log-out: %v", err)
	}
}

// countChecks makes s's gate count the password checks that start.
func countChecks(s *Store) *atomic.Int32 {
	var n atomic.Int32
	s.Gate.OnRun = func(d int) {
		if d > 0 {
			n.Add(1)
		}
	}
	return &n
}

// A burst of wrong guesses fired at once gets 5 checks, not one each, and
// the right password after it is refused: the failure count is read and
// written in the transaction that lets an attempt through.
func (x suite) tBurstIsCountedInOneTransaction(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now) // the clock stands still: every guess at the same instant
	addAccount(t, s, "anna", staff.Clerk, now)
	checks := countChecks(s)
	const burst = 40
	var wg sync.WaitGroup
	errs := make(chan error, burst)
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := login(s, "anna", "a wrong guess, again", attacker)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	locked := 0
	for err := range errs {
		switch {
		case errors.Is(err, staff.ErrLocked):
			locked++
		case !errors.Is(err, staff.ErrBadLogin):
			t.Errorf("a guess: %v", err)
		}
	}
	if n := checks.Load(); n != int32(s.Throttle.Pair.Max) {
		t.Errorf("%d of %d guesses fired at once were checked, want %d", n, burst, s.Throttle.Pair.Max)
	}
	if locked < burst-s.Throttle.Pair.Max {
		t.Errorf("%d guesses refused as locked, want at least %d", locked, burst-s.Throttle.Pair.Max)
	}
	if _, _, err := login(s, "anna", "una-password-lunga", attacker); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("the right password after the burst: %v, want locked", err)
	}
}

// Concurrent attempts take their time before they take the file's write
// lock, so the transactions may see their timestamps out of order: an
// attempt stamped earlier than failures already recorded must count them.
// (Here each attempt's clock reads a second earlier than the last.)
func (x suite) tOutOfOrderAttemptsCount(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	addAccount(t, s, "anna", staff.Clerk, now)
	back := now
	s.Now = func() time.Time { back = back.Add(-time.Second); return back }
	for range 10 {
		login(s, "anna", "a wrong guess, again", attacker)
	}
	if _, _, err := login(s, "anna", "una-password-lunga", attacker); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("the right password after 10 guesses stamped out of order: %v, want locked", err)
	}
}

// The right password arriving while 5 guesses are still being checked is
// refused without a check: attempts in flight count.
func (x suite) tRightPasswordInsideBurst(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	addAccount(t, s, "anna", staff.Clerk, now)
	s.Gate = staff.NewGate(8, 8)
	inside := make(chan struct{}, 8)
	release := make(chan struct{})
	var checks atomic.Int32
	s.Gate.OnRun = func(d int) {
		if d > 0 && checks.Add(1) <= 5 {
			inside <- struct{}{}
			<-release // hold the guess in its check
		}
	}
	errs := make(chan error, 5)
	for range 5 {
		go func() { _, _, err := login(s, "anna", "a wrong guess, again", attacker); errs <- err }()
	}
	for range 5 {
		<-inside
	}
	_, _, err := login(s, "anna", "una-password-lunga", attacker)
	close(release)
	if !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("the right password while 5 guesses are in flight: %v, want locked", err)
	}
	for range 5 {
		<-errs
	}
	if n := checks.Load(); n != 5 {
		t.Errorf("%d checks, want the 5 guesses only", n)
	}
	if _, _, err := login(s, "anna", "una-password-lunga", attacker); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("the right password after the guesses failed: %v, want locked", err)
	}
}

// Guessing from elsewhere does not lock the clerk out: not from one
// address, nor from many (the account-wide limit spares the clerk's usual
// address); a source guessing across user names is stopped as a whole.
func (x suite) tStrangerCannotLockOutClerk(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	addAccount(t, s, "anna", staff.Clerk, now)
	addAccount(t, s, "bruno", staff.Clerk, now)
	if _, _, err := login(s, "anna", "una-password-lunga", desk); err != nil { // yesterday, at her desk
		t.Fatal(err)
	}
	now = now.Add(24 * time.Hour)
	for range 12 {
		now = now.Add(time.Second)
		login(s, "anna", "a wrong guess, again", attacker)
	}
	if _, _, err := login(s, "anna", "una-password-lunga", attacker); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("the guessing address: %v, want locked", err)
	}
	if _, _, err := login(s, "anna", "una-password-lunga", desk); err != nil {
		t.Fatalf("the clerk at her desk while another address guesses: %v", err)
	}
	if _, _, err := login(s, "anna", "una-password-lunga", netip.MustParseAddr("192.0.2.77")); err != nil {
		t.Fatalf("the clerk at a new address while one address guesses: %v", err)
	}
	// A botnet: one guess from each of many addresses.
	for i := range s.Throttle.Account.Max {
		login(s, "anna", "a wrong guess, again", netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}))
	}
	if _, _, err := login(s, "anna", "una-password-lunga", netip.MustParseAddr("203.0.113.250")); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("a new address after %d guesses from many: %v, want locked", s.Throttle.Account.Max, err)
	}
	if _, _, err := login(s, "anna", "una-password-lunga", desk); err != nil {
		t.Fatalf("the clerk at her desk during a distributed attack: %v", err)
	}
	// Spraying: one address, one guess per user name, known or not.
	sprayer := netip.MustParseAddr("198.51.100.99")
	for i := range s.Throttle.Source.Max {
		login(s, fmt.Sprintf("user%02d", i), "a wrong guess, again", sprayer)
	}
	if _, _, err := login(s, "bruno", "una-password-lunga", sprayer); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("a sprayer's next guess: %v, want locked", err)
	}
	if _, _, err := login(s, "bruno", "una-password-lunga", desk); err != nil {
		t.Fatalf("bruno at the office: %v", err)
	}
}

// An unknown user name, a wrong password and a disabled account answer
// alike, lock out alike and cost one password check each.
func (x suite) tUnknownUserAnswersLikeWrongPassword(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	addAccount(t, s, "anna", staff.Clerk, now)
	addAccount(t, s, "carla", staff.Clerk, now)
	if _, err := s.Change("carla", func(a *staff.Account) error { return a.Disable(now, "test") }); err != nil {
		t.Fatal(err)
	}
	checks := countChecks(s)
	outcome := func(err error) string {
		var le *staff.LockedError
		switch {
		case errors.As(err, &le):
			return "locked until " + le.Until.Format(time.RFC3339)
		case errors.Is(err, staff.ErrBadLogin), errors.Is(err, staff.ErrDisabled):
			return "failed"
		}
		return fmt.Sprint(err)
	}
	var runs []string
	start := now
	for i, c := range []struct{ user, pw string }{{"anna", "a wrong guess, again"}, {"ghost", "a wrong guess, again"}, {"carla", "una-password-lunga"}} {
		from := netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + i)})
		now = start // each run at the same times, so the lock-outs read alike
		before := checks.Load()
		var seq []string
		for range 7 {
			now = now.Add(time.Second)
			_, _, err := login(s, c.user, c.pw, from)
			seq = append(seq, outcome(err))
		}
		runs = append(runs, strings.Join(seq, ", "))
		if n := checks.Load() - before; n != int32(s.Throttle.Pair.Max) {
			t.Errorf("%s: %d password checks in 7 attempts, want %d (one per attempt let through)", c.user, n, s.Throttle.Pair.Max)
		}
	}
	if runs[0] != runs[1] || runs[0] != runs[2] {
		t.Errorf("answers differ:\nwrong password: %s\nunknown user:   %s\ndisabled:       %s", runs[0], runs[1], runs[2])
	}
}

// Beyond the gate's queue a log-in is refused at once with ErrBusy, and is
// not counted as a failure.
func (x suite) tLoginBusy(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	addAccount(t, s, "anna", staff.Clerk, now)
	s.Gate = staff.NewGate(1, 0)
	running := make(chan struct{})
	hold := make(chan struct{})
	go s.Gate.Do(context.Background(), func() { close(running); <-hold })
	<-running
	for range 10 {
		if _, _, err := login(s, "anna", "una-password-lunga", desk); !errors.Is(err, staff.ErrBusy) {
			t.Fatalf("a log-in while the gate is full: %v, want ErrBusy", err)
		}
	}
	close(hold)
	if _, _, err := login(s, "anna", "una-password-lunga", desk); err != nil {
		t.Fatalf("after the gate emptied: %v (refused attempts must not count as failures)", err)
	}
}

// However many log-ins arrive at once, at most the gate's size of
// password checks run at the same time.
func (x suite) tConcurrentChecksBounded(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	addAccount(t, s, "anna", staff.Clerk, now)
	const size, n = 2, 24
	s.Gate = staff.NewGate(size, n)
	var mu sync.Mutex
	running, peak, total := 0, 0, 0
	s.Gate.OnRun = func(d int) {
		mu.Lock()
		defer mu.Unlock()
		running += d
		peak = max(peak, running)
		if d > 0 {
			total++
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := []string{"anna", fmt.Sprintf("nobody%d", i)}[i%2]
			login(s, user, "a wrong guess, again", netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}))
		}()
	}
	wg.Wait()
	if peak > size || total != n {
		t.Errorf("%d checks ran at once (gate %d), %d ran in all (want %d)", peak, size, total, n)
	}
}

// An administrator's change lifts the account's lock-outs; Reauth counts
// wrong passwords like log-ins and applies its change only on success.
func (x suite) tAdminClearsLockoutAndReauth(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	addAccount(t, s, "anna", staff.Clerk, now)
	for range 5 {
		login(s, "anna", "a wrong guess, again", desk)
	}
	if _, _, err := login(s, "anna", "una-password-lunga", desk); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("after 5 failures: %v", err)
	}
	if _, err := s.Change("anna", func(a *staff.Account) error { return a.ResetPassword(nil, "una-password-nuova", now, "admin") }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := login(s, "anna", "una-password-nuova", desk); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
	changed := 0
	change := func(*staff.Account) error { changed++; return nil }
	for range 4 {
		if err := s.Reauth(context.Background(), Attempt{User: "anna", Password: "nope, not this", From: desk}, change); !errors.Is(err, staff.ErrBadLogin) {
			t.Fatalf("reauth with a wrong password: %v", err)
		}
	}
	if err := s.Reauth(context.Background(), Attempt{User: "anna", Password: "nope, not this", From: desk}, change); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("fifth wrong reauth: %v, want locked", err)
	}
	if err := s.Reauth(context.Background(), Attempt{User: "anna", Password: "una-password-nuova", From: desk}, change); !errors.Is(err, staff.ErrLocked) || changed != 0 {
		t.Fatalf("reauth while locked: %v, changed %d", err, changed)
	}
	now = now.Add(time.Hour)
	if err := s.Reauth(context.Background(), Attempt{User: "anna", Password: "una-password-nuova", From: desk}, change); err != nil || changed != 1 {
		t.Fatalf("reauth: %v, changed %d", err, changed)
	}
	// Counters that hold nothing are purged.
	now = now.Add(8 * 24 * time.Hour)
	if _, err := s.PurgeSessions(); err != nil {
		t.Fatal(err)
	}
	var left staff.Tallies
	s.Store.View(context.Background(), func(tx staff.Tx) (err error) { left, err = tx.Tallies("anna", staff.SourceOf(desk), now); return err })
	if !reflect.DeepEqual(left, staff.Tallies{}) {
		t.Errorf("idle counters left after the purge: %+v", left)
	}
}

func (x suite) tEvents(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := x.open1(t, &now)
	for _, e := range []struct {
		at           time.Time
		kind, reason string
	}{
		{now, EventRefused, "subject_not_found"},
		{now, EventRefused, "subject_not_found"},
		{now.Add(24 * time.Hour), EventVerifyUnknown, ""},
		{now.Add(48 * time.Hour), EventRefused, "x"},
	} {
		if err := s.Count(e.at, e.kind, e.reason); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Events(protocol.DayOf(now), protocol.DayOf(now.Add(24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	want := []EventCount{
		{Day: protocol.DayOf(now), Kind: EventRefused, Reason: "subject_not_found", Count: 2},
		{Day: protocol.DayOf(now.Add(24 * time.Hour)), Kind: EventVerifyUnknown, Count: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// The last enabled admin cannot be disabled: nobody could manage staff.
func (x suite) tLastAdminStays(t *testing.T) {
	at := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	s := x.open1(t, &at)
	for _, u := range []string{"anna", "bruno"} {
		addAccount(t, s, u, staff.Admin, at)
	}
	disable := func(u string) error {
		_, err := s.Change(u, func(a *staff.Account) error { return a.Disable(at, "staff:x") })
		return err
	}
	if err := disable("anna"); err != nil {
		t.Fatalf("disabling one of two admins: %v", err)
	}
	if err := disable("bruno"); err == nil || !strings.Contains(err.Error(), "last enabled admin") {
		t.Errorf("disabling the last admin: %v", err)
	}
	if a, _ := s.Account("bruno"); a.Disabled {
		t.Error("the refused change was stored")
	}
}

// An administrator's change ends the sessions of the account changed, so a
// browser signed in with the old password is out; other accounts stay in.
func (x suite) tChangeEndsSessions(t *testing.T) {
	at := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	s := x.open1(t, &at)
	tokens := map[string]string{}
	for _, u := range []string{"anna", "bruno"} {
		addAccount(t, s, u, staff.Clerk, at)
		var err error
		if tokens[u], _, err = login(s, u, "una-password-lunga", desk); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Change("anna", func(a *staff.Account) error {
		return a.ResetPassword(nil, "un'altra-password-lunga", at, "staff:x")
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(tokens["anna"]); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("anna's session after her password was reset: %v, want ErrNoSession", err)
	}
	if _, _, err := s.Session(tokens["bruno"]); err != nil {
		t.Errorf("bruno's session after anna's change: %v", err)
	}
}

// tTx checks the view itself: what the service does not reach alone.
func (x suite) tTx(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	s := x.open(t)
	r := store.Domain(s, store.Tx.Staff)
	var anna, bruno *staff.Account
	for _, u := range []string{"bruno", "anna"} {
		a, err := staff.NewAccount(nil, u, strings.ToUpper(u), staff.Clerk, "una-password-lunga", at, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Update(ctx, func(tx staff.Tx) error { return tx.AddAccount(a, false) }); err != nil {
			t.Fatal(err)
		}
		if u == "anna" {
			anna = a
		} else {
			bruno = a
		}
	}
	if err := r.Update(ctx, func(tx staff.Tx) error { return tx.AddAccount(anna, false) }); !errors.Is(err, staff.ErrExists) {
		t.Errorf("a second account anna: %v, want ErrExists", err)
	}
	err := r.View(ctx, func(tx staff.Tx) error {
		as, err := tx.Accounts()
		if err != nil || len(as) != 2 || as[0].User != "anna" || as[1].User != "bruno" {
			t.Errorf("accounts: %v %v, want anna, bruno", as, err)
		}
		if got, err := tx.Account("bruno"); err != nil || !reflect.DeepEqual(got, bruno) {
			t.Errorf("bruno: %+v %v, want %+v", got, err, bruno)
		}
		if _, err := tx.Account("carla"); !errors.Is(err, staff.ErrNotFound) {
			t.Errorf("an unknown account: %v, want ErrNotFound", err)
		}
		if _, err := tx.Session("no-such-token"); !errors.Is(err, staff.ErrNoSession) {
			t.Errorf("an unknown session: %v, want ErrNoSession", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Sessions: stored by token, ended one by one, by user, or by age.
	live := &staff.Session{User: "anna", Created: at, LastSeen: at}
	old := &staff.Session{User: "bruno", Created: at.Add(-48 * time.Hour), LastSeen: at.Add(-48 * time.Hour)}
	err = r.Update(ctx, func(tx staff.Tx) error {
		for tok, sess := range map[string]*staff.Session{"tok-a1": live, "tok-a2": live, "tok-b": old} {
			if err := tx.PutSession(tok, sess); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	session := func(tok string) error {
		return r.View(ctx, func(tx staff.Tx) error { _, err := tx.Session(tok); return err })
	}
	n := 0
	if err := r.Update(ctx, func(tx staff.Tx) (err error) { n, err = tx.PurgeSessions(at); return err }); err != nil || n != 1 {
		t.Errorf("purge: %d %v, want bruno's old session", n, err)
	}
	if err := session("tok-b"); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("a purged session: %v", err)
	}
	if err := session("tok-a1"); err != nil {
		t.Errorf("a live session after the purge: %v", err)
	}
	if err := r.Update(ctx, func(tx staff.Tx) error { return tx.DeleteSession("tok-a1") }); err != nil {
		t.Fatal(err)
	}
	if err := session("tok-a1"); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("a deleted session: %v", err)
	}
	if err := session("tok-a2"); err != nil {
		t.Errorf("anna's other session: %v", err)
	}
	if err := r.Update(ctx, func(tx staff.Tx) error { return tx.EndSessions("anna") }); err != nil {
		t.Fatal(err)
	}
	if err := session("tok-a2"); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("a session of a user whose sessions ended: %v", err)
	}
	// Tallies: by user and source, the source's shared by every name;
	// cleared for a user; purged once idle.
	th := staff.DefaultThrottle
	fail := func(user, source string, when time.Time) {
		t.Helper()
		err := r.Update(ctx, func(tx staff.Tx) error {
			ts, err := tx.Tallies(user, source, when)
			if err != nil {
				return err
			}
			th.Reserve(&ts, when)
			th.Fail(&ts, when)
			return tx.PutTallies(user, source, ts)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	tallies := func(user, source string) (ts staff.Tallies) {
		t.Helper()
		if err := r.View(ctx, func(tx staff.Tx) (err error) { ts, err = tx.Tallies(user, source, at); return err }); err != nil {
			t.Fatal(err)
		}
		return ts
	}
	long := strings.Repeat("x", 80)
	fail("anna", "192.0.2.0/24", at)
	fail("anna", "198.51.100.0/24", at)
	fail(long, "192.0.2.0/24", at)
	if ts := tallies("anna", "192.0.2.0/24"); len(ts.Pair.Failures) != 1 || len(ts.Source.Failures) != 2 || len(ts.Account.Failures) != 2 {
		t.Errorf("anna's tallies from 192.0.2.0/24: %+v, want 1 pair, 2 source, 2 account failures", ts)
	}
	if ts := tallies(long, "192.0.2.0/24"); len(ts.Pair.Failures) != 1 || len(ts.Account.Failures) != 1 {
		t.Errorf("a long name's tallies: %+v", ts)
	}
	if err := r.Update(ctx, func(tx staff.Tx) error { return tx.ClearTallies("anna") }); err != nil {
		t.Fatal(err)
	}
	if ts := tallies("anna", "198.51.100.0/24"); len(ts.Pair.Failures) != 0 || len(ts.Account.Failures) != 0 || len(ts.Source.Failures) != 1 {
		t.Errorf("anna's tallies once cleared: %+v, want the source's kept", ts)
	}
	if err := r.Update(ctx, func(tx staff.Tx) error { return tx.PurgeTallies(th, at) }); err != nil {
		t.Fatal(err)
	}
	if ts := tallies(long, "192.0.2.0/24"); len(ts.Pair.Failures) != 1 {
		t.Errorf("a purge at once dropped a fresh tally: %+v", ts)
	}
	later := at.Add(30 * 24 * time.Hour)
	if err := r.Update(ctx, func(tx staff.Tx) error { return tx.PurgeTallies(th, later) }); err != nil {
		t.Fatal(err)
	}
	if ts := tallies(long, "192.0.2.0/24"); !reflect.DeepEqual(ts, staff.Tallies{}) {
		t.Errorf("idle tallies after a purge: %+v", ts)
	}
	// A failed transaction leaves nothing.
	boom := errors.New("boom")
	err = r.Update(ctx, func(tx staff.Tx) error {
		bruno.Name = "changed"
		if err := tx.PutAccount(bruno); err != nil {
			return err
		}
		if err := tx.Count(protocol.DayOf(at), EventRefused, "x"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	_ = r.View(ctx, func(tx staff.Tx) error {
		if got, _ := tx.Account("bruno"); got.Name != "BRUNO" {
			t.Errorf("a failed transaction changed bruno: %q", got.Name)
		}
		if evs, _ := tx.Events(protocol.DayOf(at), protocol.DayOf(at)); len(evs) != 0 {
			t.Errorf("a failed transaction counted: %+v", evs)
		}
		return nil
	})
}

func (x suite) tView(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	s := x.open(t)
	a, err := staff.NewAccount(nil, "anna", "", staff.Clerk, "una-password-lunga", at, "test")
	if err != nil {
		t.Fatal(err)
	}
	// A store that never held an account reads as empty.
	err = s.View(ctx, func(tx store.Tx) error {
		if as, err := tx.Staff().Accounts(); err != nil || len(as) != 0 {
			t.Errorf("accounts of a new store: %v %v", as, err)
		}
		if ts, err := tx.Staff().Tallies("anna", "x", at); err != nil || !reflect.DeepEqual(ts, staff.Tallies{}) {
			t.Errorf("tallies of a new store: %+v %v", ts, err)
		}
		if evs, err := tx.Staff().Events(protocol.DayOf(at), protocol.DayOf(at)); err != nil || len(evs) != 0 {
			t.Errorf("events of a new store: %+v %v", evs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sess := &staff.Session{User: "anna", Created: at, LastSeen: at}
	for name, fn := range map[string]func(staff.Tx) error{
		"add":            func(tx staff.Tx) error { return tx.AddAccount(a, false) },
		"put":            func(tx staff.Tx) error { return tx.PutAccount(a) },
		"put session":    func(tx staff.Tx) error { return tx.PutSession("tok", sess) },
		"delete session": func(tx staff.Tx) error { return tx.DeleteSession("tok") },
		"end sessions":   func(tx staff.Tx) error { return tx.EndSessions("anna") },
		"purge sessions": func(tx staff.Tx) error { _, err := tx.PurgeSessions(at); return err },
		"put tallies":    func(tx staff.Tx) error { return tx.PutTallies("anna", "x", staff.Tallies{}) },
		"clear tallies":  func(tx staff.Tx) error { return tx.ClearTallies("anna") },
		"purge tallies":  func(tx staff.Tx) error { return tx.PurgeTallies(staff.DefaultThrottle, at) },
		"count":          func(tx staff.Tx) error { return tx.Count(protocol.DayOf(at), EventRefused, "x") },
	} {
		if err := s.View(ctx, func(tx store.Tx) error { return fn(tx.Staff()) }); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("%s in a View: %v, want ErrReadOnly", name, err)
		}
	}
}

// tTwoHubs: a session opened on one hub is valid on the other and ended
// by a log-out there; failed log-ins on both count against one limit.
func (x suite) tTwoHubs(t *testing.T) {
	now := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	sa := x.open(t)
	a, b := service(sa, &now), service(x.twin(t, sa), &now)
	addAccount(t, a, "anna", staff.Clerk, now)
	tok, _, err := login(a, "anna", "una-password-lunga", desk)
	if err != nil {
		t.Fatal(err)
	}
	if sess, acc, err := b.Session(tok); err != nil || sess.User != "anna" || acc.User != "anna" {
		t.Fatalf("hub B reads hub A's session: %+v %+v %v", sess, acc, err)
	}
	if err := b.Logout(tok); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Session(tok); !errors.Is(err, staff.ErrNoSession) {
		t.Errorf("hub A after a log-out on hub B: %v, want ErrNoSession", err)
	}
	// Guesses spread over both hubs at once: no more checks than one
	// hub would allow.
	checks := countChecks(a)
	bChecks := countChecks(b)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, _, _ = login([]*Store{a, b}[i%2], "anna", fmt.Sprintf("guess %d", i), attacker)
		})
	}
	wg.Wait()
	if n, max := checks.Load()+bChecks.Load(), int32(staff.DefaultThrottle.Pair.Max); n > max {
		t.Errorf("%d guesses checked across two hubs, want at most %d", n, max)
	}
	if _, _, err := login(b, "anna", "una-password-lunga", attacker); !errors.Is(err, staff.ErrLocked) {
		t.Errorf("the right password from the guessing source: %v, want ErrLocked", err)
	}
}

// tTwoHubsClocksDiffer: hub A's clock runs two minutes ahead of hub B's.
// A session opened on A is valid on B at once, though B's clock has not
// reached its creation time yet; it still ends by either clock's timeout.
func (x suite) tTwoHubsClocksDiffer(t *testing.T) {
	bNow := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	aNow := bNow.Add(2 * time.Minute)
	sa := x.open(t)
	a, b := service(sa, &aNow), service(x.twin(t, sa), &bNow)
	addAccount(t, a, "anna", staff.Clerk, aNow)
	tok, _, err := login(a, "anna", "una-password-lunga", desk)
	if err != nil {
		t.Fatal(err)
	}
	if sess, _, err := b.Session(tok); err != nil || sess.User != "anna" {
		t.Fatalf("hub B, its clock behind hub A's, reads A's new session: %+v %v", sess, err)
	}
	bNow = bNow.Add(20 * time.Minute)
	if _, _, err := b.Session(tok); err != nil {
		t.Fatalf("hub B twenty minutes later: %v", err)
	}
	aNow = aNow.Add(20*time.Minute + staff.IdleTimeout)
	if _, _, err := a.Session(tok); !errors.Is(err, staff.ErrNoSession) {
		t.Fatalf("hub A past the idle timeout: %v, want ErrNoSession", err)
	}
}
