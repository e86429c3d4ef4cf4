package operators

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestEnrolmentCode(t *testing.T) {
	op := testOperator(t)
	op.Status = Approved
	at := rome("2026-03-01 10:00")
	code, rec, err := NewEnrolmentCode(nil, op, "m.bianchi", at, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`).MatchString(code) {
		t.Errorf("code %q is not four groups of Crockford base 32", code)
	}
	if strings.Contains(rec.Hash, code) || rec.Hash == "" {
		t.Errorf("the record keeps the code itself: %+v", rec)
	}
	if !rec.Expires.Equal(at.Add(DefaultCodeTTL)) {
		t.Errorf("expires %s, want 24 h after issue", rec.Expires)
	}
	typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	if !rec.Matches(typed) {
		t.Errorf("the code typed as %q does not match", typed)
	}
	// Another code: the last character changed (to X, or to Y when it was X,
	// which one code in 32 is).
	last := "X"
	if strings.HasSuffix(code, "X") {
		last = "Y"
	}
	if rec.Matches(code[:len(code)-1] + last) {
		t.Error("another code matches")
	}

	tests := []struct {
		name string
		at   time.Time
		used bool
		err  error
	}{
		{"fresh", at.Add(time.Hour), false, nil},
		{"last second", at.Add(DefaultCodeTTL - time.Second), false, nil},
		{"expired", at.Add(DefaultCodeTTL), false, ErrCodeExpired},
		{"used", at.Add(time.Hour), true, ErrCodeUsed},
	}
	for _, tt := range tests {
		r := rec
		if tt.used {
			if err := r.Redeem(at, "dev-a"); err != nil {
				t.Fatal(err)
			}
		}
		err := r.Redeem(tt.at, "dev-b")
		if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
		}
		if err == nil && (r.UsedBy != "dev-b" || !r.UsedAt.Equal(tt.at)) {
			t.Errorf("%s: redemption not recorded: %+v", tt.name, r)
		}
	}

	op.Status = Applied
	if _, _, err := NewEnrolmentCode(nil, op, "m.bianchi", at, 0); !errors.Is(err, ErrTransition) {
		t.Errorf("a code for an application: %v", err)
	}
}

func TestCodesDiffer(t *testing.T) {
	op := testOperator(t)
	op.Status = Active
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		code, _, err := NewEnrolmentCode(nil, op, "x", time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if seen[code] {
			t.Fatalf("code %s came twice", code)
		}
		seen[code] = true
	}
	// A fixed random source gives a fixed code, so tests can reproduce one.
	a, _, _ := NewEnrolmentCode(bytes.NewReader(make([]byte, 10)), op, "x", time.Now(), time.Hour)
	if a != "0000-0000-0000-0000" {
		t.Errorf("zero bytes gave %s", a)
	}
}

func TestNormaliseCode(t *testing.T) {
	if got := NormaliseCode("ab0o-1il "); got != "AB00111" {
		t.Errorf("got %q", got)
	}
}

func TestDevice(t *testing.T) {
	op := testOperator(t)
	op.Status = Active
	pub, _, _ := ed25519.GenerateKey(nil)
	at := rome("2026-03-01 10:00")
	d, err := NewDevice(op, pub, " Cassa 1 ", at)
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyID != KeyIDFor(pub) || d.Name != "Cassa 1" || d.Status != DeviceActive || d.OperatorID != op.ID {
		t.Errorf("device %+v", d)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if KeyIDFor(other) == d.KeyID {
		t.Error("two keys share a key id")
	}
	for name, bad := range map[string]struct {
		pub  []byte
		name string
		st   Status
	}{
		"short key":     {pub[:31], "x", Active},
		"control chars": {pub, "a\nb", Active},
		"long name":     {pub, strings.Repeat("x", MaxDeviceName+1), Active},
		"suspended":     {pub, "x", Suspended},
		"applied":       {pub, "x", Applied},
	} {
		op.Status = bad.st
		if _, err := NewDevice(op, bad.pub, bad.name, at); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := d.Revoke(at, "m.bianchi", ""); err == nil {
		t.Error("revoked without a reason")
	}
	if err := d.Revoke(at, "m.bianchi", "stolen"); err != nil || d.Status != DeviceRevoked || d.Revoked.Reason != "stolen" {
		t.Errorf("revoke: %v %+v", err, d)
	}
	if err := d.Revoke(at, "m.bianchi", "again"); !errors.Is(err, ErrTransition) {
		t.Errorf("second revoke: %v", err)
	}
}
