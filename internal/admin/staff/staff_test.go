package staff

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"
)

// RFC 6238 Appendix B: 8-digit codes over the ASCII seeds given there.
func TestTOTPRFC6238(t *testing.T) {
	seed20 := []byte("12345678901234567890")
	seed32 := []byte("12345678901234567890123456789012")
	seed64 := []byte("1234567890123456789012345678901234567890123456789012345678901234")
	tests := []struct {
		unix               int64
		sha1, sha256, s512 string
	}{
		{59, "94287082", "46119246", "90693936"},
		{1111111109, "07081804", "68084774", "25091201"},
		{1111111111, "14050471", "67062674", "99943326"},
		{1234567890, "89005924", "91819424", "93441116"},
		{2000000000, "69279037", "90698825", "38618901"},
		{20000000000, "65353130", "77737706", "47863826"},
	}
	for _, tt := range tests {
		at := time.Unix(tt.unix, 0)
		for _, c := range []struct {
			seed []byte
			h    func() hash.Hash
			want string
		}{{seed20, sha1.New, tt.sha1}, {seed32, sha256.New, tt.sha256}, {seed64, sha512.New, tt.s512}} {
			if got := TOTPAt(c.seed, at, 8, c.h); got != c.want {
				t.Errorf("TOTP(%d) = %s, want %s", tt.unix, got, c.want)
			}
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	code := func(at time.Time) string { return TOTPAt(secret, at, 6, sha1.New) }
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

func TestLogin(t *testing.T) {
	t0 := time.Date(2026, 4, 7, 9, 0, 0, 0, time.UTC)
	a, err := NewAccount(nil, "giulia", "Giulia Rossi", Clerk, "a long enough pass", t0, "test")
	if err != nil {
		t.Fatal(err)
	}
	l := DefaultLockout
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	// Four failures: still open; the right password resets them.
	for i := range 4 {
		if err := a.Login(Attempt{Password: "wrong", At: at(i)}, l); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if err := a.Login(Attempt{Password: "a long enough pass", At: at(4)}, l); err != nil {
		t.Fatalf("right password after 4 failures: %v", err)
	}
	if len(a.Failures) != 0 {
		t.Fatal("a successful log-in kept the failures")
	}
	// Five failures lock; the right password is refused while locked.
	var le *LockedError
	for i := range 5 {
		err = a.Login(Attempt{Password: "wrong", At: at(10 + i)}, l)
	}
	if !errors.As(err, &le) || !le.Until.Equal(at(25)) {
		t.Fatalf("fifth failure: %v, want locked until %s", err, at(25))
	}
	if err := a.Login(Attempt{Password: "a long enough pass", At: at(24)}, l); !errors.Is(err, ErrLocked) {
		t.Fatalf("right password while locked: %v", err)
	}
	if err := a.Login(Attempt{Password: "a long enough pass", At: at(25)}, l); err != nil {
		t.Fatalf("after the lock-out: %v", err)
	}

	// TOTP: password alone is not enough, a code works once.
	a.TOTPSecret = []byte("12345678901234567890")
	if err := a.Login(Attempt{Password: "a long enough pass", At: at(30)}, l); !errors.Is(err, ErrTOTPMissing) {
		t.Fatalf("no code: %v", err)
	}
	code := TOTPAt(a.TOTPSecret, at(31), 6, sha1.New)
	if err := a.Login(Attempt{Password: "a long enough pass", Code: code, At: at(31)}, l); err != nil {
		t.Fatalf("with code: %v", err)
	}
	if err := a.Login(Attempt{Password: "a long enough pass", Code: code, At: at(31).Add(time.Second)}, l); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("code replayed: %v", err)
	}
	a.Disabled = true
	if err := a.Login(Attempt{Password: "a long enough pass", At: at(40)}, l); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled: %v", err)
	}
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
