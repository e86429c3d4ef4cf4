package cie_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cie"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/iso7816"
)

var now = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func trust(t testing.TB) []*x509.Certificate {
	t.Helper()
	ca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{ca}
}

func newCard(t testing.TB, cfg virtual.Config) *virtual.Card {
	t.Helper()
	c, err := virtual.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReadLevel1(t *testing.T) {
	tests := []struct {
		name     string
		cfg      virtual.Config
		noTrust  bool
		at       time.Time
		genuine  bool
		signed   bool
		problems []cie.Code
		ias      string
		sig      string
	}{
		{name: "genuine", cfg: virtual.Config{NIS: "987654321098"}, genuine: true, signed: true, ias: "AID", sig: "RSA PKCS#1 v1.5 with SHA-256"},
		{name: "genuine new chip", cfg: virtual.Config{NewChip: true}, genuine: true, signed: true, ias: "MF", sig: "RSASSA-PSS"},
		{name: "pin-blocked still identifies", cfg: virtual.Config{Mode: virtual.PINBlocked}, genuine: true, signed: true, ias: "AID"},
		{name: "cloned", cfg: virtual.Config{Mode: virtual.Cloned}, signed: true, problems: []cie.Code{cie.ChipAuthFailed}, ias: "AID"},
		{name: "tampered", cfg: virtual.Config{Mode: virtual.Tampered}, genuine: true, problems: []cie.Code{cie.NISHashMismatch}, ias: "AID"},
		{name: "expired", cfg: virtual.Config{Mode: virtual.Expired}, genuine: true, problems: []cie.Code{cie.SignerExpired}, ias: "AID"},
		{name: "expired card read back in 2022", cfg: virtual.Config{Mode: virtual.Expired}, at: time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC), genuine: true, signed: true, ias: "AID"},
		{name: "not yet valid", cfg: virtual.Config{}, at: time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC), genuine: true, problems: []cie.Code{cie.SignerNotYetValid}, ias: "AID"},
		{name: "no trusted CSCA", cfg: virtual.Config{}, noTrust: true, genuine: true, problems: []cie.Code{cie.UntrustedIssuer}, ias: "AID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card := newCard(t, tt.cfg)
			opt := cie.Options{CSCAs: trust(t), Now: now}
			if tt.noTrust {
				opt.CSCAs = nil
			}
			if !tt.at.IsZero() {
				opt.Now = tt.at
			}
			r, err := cie.ReadLevel1(context.Background(), card, opt)
			if err != nil {
				t.Fatal(err)
			}
			if r.NIS != card.NIS() {
				t.Errorf("NIS = %q, want %q", r.NIS, card.NIS())
			}
			if r.ChipGenuine != tt.genuine || r.IssuerSigned != tt.signed {
				t.Errorf("genuine %v signed %v, want %v %v; problems %v", r.ChipGenuine, r.IssuerSigned, tt.genuine, tt.signed, r.Problems)
			}
			if len(r.Problems) != len(tt.problems) {
				t.Fatalf("problems %v, want codes %v", r.Problems, tt.problems)
			}
			for _, c := range tt.problems {
				if !r.Has(c) {
					t.Errorf("problems %v lack %s", r.Problems, c)
				}
			}
			for _, p := range r.Problems {
				if p.Detail == "" {
					t.Errorf("problem %s has no explanation", p.Code)
				}
			}
			if r.IAS != tt.ias {
				t.Errorf("IAS selected by %q, want %q", r.IAS, tt.ias)
			}
			if tt.sig != "" && r.SignatureAlgorithm != tt.sig {
				t.Errorf("signature algorithm %q, want %q", r.SignatureAlgorithm, tt.sig)
			}
			if r.Verified() != (tt.genuine && tt.signed) {
				t.Error("Verified disagrees with the verdicts")
			}
		})
	}
}

// Pulling the card at any point of the exchange must give a read error, never a verdict.
func TestRemovedMidRead(t *testing.T) {
	card := newCard(t, virtual.Config{})
	total := &counter{T: card}
	if _, err := cie.ReadLevel1(context.Background(), total, cie.Options{CSCAs: trust(t), Now: now}); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < total.n; n++ {
		card.Reset()
		_, err := cie.ReadLevel1(context.Background(), &virtual.Removable{Card: card, After: n}, cie.Options{CSCAs: trust(t), Now: now})
		var re *cie.ReadError
		if !errors.As(err, &re) || !errors.Is(err, virtual.ErrRemoved) {
			t.Errorf("removed after %d of %d commands: err = %v, want a ReadError wrapping ErrRemoved", n, total.n, err)
		}
	}
}

type counter struct {
	T iso7816.Transport
	n int
}

func (c *counter) Transmit(ctx context.Context, b []byte) ([]byte, error) {
	c.n++
	return c.T.Transmit(ctx, b)
}

// tamper flips bytes in answers to chosen commands.
type tamper struct {
	T     iso7816.Transport
	match func(cmd []byte) bool
	at    int // offset from the end of the data
}

func (tp *tamper) Transmit(ctx context.Context, b []byte) ([]byte, error) {
	r, err := tp.T.Transmit(ctx, b)
	if err == nil && tp.match(b) && len(r) > 2+tp.at {
		r = append([]byte(nil), r...)
		r[len(r)-3-tp.at] ^= 0x01
	}
	return r, err
}

func TestAlteredInTransit(t *testing.T) {
	tests := []struct {
		name  string
		match func([]byte) bool
		at    int
		code  cie.Code
	}{
		{"signature of internal auth", func(b []byte) bool { return b[1] == 0x88 }, 0, cie.ChipAuthFailed},
		{"DS signature in the SOD", func(b []byte) bool { return b[1] == 0xB0 && b[2] != 0x81 && b[2] != 0x85 }, 5, cie.SignatureInvalid},
		{"key file", func(b []byte) bool { return b[1] == 0xB0 && b[2] == 0x85 }, 20, cie.ChipAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card := newCard(t, virtual.Config{})
			r, err := cie.ReadLevel1(context.Background(), &tamper{T: card, match: tt.match, at: tt.at}, cie.Options{CSCAs: trust(t), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Has(tt.code) || r.Verified() {
				t.Fatalf("problems %v, want %s", r.Problems, tt.code)
			}
		})
	}
}

func pinOpt(t testing.TB) cie.PINOptions {
	t.Helper()
	auth, err := virtual.TestDeviceAuth()
	if err != nil {
		t.Fatal(err)
	}
	return cie.PINOptions{Auth: auth}
}

func TestVerifyPIN(t *testing.T) {
	for _, newChip := range []bool{false, true} {
		t.Run(fmt.Sprintf("new chip %v", newChip), func(t *testing.T) {
			ctx := context.Background()
			opt := pinOpt(t)
			card := newCard(t, virtual.Config{NewChip: newChip})
			if n, err := cie.PINTriesLeft(ctx, card, opt); err != nil || n != 3 {
				t.Fatalf("PINTriesLeft = %d, %v; want 3", n, err)
			}
			if err := cie.VerifyPIN(ctx, card, []byte("1234"), opt); !errors.Is(err, cie.ErrPINFormat) {
				t.Fatalf("short PIN: %v", err)
			}
			for _, want := range []int{2, 1} {
				err := cie.VerifyPIN(ctx, card, []byte("00000000"), opt)
				var pe *cie.PINError
				if !errors.As(err, &pe) || pe.TriesLeft != want || pe.Blocked {
					t.Fatalf("wrong PIN: %v, want %d tries left", err, want)
				}
			}
			if err := cie.VerifyPIN(ctx, card, []byte(virtual.DemoPIN), opt); err != nil {
				t.Fatalf("right PIN: %v", err)
			}
			if n, _ := cie.PINTriesLeft(ctx, card, opt); n != 3 {
				t.Fatalf("a right PIN did not reset the counter: %d", n)
			}
			for i := 0; i < 3; i++ {
				cie.VerifyPIN(ctx, card, []byte("00000000"), opt)
			}
			var pe *cie.PINError
			if err := cie.VerifyPIN(ctx, card, []byte(virtual.DemoPIN), opt); !errors.As(err, &pe) || !pe.Blocked {
				t.Fatalf("after 3 wrong PINs: %v, want blocked", err)
			}
		})
	}
	cloned := newCard(t, virtual.Config{Mode: virtual.Cloned})
	if err := cie.VerifyPIN(context.Background(), cloned, []byte(virtual.DemoPIN), pinOpt(t)); !errors.Is(err, cie.ErrChipDAPP) {
		t.Fatalf("cloned card: %v, want ErrChipDAPP", err)
	}
	blocked := newCard(t, virtual.Config{Mode: virtual.PINBlocked})
	var pe *cie.PINError
	if err := cie.VerifyPIN(context.Background(), blocked, []byte(virtual.DemoPIN), pinOpt(t)); !errors.As(err, &pe) || !pe.Blocked {
		t.Fatalf("pin-blocked card: %v, want blocked", err)
	}
}

// Without the CA key, or with a wrong one, the PIN is never sent.
func TestVerifyPINDeviceAuth(t *testing.T) {
	p, err := virtual.TestPKI()
	if err != nil {
		t.Fatal(err)
	}
	good := pinOpt(t)
	tests := []struct {
		name string
		auth cie.DeviceAuth
		want error
	}{
		{"no CA key", cie.DeviceAuth{}, cie.ErrNoDeviceAuth},
		{"another key's exponent", cie.DeviceAuth{CAExponent: p.DSKey.D.Bytes(), DeviceKey: good.Auth.DeviceKey}, cie.ErrCAExponent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card := newCard(t, virtual.Config{})
			var seen [][]byte
			card.Log = func(cmd, _ []byte) { seen = append(seen, append([]byte(nil), cmd...)) }
			if err := cie.VerifyPIN(context.Background(), card, []byte(virtual.DemoPIN), cie.PINOptions{Auth: tt.auth}); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, c := range seen {
				if c[1] == 0x20 {
					t.Fatalf("VERIFY was sent: %X", c)
				}
			}
		})
	}
}

// The PIN must never cross the reader in clear, and a tampered secure
// message must be refused by either side.
func TestPINSecureChannel(t *testing.T) {
	ctx := context.Background()
	opt := pinOpt(t)
	card := newCard(t, virtual.Config{})
	var seen [][]byte
	card.Log = func(cmd, resp []byte) { seen = append(seen, append([]byte(nil), cmd...), append([]byte(nil), resp...)) }
	opt.Rand = rand.New(rand.NewSource(1))
	if err := cie.VerifyPIN(ctx, card, []byte(virtual.DemoPIN), opt); err != nil {
		t.Fatal(err)
	}
	opt.Rand = nil
	sawVerify := false
	for _, c := range seen {
		if bytes.Contains(c, []byte(virtual.DemoPIN)) {
			t.Fatalf("the PIN crossed in clear: %X", c)
		}
		sawVerify = sawVerify || len(c) > 4 && c[0] == 0x0C && c[1] == 0x20
	}
	if !sawVerify {
		t.Fatal("no protected VERIFY was sent")
	}
	plain := iso7816.Command{INS: 0x20, P2: cie.PINRef, Data: []byte(virtual.DemoPIN)}
	raw, _ := plain.Bytes()
	if r, _ := card.Transmit(ctx, raw); !bytes.Equal(r, []byte{0x69, 0x87}) {
		t.Fatalf("VERIFY in clear answered %X, want 6987", r)
	}

	isVerify := func(b []byte) bool { return b[0]&0x0C != 0 && b[1] == 0x20 }
	card.Reset()
	err := cie.VerifyPIN(ctx, &tamper{T: card, match: isVerify, at: 1}, []byte(virtual.DemoPIN), opt)
	if !errors.Is(err, cie.ErrSMResponse) {
		t.Fatalf("tampered SM response: %v, want ErrSMResponse", err)
	}

	// A flipped bit in the command's MAC: the card refuses with 6988 and
	// does not count a try.
	card.Reset()
	err = cie.VerifyPIN(ctx, &tamperCmd{T: card, match: isVerify}, []byte("00000000"), opt)
	var se *iso7816.StatusError
	var pe *cie.PINError
	if !errors.As(err, &se) || se.SW != 0x6988 || errors.As(err, &pe) {
		t.Fatalf("tampered SM command: %v, want status 6988", err)
	}
	if n, err := cie.PINTriesLeft(ctx, card, opt); err != nil || n != 3 {
		t.Fatalf("after a refused command: %d tries, %v; want 3", n, err)
	}
}

// tamperCmd flips the last MAC byte of chosen commands.
type tamperCmd struct {
	T     iso7816.Transport
	match func(cmd []byte) bool
}

func (tp *tamperCmd) Transmit(ctx context.Context, b []byte) ([]byte, error) {
	if tp.match(b) {
		b = append([]byte(nil), b...)
		b[len(b)-2] ^= 0x01 // the byte before Le
	}
	return tp.T.Transmit(ctx, b)
}

func TestParseSODRejects(t *testing.T) {
	card := newCard(t, virtual.Config{})
	sod := readSOD(t, card)
	if _, err := cie.ParseSOD(sod); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 1, 10, len(sod) / 2, len(sod) - 1} {
		if _, err := cie.ParseSOD(sod[:cut]); err == nil {
			t.Errorf("ParseSOD accepted the first %d of %d bytes", cut, len(sod))
		}
	}
}

func readSOD(t testing.TB, card *virtual.Card) []byte {
	ch := iso7816.NewChannel(card)
	if _, err := cie.SelectCIE(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	b, err := ch.ReadBinary(context.Background(), "read SOD", cie.SFISOD)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParseSOD(f *testing.F) {
	// Seeds are in testdata/fuzz/FuzzParseSOD: EF.SODs of the virtual card
	// (SHA-256 with PKCS#1 v1.5, SHA-512 with PSS), without the 77 wrapper.
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := cie.ParseSOD(b)
		if err != nil {
			return
		}
		_ = s.CheckSignature()
		_ = s.SignatureAlgorithm()
	})
}

func BenchmarkReadLevel1InProcess(b *testing.B) {
	card := newCard(b, virtual.Config{})
	opt := cie.Options{CSCAs: trust(b), Now: now}
	for b.Loop() {
		card.Reset()
		if _, err := cie.ReadLevel1(context.Background(), card, opt); err != nil {
			b.Fatal(err)
		}
	}
}
