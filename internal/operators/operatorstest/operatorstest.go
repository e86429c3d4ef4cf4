// Package operatorstest is the suite every implementation of the
// operators' view of a hub transaction (operators.Tx, handed out by
// store.Tx.Operators) passes, through operators.Service as the hub uses it
// and through the view itself.
//
// A backend's test calls Run with a function opening a new, empty store:
//
//	func TestOperators(t *testing.T) { operatorstest.Run(t, open) }
//
// and, for a backend several hubs share, RunShared with a function opening
// a second Store on the same data.
package operatorstest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/operators/clerktest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// Open returns a new, empty store.
type Open func(t *testing.T) store.Store

// Clock is a settable clock for the service.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now reads the clock.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Service is the operators' service on s with clock c.
func Service(s store.Store, c *Clock) *operators.Service {
	return operators.NewService(s, store.Tx.Operators, nil, c.Now, operators.Policy{})
}

func newClock() *Clock { return &Clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, operators.Rome)} }

// Shop is a valid application of an edicola in Milan.
func Shop() *operators.Operator {
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

func activeShop(t testing.TB, s *operators.Service, o *operators.Operator) *operators.Operator {
	t.Helper()
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

func enrol(t testing.TB, s *operators.Service, opID, name string) (*operators.Device, ed25519.PublicKey) {
	t.Helper()
	code, _, err := s.IssueCode(opID, "staff", 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	d, err := s.Enrol(code, pub, name)
	if err != nil {
		t.Fatal(err)
	}
	return d, pub
}

// Run runs the suite.
func Run(t *testing.T, open Open) {
	ctx := context.Background()

	// hub migrate restores operators and clerks under their own ids; the
	// ids handed out afterwards come after them, and an id stored already
	// is refused.
	t.Run("restore keeps ids and moves the sequence", func(t *testing.T) {
		st := open(t)
		o := Shop()
		o.ID = "op-0042"
		c := &operators.Clerk{ID: "cl-0007", OperatorID: o.ID, CF: "RSSMRA50B17A558W", Name: "Mario Rossi"}
		err := st.Update(ctx, func(tx store.Tx) error {
			if err := tx.Operators().RestoreOperator(o); err != nil {
				return err
			}
			return tx.Operators().RestoreClerk(c)
		})
		if err != nil {
			t.Fatal(err)
		}
		var next *operators.Operator
		var nextClerk *operators.Clerk
		err = st.Update(ctx, func(tx store.Tx) error {
			if err := tx.Operators().RestoreOperator(o); !errors.Is(err, operators.ErrInvalid) {
				t.Errorf("restoring %s twice: %v, want ErrInvalid", o.ID, err)
			}
			if err := tx.Operators().RestoreOperator(&operators.Operator{ID: "shop-1"}); !errors.Is(err, operators.ErrInvalid) {
				t.Errorf("restoring an id of another form: %v, want ErrInvalid", err)
			}
			next = Shop()
			next.Address.Number = "2" // another shop of the same owner
			if err := tx.Operators().AddOperator(next); err != nil {
				return err
			}
			nextClerk = &operators.Clerk{OperatorID: next.ID, CF: "VRDLGU80A01F205X", Name: "Luigi Verdi"}
			return tx.Operators().AddClerk(nextClerk)
		})
		if err != nil {
			t.Fatal(err)
		}
		if next.ID != "op-0043" || nextClerk.ID != "cl-0008" {
			t.Errorf("after restoring op-0042 and cl-0007 the next ids are %s and %s, want op-0043 and cl-0008", next.ID, nextClerk.ID)
		}
		err = st.View(ctx, func(tx store.Tx) error {
			got, err := tx.Operators().Operator("op-0042")
			if err != nil || got.LegalName != o.LegalName {
				t.Errorf("restored operator: %+v, %v", got, err)
			}
			cl, err := tx.Operators().Clerk("cl-0007")
			if err != nil || cl.CF != c.CF {
				t.Errorf("restored clerk: %+v, %v", cl, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("add, list, lifecycle", func(t *testing.T) {
		s := Service(open(t), newClock())
		o := activeShop(t, s, Shop())
		if o.ID != "op-0001" {
			t.Errorf("first id %q, want op-0001", o.ID)
		}
		if err := s.Add(Shop(), "staff"); !errors.Is(err, operators.ErrInvalid) {
			t.Errorf("the same shop twice: %v, want ErrInvalid", err)
		}
		other := Shop()
		other.Address.Number = "35"
		if err := s.Add(other, "staff"); err != nil || other.ID == o.ID || other.ID == "" {
			t.Fatalf("another address: id %q err %v", other.ID, err)
		}
		got, err := s.Get(o.ID)
		if err != nil || got.Status != operators.Active || len(got.History) != 3 || got.LegalName != o.LegalName {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		if _, err := s.SetStatus(o.ID, operators.Applied, "staff", "x"); !errors.Is(err, operators.ErrTransition) {
			t.Errorf("back to applied: %v, want ErrTransition", err)
		}
		if _, err := s.Get("op-9999"); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("missing operator: %v, want ErrNotFound", err)
		}
		if _, err := s.SetStatus("op-9999", operators.Approved, "staff", ""); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("status of a missing operator: %v, want ErrNotFound", err)
		}
		all, err := s.List()
		if err != nil || len(all) != 2 || all[0].ID != o.ID || all[1].ID != other.ID {
			t.Fatalf("List = %v, %v; want both in id order", all, err)
		}
		// A revoked shop's partita IVA may apply again at its address.
		if _, err := s.SetStatus(o.ID, operators.Revoked, "staff", "closed"); err != nil {
			t.Fatal(err)
		}
		if err := s.Add(Shop(), "staff"); err != nil {
			t.Errorf("the shop again after its revocation: %v", err)
		}
	})

	t.Run("widening is validated and kept", func(t *testing.T) {
		s := Service(open(t), newClock())
		o := activeShop(t, s, Shop())
		got, err := s.SetWidening(o.ID, "  art. 33 DPR 223/1989  ")
		if err != nil || got.Agreement.Widening != "art. 33 DPR 223/1989" {
			t.Fatalf("SetWidening = %+v, %v", got, err)
		}
		if again, _ := s.Get(o.ID); again.Agreement.Widening != "art. 33 DPR 223/1989" {
			t.Errorf("stored widening %q", again.Agreement.Widening)
		}
		if _, err := s.Update(o.ID, func(o *operators.Operator) error { o.Agreement.FeeCents = -1; return nil }); !errors.Is(err, operators.ErrInvalid) {
			t.Errorf("a negative fee: %v, want ErrInvalid", err)
		}
		if again, _ := s.Get(o.ID); again.Agreement.FeeCents != 200 {
			t.Errorf("a refused change was stored: fee %d", again.Agreement.FeeCents)
		}
	})

	t.Run("enrolment codes and devices", func(t *testing.T) {
		c := newClock()
		s := Service(open(t), c)
		o := activeShop(t, s, Shop())
		code, rec, err := s.IssueCode(o.ID, "staff", 0)
		if err != nil || rec.Hash == "" || rec.Hash == code {
			t.Fatalf("IssueCode = %q %+v %v", code, rec, err)
		}
		if _, _, err := s.IssueCode("op-9999", "staff", 0); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("a code for a missing operator: %v", err)
		}
		pub, _, _ := ed25519.GenerateKey(nil)
		d, err := s.Enrol(code, pub, "Cassa 1")
		if err != nil || d.OperatorID != o.ID {
			t.Fatalf("Enrol = %+v, %v", d, err)
		}
		pub2, _, _ := ed25519.GenerateKey(nil)
		if _, err := s.Enrol(code, pub2, "again"); !errors.Is(err, operators.ErrCodeUsed) {
			t.Errorf("a used code: %v, want ErrCodeUsed", err)
		}
		if _, err := s.Enrol("0000-0000-0000-0000", pub2, "x"); !errors.Is(err, operators.ErrCodeUnknown) {
			t.Errorf("an unknown code: %v, want ErrCodeUnknown", err)
		}
		c.Add(time.Second)
		code2, _, _ := s.IssueCode(o.ID, "staff", time.Hour)
		if _, err := s.Enrol(code2, pub, "same key"); !errors.Is(err, operators.ErrKeyInUse) {
			t.Errorf("the same key twice: %v, want ErrKeyInUse", err)
		}
		// The failed attempt rolled back: the code is still usable.
		c.Add(59 * time.Minute)
		if _, err := s.Enrol(code2, pub2, "Cassa 2"); err != nil {
			t.Errorf("a code after a rolled-back attempt: %v", err)
		}
		code3, _, _ := s.IssueCode(o.ID, "staff", time.Hour)
		c.Add(time.Hour)
		pub3, _, _ := ed25519.GenerateKey(nil)
		if _, err := s.Enrol(code3, pub3, "late"); !errors.Is(err, operators.ErrCodeExpired) {
			t.Errorf("an expired code: %v, want ErrCodeExpired", err)
		}
		ds, err := s.Devices(o.ID)
		if err != nil || len(ds) != 2 || ds[0].KeyID >= ds[1].KeyID {
			t.Fatalf("Devices = %v, %v; want two in key id order", ds, err)
		}
		if ds, _ := s.Devices("op-9999"); len(ds) != 0 {
			t.Errorf("devices of a missing operator: %v", ds)
		}
		codes, err := s.Codes(o.ID)
		if err != nil || len(codes) != 3 || !codes[0].IssuedAt.After(codes[2].IssuedAt) {
			t.Fatalf("Codes = %+v, %v; want three, newest first", codes, err)
		}
		if codes[2].UsedBy != d.KeyID || codes[0].UsedBy != "" {
			t.Errorf("codes' use: %+v", codes)
		}
		if _, err := s.Device("dev-nope"); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("a missing device: %v, want ErrNotFound", err)
		}
	})

	t.Run("key resolution follows device and operator", func(t *testing.T) {
		s := Service(open(t), newClock())
		o := activeShop(t, s, Shop())
		d, pub := enrol(t, s, o.ID, "Cassa 1")
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
		var sus *httpsig.Suspension
		if _, err := s.ResolveKey(ctx, d.KeyID); !errors.As(err, &sus) || sus.Notice != "unpaid" {
			t.Errorf("a suspension's notice: %v", err)
		}
		s.SetStatus(o.ID, operators.Active, "staff", "paid")
		check(nil)
		if _, err := s.RevokeDevice(d.KeyID, "staff", "stolen"); err != nil {
			t.Fatal(err)
		}
		check(httpsig.ErrKeyRevoked)
		if _, err := s.ResolveKey(ctx, "dev-nope"); !errors.Is(err, httpsig.ErrUnknownKey) {
			t.Errorf("an unknown key: %v", err)
		}
	})

	t.Run("touch writes at most every ContactInterval", func(t *testing.T) {
		c := newClock()
		s := Service(open(t), c)
		o := activeShop(t, s, Shop())
		d, _ := enrol(t, s, o.ID, "Cassa 1")
		first := c.Now()
		for i, step := range []time.Duration{0, time.Minute, operators.ContactInterval} {
			c.Add(step)
			if err := s.Touch(d.KeyID); err != nil {
				t.Fatal(err)
			}
			got, _ := s.Device(d.KeyID)
			want := first
			if i == 2 {
				want = c.Now()
			}
			if !got.LastContact.Equal(want) {
				t.Errorf("step %d: last contact %s, want %s", i, got.LastContact, want)
			}
		}
		if err := s.Touch("dev-nope"); !errors.Is(err, operators.ErrNotFound) {
			t.Errorf("touching a missing device: %v", err)
		}
	})

	t.Run("suspend and reinstate a device", func(t *testing.T) {
		s := Service(open(t), newClock())
		o := activeShop(t, s, Shop())
		d, _ := enrol(t, s, o.ID, "Cassa 1")
		if _, err := s.ReinstateDevice(d.KeyID, "staff:rossi", "fine"); !errors.Is(err, operators.ErrTransition) {
			t.Fatalf("reinstating an active device: %v", err)
		}
		if _, err := s.SuspendDevice(d.KeyID, "system:limits", "flood: 50 rate-limited requests in 10 minutes"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ResolveKey(ctx, d.KeyID); !errors.Is(err, httpsig.ErrKeySuspended) {
			t.Fatalf("a suspended device's key: %v, want ErrKeySuspended", err)
		}
		if _, err := s.ReinstateDevice(d.KeyID, "staff:rossi", ""); !errors.Is(err, operators.ErrTransition) {
			t.Fatalf("reinstating without a note: %v", err)
		}
		got, err := s.ReinstateDevice(d.KeyID, "staff:rossi", "the shop's test script; stopped")
		if err != nil || got.Status != operators.DeviceActive || len(got.History) != 2 || got.History[1].By != "staff:rossi" {
			t.Fatalf("reinstated: %+v %v", got, err)
		}
		if _, err := s.ResolveKey(ctx, d.KeyID); err != nil {
			t.Fatalf("a reinstated device's key: %v", err)
		}
	})

	t.Run("backlog reports", func(t *testing.T) { backlog(t, open) })

	t.Run("clerks", func(t *testing.T) {
		clerktest.Run(t, func(t *testing.T) (operators.ClerkStore, string, string) {
			s := Service(open(t), newClock())
			a, b := activeShop(t, s, Shop()), Shop()
			b.PartitaIVA = "12345670157"
			if err := s.Add(b, "staff"); err != nil {
				t.Fatal(err)
			}
			return s, a.ID, b.ID
		})
	})

	t.Run("a failed update leaves nothing", func(t *testing.T) {
		st := open(t)
		s := Service(st, newClock())
		o := activeShop(t, s, Shop())
		boom := errors.New("boom")
		err := st.Update(ctx, func(tx store.Tx) error {
			ops := tx.Operators()
			x := Shop()
			x.PartitaIVA = "12345670157"
			if err := operators.AddOperator(ops, x, operators.Policy{}, time.Now(), "staff"); err != nil {
				return err
			}
			if _, _, err := operators.IssueCode(ops, nil, o.ID, "staff", time.Now(), 0); err != nil {
				return err
			}
			if _, err := operators.SetStatus(ops, o.ID, operators.Suspended, time.Now(), "staff", "x"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v, want the function's error", err)
		}
		all, _ := s.List()
		got, _ := s.Get(o.ID)
		codes, _ := s.Codes(o.ID)
		if len(all) != 1 || got.Status != operators.Active || len(codes) != 0 {
			t.Errorf("after a failed update: %d operators, status %s, %d codes", len(all), got.Status, len(codes))
		}
	})

	t.Run("a view refuses changes", func(t *testing.T) {
		st := open(t)
		s := Service(st, newClock())
		o := activeShop(t, s, Shop())
		d, _ := enrol(t, s, o.ID, "Cassa 1")
		changes := map[string]func(operators.Tx) error{
			"AddOperator": func(v operators.Tx) error { x := Shop(); x.PartitaIVA = "12345670157"; return v.AddOperator(x) },
			"PutOperator": func(v operators.Tx) error { return v.PutOperator(o) },
			"PutDevice":   func(v operators.Tx) error { return v.PutDevice(d) },
			"PutBacklog":  func(v operators.Tx) error { return v.PutBacklog(operators.Backlog{KeyID: d.KeyID}) },
		}
		for name, change := range changes {
			err := st.View(ctx, func(tx store.Tx) error { return change(tx.Operators()) })
			if !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("%s in a view: %v, want store.ErrReadOnly", name, err)
			}
		}
		if all, _ := s.List(); len(all) != 1 {
			t.Errorf("a view added an operator: %d", len(all))
		}
	})

	t.Run("changes to missing records", func(t *testing.T) {
		st := open(t)
		err := st.Update(ctx, func(tx store.Tx) error {
			v := tx.Operators()
			for name, err := range map[string]error{
				"PutOperator": v.PutOperator(&operators.Operator{ID: "op-9999"}),
				"PutDevice":   v.PutDevice(&operators.Device{KeyID: "dev-nope"}),
				"PutClerk":    v.PutClerk(&operators.Clerk{ID: "cl-9999"}),
			} {
				if !errors.Is(err, operators.ErrNotFound) {
					t.Errorf("%s of a missing record: %v, want ErrNotFound", name, err)
				}
			}
			if b, err := v.Backlog("dev-nope"); b != nil || err != nil {
				t.Errorf("the backlog of a device that never reported: %+v, %v; want nil, nil", b, err)
			}
			if err := v.DeleteClerkSession("nope"); err != nil {
				t.Errorf("ending an unknown session: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func backlog(t *testing.T, open Open) {
	c := newClock()
	s := Service(open(t), c)
	o := activeShop(t, s, Shop())
	d, _ := enrol(t, s, o.ID, "Cassa 1")
	if b, err := s.Backlog(d.KeyID); err != nil || b != nil {
		t.Fatalf("before any report: %+v, %v", b, err)
	}
	if got := (*operators.Backlog)(nil).Oldest(); !got.IsZero() {
		t.Errorf("no report has an oldest operation at %s", got)
	}
	type B = operators.Backlog
	tests := []struct {
		name    string
		keyID   string
		b       B
		wantErr error
	}{
		{"three queued", d.KeyID, B{Pending: 3, Refused: 1, OldestAge: 90 * time.Minute, AmountCents: 5406}, nil},
		{"drained", d.KeyID, B{Refused: 1}, nil},
		{"unknown device", "dev-nobody", B{}, operators.ErrNotFound},
		{"negative count", d.KeyID, B{Pending: -1}, operators.ErrInvalid},
		{"negative amount", d.KeyID, B{Pending: 1, AmountCents: -200}, operators.ErrInvalid},
		{"age from a broken clock", d.KeyID, B{Pending: 1, OldestAge: 2 * operators.MaxBacklogAge}, operators.ErrInvalid},
		{"an empty queue with money in it", d.KeyID, B{AmountCents: 200}, operators.ErrInvalid},
		{"92 quadrillion euro", d.KeyID, B{Pending: 1, OldestAge: time.Minute, AmountCents: 1<<63 - 1}, operators.ErrInvalid},
		{"more than a thousand euro an operation", d.KeyID, B{Pending: 2, OldestAge: time.Minute, AmountCents: 2*operators.MaxBacklogOpCents + 1}, operators.ErrInvalid},
		{"a thousand euro an operation", d.KeyID, B{Pending: 2, OldestAge: time.Minute, AmountCents: 2 * operators.MaxBacklogOpCents}, nil},
		{"more operations than a kiosk holds", d.KeyID, B{Pending: operators.MaxBacklogOps + 1, OldestAge: time.Minute}, operators.ErrInvalid},
		{"more refusals than a kiosk holds", d.KeyID, B{Refused: 1 << 62}, operators.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Backlog(d.KeyID)
			c.Add(time.Minute)
			got, err := s.SetBacklog(tt.keyID, tt.b)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SetBacklog = %v, want %v", err, tt.wantErr)
				}
				if after, _ := s.Backlog(d.KeyID); (before == nil) != (after == nil) || (after != nil && !same(*after, *before)) {
					t.Errorf("a refused report changed the stored one: %+v → %+v", before, after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := s.Backlog(d.KeyID)
			if err != nil || stored == nil || !same(*stored, *got) {
				t.Fatalf("stored %+v, %v; SetBacklog returned %+v", stored, err, got)
			}
			want := tt.b
			want.KeyID, want.Reported = d.KeyID, c.Now().UTC()
			if !same(*stored, want) {
				t.Errorf("stored %+v, want %+v", stored, want)
			}
			if tt.b.Pending > 0 && !stored.Oldest().Equal(c.Now().Add(-tt.b.OldestAge)) {
				t.Errorf("oldest %s, want %s", stored.Oldest(), c.Now().Add(-tt.b.OldestAge))
			}
			if tt.b.Pending == 0 && !stored.Oldest().IsZero() {
				t.Errorf("an empty backlog's oldest is %s", stored.Oldest())
			}
		})
	}
}

// same compares two reports, their instants as instants.
func same(a, b operators.Backlog) bool {
	ra, rb := a.Reported, b.Reported
	a.Reported, b.Reported = time.Time{}, time.Time{}
	return a == b && ra.Equal(rb)
}

// RunShared runs the checks of two hubs on the same data: second opens
// another Store on the data of first.
func RunShared(t *testing.T, open Open, second func(t *testing.T, first store.Store) store.Store) {
	t.Run("two hubs enrol and see each other's changes", func(t *testing.T) {
		st := open(t)
		c := newClock()
		a, b := Service(st, c), Service(second(t, st), c)
		o := activeShop(t, a, Shop())
		d, _ := enrol(t, b, o.ID, "Cassa 1")
		if _, err := a.ResolveKey(context.Background(), d.KeyID); err != nil {
			t.Fatalf("hub A resolves the device hub B enrolled: %v", err)
		}
		if _, err := b.RevokeDevice(d.KeyID, "staff", "stolen"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.ResolveKey(context.Background(), d.KeyID); !errors.Is(err, httpsig.ErrKeyRevoked) {
			t.Fatalf("hub A after hub B revoked the device: %v, want ErrKeyRevoked", err)
		}
	})

	t.Run("two hubs adding the same shop at once make one", func(t *testing.T) {
		st := open(t)
		c := newClock()
		hubs := []*operators.Service{Service(st, c), Service(second(t, st), c)}
		const tries = 8
		errs := make(chan error, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- hubs[i%2].Add(Shop(), fmt.Sprintf("staff-%d", i))
			}()
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, operators.ErrInvalid):
				t.Errorf("a refused twin: %v, want ErrInvalid", err)
			}
		}
		all, _ := hubs[0].List()
		if ok != 1 || len(all) != 1 {
			t.Fatalf("%d adds succeeded, %d operators stored; want one", ok, len(all))
		}
	})
}
