// Package clerktest is the test suite every operators.ClerkStore passes.
package clerktest

import (
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

// Open returns an empty store and the ids of two operators it knows.
type Open func(t *testing.T) (s operators.ClerkStore, shopA, shopB string)

// Clerk is a valid clerk of operator op.
func Clerk(cf, name, op string) *operators.Clerk {
	return &operators.Clerk{CF: cf, Name: name, OperatorID: op,
		Trained: registry.Date{Year: 2020, Month: 1, Day: 10}, EnabledUntil: registry.Date{Year: 2099, Month: 12, Day: 31}}
}

// add adds c to s, ending the test when s refuses it.
func add(t *testing.T, s operators.ClerkStore, c *operators.Clerk) *operators.Clerk {
	t.Helper()
	if err := s.AddClerk(c, "staff"); err != nil {
		t.Fatal(err)
	}
	return c
}

// withClerk opens a store with one clerk at its first shop.
func withClerk(t *testing.T, open Open) (operators.ClerkStore, *operators.Clerk) {
	t.Helper()
	s, a, _ := open(t)
	return s, add(t, s, Clerk("RSSMRA50B17A558W", "Mario Rossi", a))
}

// Run runs the suite.
func Run(t *testing.T, open Open) {
	t.Run("AddGetList", func(t *testing.T) {
		s, a, b := open(t)
		c1 := add(t, s, Clerk("RSSMRA50B17A558W", "Mario Rossi", a))
		c2 := add(t, s, Clerk("RSSMRA50B17A558W", "Mario Rossi", b))
		if c1.ID == "" || c1.ID == c2.ID {
			t.Fatalf("ids %q and %q: want two distinct ids", c1.ID, c2.ID)
		}
		if err := s.AddClerk(Clerk("RSSMRA50B17A558W", "Mario Rossi", a), "staff"); !errors.Is(err, operators.ErrInvalid) {
			t.Errorf("the same person twice at one shop: err %v, want ErrInvalid", err)
		}
		got, err := s.Clerk(c1.ID)
		if err != nil || got.CF != c1.CF || got.OperatorID != a || got.Status != operators.ClerkActive || len(got.History) != 1 {
			t.Fatalf("Clerk(%s) = %+v, %v", c1.ID, got, err)
		}
		if _, err := s.Clerk("cl-9999"); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("unknown clerk: err %v, want ErrNotFound", err)
		}
		list, err := s.Clerks(a)
		if err != nil || len(list) != 1 || list[0].ID != c1.ID {
			t.Errorf("Clerks(a) = %v, %v; want only %s", list, err, c1.ID)
		}
		all, _ := s.Clerks("")
		byCF, _ := s.ClerksByCF("RSSMRA50B17A558W")
		if len(all) != 2 || len(byCF) != 2 {
			t.Errorf("Clerks(\"\") has %d, ClerksByCF %d; want 2 and 2", len(all), len(byCF))
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		s, a, _ := open(t)
		bad := Clerk("RSSMRA50B17A558X", "Mario Rossi", a)
		if err := s.AddClerk(bad, "staff"); !errors.Is(err, operators.ErrInvalid) {
			t.Errorf("bad codice fiscale: err %v, want ErrInvalid", err)
		}
		untrained := Clerk("RSSMRA50B17A558W", "Mario Rossi", a)
		untrained.Trained = registry.Date{}
		if err := s.AddClerk(untrained, "staff"); !errors.Is(err, operators.ErrInvalid) {
			t.Errorf("no training date: err %v, want ErrInvalid", err)
		}
		if err := s.AddClerk(Clerk("RSSMRA50B17A558W", "Mario Rossi", "op-9999"), "staff"); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("unknown operator: err %v, want ErrNotFound", err)
		}
	})
	t.Run("ByNIS", func(t *testing.T) {
		s, a, b := open(t)
		c := Clerk("RSSMRA50B17A558W", "Mario Rossi", a)
		c.NIS = "123456789012"
		if err := s.AddClerk(c, "staff"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ClerkByNIS(a, "123456789012"); err != nil || got.ID != c.ID {
			t.Errorf("ClerkByNIS(a) = %v, %v", got, err)
		}
		if _, err := s.ClerkByNIS(b, "123456789012"); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("ClerkByNIS at another shop: err %v, want ErrNotFound", err)
		}
	})
	t.Run("ReinstateEndsSessions", func(t *testing.T) {
		s, c := withClerk(t, open)
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, operators.Rome)
		token, sess, err := operators.NewClerkSession(nil, c, "dev-1", operators.LoginCIE, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.StartClerkSession(sess); err != nil {
			t.Fatal(err)
		}
		got, err := s.ClerkSession(operators.HashSessionToken(token))
		if err != nil || got.ClerkID != c.ID || got.KeyID != "dev-1" || !got.Expires.Equal(sess.Expires) {
			t.Fatalf("ClerkSession = %+v, %v", got, err)
		}
		if _, err := s.SetClerkStatus(c.ID, operators.ClerkSuspended, "staff", ""); !errors.Is(err, operators.ErrTransition) {
			t.Errorf("suspension without a reason: err %v, want ErrTransition", err)
		}
		sc, err := s.SetClerkStatus(c.ID, operators.ClerkSuspended, "staff", "left the shop")
		if err != nil || sc.Status != operators.ClerkSuspended {
			t.Fatalf("suspend: %+v, %v", sc, err)
		}
		if _, err := s.ClerkSession(sess.Hash); err != nil {
			t.Errorf("session after suspension: err %v; it stays, to be refused as suspended", err)
		}
		rc, err := s.SetClerkStatus(c.ID, operators.ClerkActive, "staff", "back")
		if err != nil || rc.Status != operators.ClerkActive || len(rc.History) != 3 {
			t.Errorf("reinstate: %+v, %v", rc, err)
		}
		if _, err := s.ClerkSession(sess.Hash); !errors.Is(err, operators.ErrSessionUnknown) {
			t.Errorf("session after reinstatement: err %v, want ErrSessionUnknown", err)
		}
	})
	t.Run("EndSession", func(t *testing.T) {
		s, c := withClerk(t, open)
		_, sess, _ := operators.NewClerkSession(nil, c, "dev-1", operators.LoginPassword, time.Now())
		if err := s.StartClerkSession(sess); err != nil {
			t.Fatal(err)
		}
		if err := s.EndClerkSession(sess.Hash); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClerkSession(sess.Hash); !errors.Is(err, operators.ErrSessionUnknown) {
			t.Errorf("session after log-out: err %v, want ErrSessionUnknown", err)
		}
	})
	t.Run("TOTPStep", func(t *testing.T) {
		s, c := withClerk(t, open)
		if err := s.UseTOTPStep(c.ID, 100); err != nil {
			t.Fatal(err)
		}
		for _, step := range []int64{100, 99} {
			if err := s.UseTOTPStep(c.ID, step); !errors.Is(err, operators.ErrClerkTOTPReused) {
				t.Errorf("step %d after 100: err %v, want ErrClerkTOTPReused", step, err)
			}
		}
		if err := s.UseTOTPStep(c.ID, 101); err != nil {
			t.Error(err)
		}
	})
}
