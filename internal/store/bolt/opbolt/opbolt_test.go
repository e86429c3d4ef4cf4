package opbolt

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func open(t *testing.T) (*Store, *clock) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "hub.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{time.Date(2026, 3, 2, 9, 0, 0, 0, operators.Rome)}
	s, err := New(db, c.now, operators.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func shop() *operators.Operator {
	var h operators.Hours
	h.Week.Set(time.Monday, operators.Interval{Open: 7 * 60, Close: 19 * 60})
	return &operators.Operator{
		LegalName: "Edicola Rossi", PartitaIVA: "01199250158", Category: operators.Edicola,
		Address: operators.Address{Street: "Corso Buenos Aires", Number: "33", CAP: "20124", City: "Milano", Lat: 45.4781, Lon: 9.2096},
		Hours:   h,
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 12, Day: 31},
			FeeCents: 200, Types: []certificate.Type{certificate.Residenza}},
	}
}

func activeShop(t *testing.T, s *Store) *operators.Operator {
	t.Helper()
	o := shop()
	if err := s.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []operators.Status{operators.Approved, operators.Active} {
		if _, err := s.SetStatus(o.ID, st, "staff", ""); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// enrolled is a device of an active shop, enrolled with a fresh key.
func enrolled(t *testing.T, s *Store) *operators.Device {
	t.Helper()
	o := activeShop(t, s)
	code, _, err := s.IssueCode(o.ID, "staff", 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	d, err := s.Enrol(code, pub, "Cassa 1")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAddListStatus(t *testing.T) {
	s, _ := open(t)
	o := activeShop(t, s)
	if o.ID != "op-0001" {
		t.Errorf("id %q", o.ID)
	}
	if err := s.Add(shop(), "staff"); !errors.Is(err, operators.ErrInvalid) {
		t.Errorf("duplicate shop: %v", err)
	}
	got, err := s.Get(o.ID)
	if err != nil || got.Status != operators.Active || len(got.History) != 3 {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := s.SetStatus(o.ID, operators.Applied, "staff", "x"); !errors.Is(err, operators.ErrTransition) {
		t.Errorf("back to applied: %v", err)
	}
	if _, err := s.Get("op-9999"); !errors.Is(err, operators.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	all, err := s.List()
	if err != nil || len(all) != 1 {
		t.Errorf("list: %d %v", len(all), err)
	}
}

func TestEnrolAndResolve(t *testing.T) {
	s, c := open(t)
	o := activeShop(t, s)
	code, _, err := s.IssueCode(o.ID, "staff", 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	d, err := s.Enrol(code, pub, "Cassa 1")
	if err != nil {
		t.Fatal(err)
	}
	pub2, _, _ := ed25519.GenerateKey(nil)
	if _, err := s.Enrol(code, pub2, "again"); !errors.Is(err, operators.ErrCodeUsed) {
		t.Errorf("reused code: %v", err)
	}
	if _, err := s.Enrol("0000-0000-0000-0000", pub2, "x"); !errors.Is(err, operators.ErrCodeUnknown) {
		t.Errorf("unknown code: %v", err)
	}
	code2, _, _ := s.IssueCode(o.ID, "staff", time.Hour)
	if _, err := s.Enrol(code2, pub, "same key"); !errors.Is(err, ErrKeyInUse) {
		t.Errorf("same key twice: %v", err)
	}
	// The failed attempt rolled back: the code is still usable.
	c.t = c.t.Add(59 * time.Minute)
	if _, err := s.Enrol(code2, pub2, "Cassa 2"); err != nil {
		t.Errorf("code after a rolled-back attempt: %v", err)
	}
	code3, _, _ := s.IssueCode(o.ID, "staff", time.Hour)
	c.t = c.t.Add(time.Hour)
	pub3, _, _ := ed25519.GenerateKey(nil)
	if _, err := s.Enrol(code3, pub3, "late"); !errors.Is(err, operators.ErrCodeExpired) {
		t.Errorf("expired code: %v", err)
	}
	if ds, _ := s.Devices(o.ID); len(ds) != 2 {
		t.Errorf("%d devices, want 2", len(ds))
	}

	ctx := context.Background()
	check := func(want error) {
		t.Helper()
		k, err := s.ResolveKey(ctx, d.KeyID)
		if want == nil {
			if err != nil || !k.Equal(pub) {
				t.Errorf("resolve: %v", err)
			}
			return
		}
		if !errors.Is(err, want) {
			t.Errorf("resolve: %v, want %v", err, want)
		}
	}
	check(nil)
	s.SetStatus(o.ID, operators.Suspended, "staff", "unpaid")
	check(httpsig.ErrKeySuspended)
	s.SetStatus(o.ID, operators.Active, "staff", "paid")
	check(nil)
	if _, err := s.RevokeDevice(d.KeyID, "staff", "stolen"); err != nil {
		t.Fatal(err)
	}
	check(httpsig.ErrKeyRevoked)
	if _, err := s.ResolveKey(ctx, "dev-nope"); !errors.Is(err, httpsig.ErrUnknownKey) {
		t.Errorf("unknown: %v", err)
	}
}

func TestTouch(t *testing.T) {
	s, c := open(t)
	d := enrolled(t, s)
	first := c.t
	for i, step := range []time.Duration{0, time.Minute, ContactInterval} {
		c.t = c.t.Add(step)
		if err := s.Touch(d.KeyID); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Device(d.KeyID)
		want := first
		if i == 2 {
			want = c.t
		}
		if !got.LastContact.Equal(want) {
			t.Errorf("step %d: last contact %s, want %s", i, got.LastContact, want)
		}
	}
}

// A device suspended by the limits is refused as suspended, not revoked,
// until staff reinstate it; both changes are kept with who and why.
func TestSuspendAndReinstateDevice(t *testing.T) {
	s, _ := open(t)
	d := enrolled(t, s)
	if _, err := s.ReinstateDevice(d.KeyID, "staff:rossi", "fine"); !errors.Is(err, operators.ErrTransition) {
		t.Fatalf("reinstating an active device: %v", err)
	}
	if _, err := s.SuspendDevice(d.KeyID, "system:limits", "flood: 50 rate-limited requests in 10 minutes"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveKey(context.Background(), d.KeyID); !errors.Is(err, httpsig.ErrKeySuspended) {
		t.Fatalf("a suspended device's key: %v, want ErrKeySuspended", err)
	}
	if _, err := s.ReinstateDevice(d.KeyID, "staff:rossi", ""); !errors.Is(err, operators.ErrTransition) {
		t.Fatalf("reinstating without a note: %v", err)
	}
	got, err := s.ReinstateDevice(d.KeyID, "staff:rossi", "the shop's test script; stopped")
	if err != nil || got.Status != operators.DeviceActive || len(got.History) != 2 || got.History[1].By != "staff:rossi" {
		t.Fatalf("reinstated: %+v %v", got, err)
	}
	if _, err := s.ResolveKey(context.Background(), d.KeyID); err != nil {
		t.Fatalf("a reinstated device's key: %v", err)
	}
}
