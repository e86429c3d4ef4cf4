package operators

import (
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/totp"
)

func testClerk() *Clerk {
	return &Clerk{ID: "cl-0001", CF: "RSSMRA50B17A558W", Name: "Mario Rossi", OperatorID: "op-0001",
		Trained: registry.Date{Year: 2026, Month: 1, Day: 10}, EnabledUntil: registry.Date{Year: 2026, Month: 6, Day: 30}, Status: ClerkActive}
}

func TestClerkMayWork(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, Rome)
	suspended := testClerk()
	if err := suspended.Transition(ClerkSuspended, at, "staff", "training lapsed"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *Clerk
		op   string
		at   time.Time
		want error
	}{
		{"enabled", testClerk(), "op-0001", at, nil},
		{"last day", testClerk(), "op-0001", time.Date(2026, 6, 30, 23, 59, 0, 0, Rome), nil},
		{"other shop", testClerk(), "op-0002", at, ErrClerkNotEnabled},
		{"suspended", suspended, "op-0001", at, ErrClerkSuspended},
		{"expired", testClerk(), "op-0001", time.Date(2026, 7, 1, 0, 0, 1, 0, Rome), ErrClerkExpired},
		{"before training", testClerk(), "op-0001", time.Date(2026, 1, 9, 12, 0, 0, 0, Rome), ErrClerkNotTrained},
	} {
		err := tc.c.MayWork(tc.op, tc.at)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: MayWork = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// RFC 6238 Appendix B, SHA-1, truncated to six digits.
func TestTOTPCode(t *testing.T) {
	secret := totp.Text([]byte("12345678901234567890"))
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		got, err := TOTPCode(secret, v.unix/30)
		if err != nil || got != v.want {
			t.Errorf("T=%d: %q, %v; want %q", v.unix, got, err, v.want)
		}
	}
}

func TestClerkCheckPassword(t *testing.T) {
	c := testClerk()
	var err error
	if c.PasswordHash, err = HashClerkPassword("correct horse battery", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := HashClerkPassword("short", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("short password: %v, want ErrInvalid", err)
	}
	if c.TOTPSecret, err = NewTOTPSecret(nil); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, Rome)
	code, _ := TOTPCode(c.TOTPSecret, totp.StepAt(at))
	step, err := c.CheckPassword("correct horse battery", code, at)
	if err != nil || step != totp.StepAt(at) {
		t.Fatalf("right password and code: step %d, %v", step, err)
	}
	if _, err := c.CheckPassword("wrong horse battery", code, at); !errors.Is(err, ErrClerkCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	old, _ := TOTPCode(c.TOTPSecret, totp.StepAt(at)-5)
	if _, err := c.CheckPassword("correct horse battery", old, at); !errors.Is(err, ErrClerkCredentials) {
		t.Errorf("code of 2.5 minutes ago: %v", err)
	}
	c.LastTOTPStep = step
	if _, err := c.CheckPassword("correct horse battery", code, at); !errors.Is(err, ErrClerkTOTPReused) {
		t.Errorf("the same code again: %v", err)
	}
	c.PasswordHash, c.TOTPSecret = "", ""
	if _, err := c.CheckPassword("correct horse battery", code, at); !errors.Is(err, ErrClerkCredentials) {
		t.Errorf("clerk without a password log-in: %v", err)
	}
}

func TestClerkSessionExpiry(t *testing.T) {
	morning := time.Date(2026, 3, 2, 8, 0, 0, 0, Rome)
	if got, want := ClerkSessionExpiry(morning), morning.Add(12*time.Hour).UTC(); !got.Equal(want) {
		t.Errorf("from 08:00: %v, want %v", got, want)
	}
	evening := time.Date(2026, 3, 2, 18, 0, 0, 0, Rome)
	if got, want := ClerkSessionExpiry(evening), time.Date(2026, 3, 3, 0, 0, 0, 0, Rome).UTC(); !got.Equal(want) {
		t.Errorf("from 18:00: %v, want midnight %v", got, want)
	}
	c := testClerk()
	tok, s, err := NewClerkSession(nil, c, "dev-1", LoginCIE, morning)
	if err != nil || len(tok) < 40 || s.Hash != HashSessionToken(tok) {
		t.Fatalf("NewClerkSession: %q %+v %v", tok, s, err)
	}
	if err := s.Check("dev-1", morning.Add(time.Hour)); err != nil {
		t.Error(err)
	}
	if err := s.Check("dev-2", morning.Add(time.Hour)); !errors.Is(err, ErrSessionOtherOwner) {
		t.Errorf("other device: %v", err)
	}
	if err := s.Check("dev-1", s.Expires); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("at expiry: %v", err)
	}
}
