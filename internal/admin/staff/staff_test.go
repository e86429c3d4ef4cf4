package staff

import (
	"context"
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/totp"
)

func TestVerifyTOTP(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	code := func(at time.Time) string { return totp.At(secret, at) }
	step := now.Unix() / 30
	tests := []struct {
		name string
		code string
		last int64
		ok   bool
	}{
		{"current", code(now), 0, true},
		{"previous step", code(now.Add(-30 * time.Second)), 0, true},
		{"next step", code(now.Add(30 * time.Second)), 0, true},
		{"two steps old", code(now.Add(-60 * time.Second)), 0, false},
		{"replayed", code(now), step, false},
		{"spaces", code(now)[:3] + " " + code(now)[3:], 0, true},
		{"wrong", "000000", 0, code(now) == "000000"},
		{"short", "12345", 0, false},
	}
	for _, tt := range tests {
		if _, ok := VerifyTOTP(secret, tt.code, now, tt.last); ok != tt.ok {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.ok)
		}
	}
}

func TestPassword(t *testing.T) {
	h, err := HashPassword(nil, "correct horse battery", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not the expected PHC string", h)
	}
	h2, _ := HashPassword(nil, "correct horse battery", DefaultParams)
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	tests := []struct {
		name, phc, pw string
		ok            bool
		err           bool
	}{
		{"right", h, "correct horse battery", true, false},
		{"wrong", h, "correct horse batterY", false, false},
		{"empty", h, "", false, false},
		{"bcrypt", "$2a$10$abc", "x", false, true},
		{"huge memory", strings.Replace(h, "m=19456", "m=99999999", 1), "x", false, true},
		{"bad salt", strings.Replace(h, "$argon2id$v=19$m=19456,t=2,p=1$", "$argon2id$v=19$m=19456,t=2,p=1$!!", 1), "x", false, true},
	}
	for _, tt := range tests {
		ok, err := CheckPassword(tt.phc, tt.pw)
		if ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("%s: ok %v err %v, want ok %v err %v", tt.name, ok, err, tt.ok, tt.err)
		}
	}
}

func TestAdmit(t *testing.T) {
	t0 := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	a, err := NewAccount(nil, "giulia", "Giulia Rossi", Clerk, "a long enough pass", t0, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Admit(false, "", t0, "192.0.2.1"); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := a.Admit(true, "", t0, "192.0.2.1"); err != nil || !a.LastLogin.Equal(t0) || len(a.Sources) != 1 {
		t.Fatalf("right password: %v, last %v, sources %v", err, a.LastLogin, a.Sources)
	}
	// TOTP: password alone is not enough, a code works once.
	a.TOTPSecret = []byte("12345678901234567890")
	at := t0.Add(time.Minute)
	if err := a.Admit(true, "", at, "192.0.2.1"); !errors.Is(err, ErrTOTPMissing) {
		t.Fatalf("no code: %v", err)
	}
	code := totp.At(a.TOTPSecret, at)
	if err := a.Admit(true, code, at, "192.0.2.1"); err != nil {
		t.Fatalf("with code: %v", err)
	}
	if err := a.Admit(true, code, at.Add(time.Second), "192.0.2.1"); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("code replayed: %v", err)
	}
	a.Disabled = true
	if err := a.Admit(true, totp.At(a.TOTPSecret, at.Add(time.Minute)), at.Add(time.Minute), "192.0.2.1"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled: %v", err)
	}
	for i, src := range []string{"a", "b", "c", "d", "e", "b"} {
		a.rememberSource(src)
		if a.Sources[0] != src || len(a.Sources) > maxSources {
			t.Fatalf("after source %d: %v", i, a.Sources)
		}
	}
	if strings.Join(a.Sources, " ") != "b e d c" {
		t.Errorf("sources %v, want the 4 latest, newest first, once each", a.Sources)
	}
}

func TestThrottlePair(t *testing.T) {
	t0 := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	r := DefaultThrottle.Pair
	var tl Tally
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	// Four failures: still open; the fifth locks for 15 minutes.
	for i := range 5 {
		if _, locked := r.LockedUntil(tl, at(i)); locked {
			t.Fatalf("locked before failure %d", i+1)
		}
		r.Reserve(&tl, at(i))
		r.Fail(&tl, at(i))
	}
	if until, locked := r.LockedUntil(tl, at(5)); !locked || !until.Equal(at(4).Add(15*time.Minute)) {
		t.Fatalf("after 5 failures: locked %v until %v", locked, until)
	}
	if _, locked := r.LockedUntil(tl, at(19)); locked {
		t.Fatal("still locked after the first lock-out")
	}
	// Five more: the second lock-out lasts twice as long, the third four times.
	for _, want := range []time.Duration{30 * time.Minute, 60 * time.Minute} {
		start := tl.Until
		for i := range 5 {
			r.Reserve(&tl, start.Add(time.Duration(i)*time.Second))
			r.Fail(&tl, start.Add(time.Duration(i)*time.Second))
		}
		if got := tl.Until.Sub(start.Add(4 * time.Second)); got != want {
			t.Errorf("lock-out lasts %v, want %v", got, want)
		}
	}
	// A day without lock-outs forgets the level.
	late := tl.Until.Add(25 * time.Hour)
	for i := range 5 {
		r.Reserve(&tl, late)
		r.Fail(&tl, late)
		_ = i
	}
	if got := tl.Until.Sub(late); got != 15*time.Minute {
		t.Errorf("after a quiet day the lock-out lasts %v, want 15m", got)
	}
	// The cap.
	tl = Tally{Level: 30}
	for range 5 {
		r.Reserve(&tl, t0)
		r.Fail(&tl, t0)
	}
	if got := tl.Until.Sub(t0); got != r.MaxLock {
		t.Errorf("capped lock-out %v, want %v", got, r.MaxLock)
	}
}

// Reservations are what makes a burst safe: every attempt counts as failed
// from the moment it is let through, so at most Max are ever checked.
func TestThrottleReservations(t *testing.T) {
	t0 := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	th := DefaultThrottle
	var tl Tallies
	checked := 0
	for range 40 { // 40 attempts arrive before any is decided
		if th.Check(tl, nil, "192.0.2.1", t0) != nil {
			continue
		}
		th.Reserve(&tl, t0)
		checked++
	}
	if checked != th.Pair.Max {
		t.Fatalf("%d attempts checked in a burst, want %d", checked, th.Pair.Max)
	}
	// One succeeds: the pair starts afresh, the source and account keep
	// the other four.
	th.Succeed(&tl, t0)
	if len(tl.Pair.Failures) != 0 || len(tl.Source.Failures) != 4 || len(tl.Account.Failures) != 4 {
		t.Fatalf("after a success: %+v", tl)
	}
	// An attempt never checked gives its reservation back.
	th.Reserve(&tl, t0.Add(time.Second))
	th.Release(&tl, t0.Add(time.Second))
	if len(tl.Pair.Failures) != 0 || len(tl.Source.Failures) != 4 {
		t.Fatalf("after a release: %+v", tl)
	}
}

// The account-wide limit shuts out strangers, not the clerk's usual
// address; the source limit holds across user names.
func TestThrottleScopes(t *testing.T) {
	t0 := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	th := DefaultThrottle
	var account Tally
	for i := range th.Account.Max {
		at := t0.Add(time.Duration(i) * time.Second)
		th.Account.Reserve(&account, at)
		th.Account.Fail(&account, at)
	}
	now := t0.Add(time.Hour / 2)
	known := []string{"192.0.2.1"}
	if err := th.Check(Tallies{Account: account}, known, "198.51.100.7", now); !errors.Is(err, ErrLocked) {
		t.Errorf("a stranger during the account-wide lock-out: %v", err)
	}
	if err := th.Check(Tallies{Account: account}, known, "192.0.2.1", now); err != nil {
		t.Errorf("the clerk's usual address during the account-wide lock-out: %v", err)
	}
	var source Tally
	for i := range th.Source.Max {
		th.Source.Reserve(&source, t0)
		th.Source.Fail(&source, t0)
		_ = i
	}
	if err := th.Check(Tallies{Source: source}, known, "192.0.2.1", t0.Add(time.Minute)); !errors.Is(err, ErrLocked) {
		t.Errorf("a source over its limit: %v", err)
	}
}

func TestSourceOf(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":               "192.0.2.1",
		"::ffff:192.0.2.1":        "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":         "2001:db8:1:3::/64",
	} {
		if got := SourceOf(netip.MustParseAddr(in)); got != want {
			t.Errorf("SourceOf(%s) = %s, want %s", in, got, want)
		}
	}
	if SourceOf(netip.Addr{}) != "unknown" {
		t.Error("the zero address")
	}
}

func TestDummyHash(t *testing.T) {
	d, err := parseHash(DummyHash)
	if err != nil {
		t.Fatal(err)
	}
	if d.p != DefaultParams {
		t.Errorf("the dummy hash costs %+v, a real one %+v: a wrong user name would answer at another speed", d.p, DefaultParams)
	}
	if ok, err := CheckPassword(DummyHash, "sportello: no such user"); ok || err != nil {
		t.Errorf("the dummy hash matched: %v %v", ok, err)
	}
}

// The gate never runs more than its size at once, queues a few more, and
// refuses the rest at once. Counted with its hook, not timed.
func TestGate(t *testing.T) {
	const size, queue, total = 2, 3, 12
	g := NewGate(size, queue)
	var mu sync.Mutex
	running, peak := 0, 0
	g.OnRun = func(d int) {
		mu.Lock()
		running += d
		peak = max(peak, running)
		mu.Unlock()
	}
	release := make(chan struct{})
	started := make(chan struct{}, total)
	results := make(chan error, total)
	for range total {
		go func() {
			results <- g.Do(context.Background(), func() { started <- struct{}{}; <-release })
		}()
	}
	// Exactly size start; exactly total-size-queue are refused at once.
	for range size {
		<-started
	}
	busy := 0
	for busy < total-size-queue {
		select {
		case err := <-results:
			if !errors.Is(err, ErrBusy) {
				close(release)
				t.Fatalf("a check beyond the queue: %v, want ErrBusy", err)
			}
			busy++
		case <-started:
			close(release)
			t.Fatalf("more than %d checks started at once", size)
		}
	}
	close(release)
	for range size + queue {
		if err := <-results; err != nil {
			t.Errorf("an admitted check: %v", err)
		}
	}
	if peak > size {
		t.Errorf("%d checks ran at once, the gate allows %d", peak, size)
	}
	// A waiting caller whose request ends leaves without running.
	g2 := NewGate(1, 1)
	hold := make(chan struct{})
	go g2.Do(context.Background(), func() { <-hold })
	for len(g2.run) == 0 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if err := g2.Do(ctx, func() { ran = true }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("cancelled while waiting: %v, ran %v", err, ran)
	}
	close(hold)
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role Role
		p    Permission
		want bool
	}{
		{Admin, ManageStaff, true},
		{Clerk, ManageOperators, true},
		{Clerk, ViewSettlements, false},
		{Finance, ViewSettlements, true},
		{Finance, ManageOperators, false},
		{Auditor, SearchAudit, true},
		{Auditor, ReadPersons, false},
		{Finance, ReadPersons, false},
	}
	for _, tt := range tests {
		if got := tt.role.Can(tt.p); got != tt.want {
			t.Errorf("%s can %s = %v, want %v", tt.role, tt.p, got, tt.want)
		}
	}
	for _, s := range []string{"admin", "Clerk", "registry_clerk", "finance", "auditor"} {
		if _, err := ParseRole(s); err != nil {
			t.Errorf("ParseRole(%q): %v", s, err)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("ParseRole(root) accepted")
	}
}

func TestValidate(t *testing.T) {
	for _, u := range []string{"a", "Giulia", "giulia rossi", strings.Repeat("x", 33)} {
		if ValidateUser(u) == nil {
			t.Errorf("user %q accepted", u)
		}
	}
	if ValidatePassword("short") == nil || ValidatePassword("twelve chars") != nil {
		t.Error("password length rule")
	}
}

func TestSessionLive(t *testing.T) {
	t0 := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	_, s, err := NewSession(nil, "giulia", t0)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Live(t0.Add(29*time.Minute)) || s.Live(t0.Add(31*time.Minute)) {
		t.Error("idle timeout")
	}
	s.LastSeen = t0.Add(12*time.Hour - time.Minute)
	if s.Live(t0.Add(12 * time.Hour)) {
		t.Error("absolute timeout")
	}
}
