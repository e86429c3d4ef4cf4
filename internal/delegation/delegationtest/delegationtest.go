// Package delegationtest is the suite every backend's delegation.Tx must
// pass (store.Tx.Delegations), so that PostgreSQL behaves as bbolt does.
//
// A backend's test calls Run with a function that opens a new, empty hub
// store (closed by the test's cleanup) and one that opens a second
// store.Store on the same data, as a second hub on one database does (a
// backend of one process returns the store it is given).
package delegationtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// Codici fiscali of DESIGN.md's reference vectors.
const (
	anna  = "MRTMRA83T56A269B"
	mario = "RSSMRA50B17A558W"
	carla = "CCCFBA85D03L219P"
)

func sample(id, from, to string, created time.Time) delegation.Delegation {
	return delegation.Delegation{ID: id, DelegatorCF: from, DelegatorName: "ROSSI MARIA", DelegateCF: to,
		Scope: delegation.Scope{Certificates: []string{"residenza", "stato_di_famiglia"}, Appointments: true},
		Until: registry.Date{Year: 2027, Month: 3, Day: 31}, Created: created, Channel: "self_service", Actor: "device:K1"}
}

func put(t *testing.T, s store.Store, ds ...delegation.Delegation) {
	t.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, d := range ds {
			if err := tx.Delegations().Put(d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s store.Store, id string) (d delegation.Delegation, err error) {
	t.Helper()
	err = s.View(context.Background(), func(tx store.Tx) (err error) { d, err = tx.Delegations().Get(id); return err })
	return d, err
}

func ids(ds []delegation.Delegation) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// Run runs the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store, twin func(t *testing.T, s store.Store) store.Store) {
	ctx := context.Background()
	t.Run("PutGet", func(t *testing.T) {
		s := open(t)
		if _, err := get(t, s, "DNONE"); !errors.Is(err, delegation.ErrNotFound) {
			t.Errorf("Get of nothing: %v, want ErrNotFound", err)
		}
		want := sample("D1", anna, mario, t0)
		put(t, s, want)
		got, err := get(t, s, "D1")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || !got.Created.Equal(want.Created) {
			t.Errorf("stored %+v, read %+v", want, got)
		}
		err = s.Update(ctx, func(tx store.Tx) error { return tx.Delegations().Put(sample("D1", carla, mario, t0)) })
		if !errors.Is(err, delegation.ErrExists) {
			t.Errorf("Put of an id taken: %v, want ErrExists", err)
		}
		if got, _ := get(t, s, "D1"); got.DelegatorCF != anna {
			t.Errorf("the refused Put changed the delegation: %+v", got)
		}
		err = s.Update(ctx, func(tx store.Tx) error { return tx.Delegations().Put(delegation.Delegation{ID: "D2"}) })
		if !errors.Is(err, delegation.ErrInvalid) {
			t.Errorf("Put with no delegator: %v, want ErrInvalid", err)
		}
	})
	t.Run("GivenReceived", func(t *testing.T) {
		s := open(t)
		put(t, s, sample("D1", anna, mario, t0), sample("D2", anna, carla, t0.Add(time.Hour)),
			sample("D3", carla, anna, t0.Add(2*time.Hour)), sample("D4", anna, mario, t0.Add(3*time.Hour)))
		err := s.View(ctx, func(tx store.Tx) error {
			for _, c := range []struct {
				what string
				list func(string) ([]delegation.Delegation, error)
				cf   string
				want string
			}{
				{"given by anna", tx.Delegations().Given, anna, "[D4 D2 D1]"},
				{"received by anna", tx.Delegations().Received, anna, "[D3]"},
				{"received by mario", tx.Delegations().Received, mario, "[D4 D1]"},
				{"given by mario", tx.Delegations().Given, mario, "[]"},
			} {
				ds, err := c.list(c.cf)
				if err != nil {
					return err
				}
				if got := fmt.Sprint(ids(ds)); got != c.want {
					t.Errorf("%s: %s, want %s (newest first)", c.what, got, c.want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("All", func(t *testing.T) {
		s := open(t)
		var all []delegation.Delegation
		list := func() {
			t.Helper()
			if err := s.View(ctx, func(tx store.Tx) (err error) { all, err = tx.Delegations().All(); return err }); err != nil {
				t.Fatal(err)
			}
		}
		if list(); len(all) != 0 {
			t.Errorf("every delegation of an empty store: %v", ids(all))
		}
		// D2 and D5 were made at the same instant: the id orders them.
		put(t, s, sample("D1", anna, mario, t0), sample("D2", carla, anna, t0.Add(time.Hour)),
			sample("D3", mario, carla, t0.Add(2*time.Hour)), sample("D5", anna, carla, t0.Add(time.Hour)))
		if err := s.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Delegations().Revoke("D3", t0.Add(3*time.Hour), "staff:anna")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		list()
		if got := fmt.Sprint(ids(all)); got != "[D3 D5 D2 D1]" {
			t.Errorf("every delegation: %s, want [D3 D5 D2 D1] (newest first, revoked too)", got)
		}
		if len(all) == 4 && (all[0].Revoked.IsZero() || all[0].RevokedBy != "staff:anna") {
			t.Errorf("the revoked delegation lists as %+v", all[0])
		}
	})
	t.Run("RevokeAndUse", func(t *testing.T) {
		s := open(t)
		put(t, s, sample("D1", anna, mario, t0))
		use := func(at time.Time, ref string) error {
			return s.Update(ctx, func(tx store.Tx) error {
				return tx.Delegations().RecordUse(delegation.Use{DelegationID: "D1", At: at, Service: "certificato residenza", Ref: ref, Channel: "counter"})
			})
		}
		if err := use(t0.Add(time.Hour), "C1"); err != nil {
			t.Fatal(err)
		}
		if err := use(t0.Add(2*time.Hour), "C2"); err != nil {
			t.Fatal(err)
		}
		err := s.Update(ctx, func(tx store.Tx) error {
			return tx.Delegations().RecordUse(delegation.Use{DelegationID: "DNONE", At: t0, Service: "x", Ref: "C0"})
		})
		if !errors.Is(err, delegation.ErrNotFound) {
			t.Errorf("a use of no delegation: %v, want ErrNotFound", err)
		}
		// 1 April 2027 in Rome is past Until (31 March).
		if err := use(time.Date(2027, 3, 31, 22, 30, 0, 0, time.UTC), "C3"); !errors.Is(err, delegation.ErrNotLive) {
			t.Errorf("a use after the last day: %v, want ErrNotLive", err)
		}
		var revoked delegation.Delegation
		err = s.Update(ctx, func(tx store.Tx) (err error) {
			revoked, err = tx.Delegations().Revoke("D1", t0.Add(3*time.Hour), "self_service:"+anna)
			return err
		})
		if err != nil || !revoked.Revoked.Equal(t0.Add(3*time.Hour)) || revoked.RevokedBy == "" {
			t.Fatalf("Revoke: %+v, %v", revoked, err)
		}
		if err := use(t0.Add(4*time.Hour), "C4"); !errors.Is(err, delegation.ErrNotLive) {
			t.Errorf("a use after the revocation: %v, want ErrNotLive", err)
		}
		err = s.Update(ctx, func(tx store.Tx) error { _, err := tx.Delegations().Revoke("D1", t0.Add(5*time.Hour), "x"); return err })
		if !errors.Is(err, delegation.ErrNotLive) {
			t.Errorf("a second Revoke: %v, want ErrNotLive", err)
		}
		err = s.Update(ctx, func(tx store.Tx) error { _, err := tx.Delegations().Revoke("DNONE", t0, "x"); return err })
		if !errors.Is(err, delegation.ErrNotFound) {
			t.Errorf("Revoke of nothing: %v, want ErrNotFound", err)
		}
		d, _ := get(t, s, "D1")
		if d.Uses != 2 || !d.Revoked.Equal(t0.Add(3*time.Hour)) {
			t.Errorf("after two uses and a revocation: %+v", d)
		}
		var uses []delegation.Use
		if err := s.View(ctx, func(tx store.Tx) (err error) { uses, err = tx.Delegations().Uses("D1"); return err }); err != nil {
			t.Fatal(err)
		}
		if len(uses) != 2 || uses[0].Ref != "C1" || uses[1].Ref != "C2" {
			t.Errorf("uses: %+v, want C1 then C2", uses)
		}
	})
	t.Run("FailedUpdateLeavesNothing", func(t *testing.T) {
		s := open(t)
		put(t, s, sample("D1", anna, mario, t0))
		boom := errors.New("boom")
		err := s.Update(ctx, func(tx store.Tx) error {
			if err := tx.Delegations().Put(sample("D2", anna, carla, t0)); err != nil {
				return err
			}
			if err := tx.Delegations().RecordUse(delegation.Use{DelegationID: "D1", At: t0, Service: "x", Ref: "C1"}); err != nil {
				return err
			}
			if _, err := tx.Delegations().Revoke("D1", t0, "x"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := get(t, s, "D2"); !errors.Is(err, delegation.ErrNotFound) {
			t.Errorf("D2 of a failed Update: %v, want ErrNotFound", err)
		}
		if d, _ := get(t, s, "D1"); d.Uses != 0 || !d.Revoked.IsZero() {
			t.Errorf("D1 after a failed Update: %+v", d)
		}
		var uses []delegation.Use
		_ = s.View(ctx, func(tx store.Tx) (err error) { uses, err = tx.Delegations().Uses("D1"); return err })
		if len(uses) != 0 {
			t.Errorf("uses after a failed Update: %+v", uses)
		}
	})
	t.Run("ViewRefusesWrites", func(t *testing.T) {
		s := open(t)
		put(t, s, sample("D1", anna, mario, t0))
		for name, fn := range map[string]func(delegation.Tx) error{
			"Put":       func(v delegation.Tx) error { return v.Put(sample("D2", anna, carla, t0)) },
			"Revoke":    func(v delegation.Tx) error { _, err := v.Revoke("D1", t0, "x"); return err },
			"RecordUse": func(v delegation.Tx) error { return v.RecordUse(delegation.Use{DelegationID: "D1", At: t0, Ref: "C"}) },
		} {
			err := s.View(ctx, func(tx store.Tx) error { return fn(tx.Delegations()) })
			if !errors.Is(err, store.ErrReadOnly) {
				t.Errorf("%s in a View: %v, want ErrReadOnly", name, err)
			}
		}
		if d, _ := get(t, s, "D1"); d.Uses != 0 || !d.Revoked.IsZero() {
			t.Errorf("D1 after writes in a View: %+v", d)
		}
	})
	t.Run("TwoHubsUseAndRevoke", func(t *testing.T) {
		// Uses from two hubs at once lose no count, and none commits
		// after the revocation: every use recorded is one that succeeded.
		s := open(t)
		s2 := twin(t, s)
		put(t, s, sample("D1", anna, mario, t0))
		const n = 24
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hub := s
				if i%2 == 1 {
					hub = s2
				}
				if i == n/2 {
					_ = hub.Update(ctx, func(tx store.Tx) error { _, err := tx.Delegations().Revoke("D1", t0, "x"); return err })
					return
				}
				err := hub.Update(ctx, func(tx store.Tx) error {
					return tx.Delegations().RecordUse(delegation.Use{DelegationID: "D1", At: t0, Service: "x", Ref: fmt.Sprint("C", i)})
				})
				switch {
				case err == nil:
					mu.Lock()
					ok++
					mu.Unlock()
				case !errors.Is(err, delegation.ErrNotLive):
					t.Errorf("use %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		d, err := get(t, s2, "D1")
		if err != nil {
			t.Fatal(err)
		}
		var uses []delegation.Use
		if err := s.View(ctx, func(tx store.Tx) (err error) { uses, err = tx.Delegations().Uses("D1"); return err }); err != nil {
			t.Fatal(err)
		}
		if d.Uses != ok || len(uses) != ok || d.Revoked.IsZero() {
			t.Errorf("%d uses succeeded; the delegation counts %d, lists %d, revoked %v", ok, d.Uses, len(uses), d.Revoked)
		}
	})
}
