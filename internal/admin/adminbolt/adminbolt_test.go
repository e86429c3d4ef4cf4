package adminbolt

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/protocol"
)

func open(t *testing.T, now *time.Time) *Store {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "hub.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(db, func() time.Time { return *now })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

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

func TestLoginSessionLockout(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := open(t, &now)
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
	if _, _, _, err := s.Login("nobody", "a long enough pass", ""); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("unknown user: %v", err)
	}
	tok, sess, _, err := s.Login("anna", "a long enough pass", "")
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
		_, _, _, err = s.Login("anna", "wrong password", "")
		if i < 4 && !errors.Is(err, staff.ErrBadLogin) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("fifth failure: %v", err)
	}
	if _, _, _, err := s.Login("anna", "a long enough pass", ""); !errors.Is(err, staff.ErrLocked) {
		t.Fatalf("locked account let in: %v", err)
	}
	now = now.Add(15 * time.Minute)
	tok, _, _, err = s.Login("anna", "a long enough pass", "")
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

func TestEvents(t *testing.T) {
	now := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	s := open(t, &now)
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
		{protocol.DayOf(now), EventRefused, "subject_not_found", 2},
		{protocol.DayOf(now.Add(24 * time.Hour)), EventVerifyUnknown, "", 1},
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
func TestLastAdminStays(t *testing.T) {
	at := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	s := open(t, &at)
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
func TestChangeEndsSessions(t *testing.T) {
	at := time.Date(2026, 4, 7, 10, 0, 0, 0, time.UTC)
	s := open(t, &at)
	tokens := map[string]string{}
	for _, u := range []string{"anna", "bruno"} {
		addAccount(t, s, u, staff.Clerk, at)
		var err error
		if tokens[u], _, _, err = s.Login(u, "una-password-lunga", ""); err != nil {
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
