// Package citytest is the suite every backend's city.Tx must pass
// (store.Tx.City), so that PostgreSQL behaves as bbolt does.
//
// A backend's test calls Run with a function that opens a new, empty hub
// store (closed by the test's cleanup) and one that opens a second
// store.Store on the same data, as a second hub on one database does (a
// backend of one process returns the store it is given).
package citytest

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func get(t *testing.T, s store.Store) (c city.Config) {
	t.Helper()
	if err := s.View(context.Background(), func(tx store.Tx) (err error) { c, err = tx.City().Get(); return err }); err != nil {
		t.Fatal(err)
	}
	return c
}

// same compares settings as they are stored: their JSON form.
func same(a, b city.Config) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// Run runs the suite.
func Run(t *testing.T, open func(t *testing.T) store.Store, twin func(t *testing.T, s store.Store) store.Store) {
	ctx := context.Background()
	t.Run("NothingSetIsZero", func(t *testing.T) {
		s := open(t)
		if c := get(t, s); !same(c, city.Config{}) {
			t.Errorf("settings of a new store: %+v, want none set", c)
		}
	})
	t.Run("PutGet", func(t *testing.T) {
		s := open(t)
		want := city.Milan()
		want.PublicURL = "https://certificati.comune.milano.it"
		exempt := true
		want.BirthMarriageExempt = &exempt
		want.History = []city.Change{{At: t0, By: "staff:anna", What: "fee cap: 2,00 EUR → 1,50 EUR"}}
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.City().Put(want) }); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s); !same(got, want) {
			t.Errorf("stored %+v, read %+v", want, got)
		}
		boom := errors.New("boom")
		err := s.Update(ctx, func(tx store.Tx) error {
			c, err := tx.City().Get()
			if err != nil {
				return err
			}
			c.Office = "Ufficio che non resta"
			if err := tx.City().Put(c); err != nil {
				return err
			}
			if c2, _ := tx.City().Get(); c2.Office != c.Office {
				t.Errorf("inside the transaction the office is %q", c2.Office)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got := get(t, s); !same(got, want) {
			t.Errorf("a failed transaction changed the settings: %+v", got)
		}
		if err := s.View(ctx, func(tx store.Tx) error { return tx.City().Put(city.Config{}) }); !errors.Is(err, store.ErrReadOnly) {
			t.Errorf("Put in a View: %v, want ErrReadOnly", err)
		}
		if got := get(t, s); !same(got, want) {
			t.Errorf("a View changed the settings: %+v", got)
		}
	})
	// The settings service: a fee cap below an agreement in force is
	// refused in the transaction that would set it, and nothing changes;
	// one above it is kept, with the defaults for what is unset.
	t.Run("SettingsCheckTheCapAgainstAgreements", func(t *testing.T) {
		s := open(t)
		now := func() time.Time { return t0 }
		err := s.Update(ctx, func(tx store.Tx) error {
			return tx.Operators().AddOperator(&operators.Operator{LegalName: "Edicola Test", PartitaIVA: "12345670157", Category: operators.Edicola,
				Status: operators.Active, Agreement: &operators.Agreement{Signed: registry.DateOf(t0.AddDate(0, -1, 0)), Expires: registry.DateOf(t0.AddDate(1, 0, 0)), FeeCents: 150}})
		})
		if err != nil {
			t.Fatal(err)
		}
		set := store.CityOf(s, now, city.Milan())
		low, high := 100, 180
		if _, err := set.Set(city.Edit{FeeCapCents: &low}, "staff:anna"); err == nil {
			t.Error("a fee cap of 1,00 EUR was set below an agreement of 1,50 EUR in force")
		}
		if got := get(t, s); !same(got, city.Config{}) {
			t.Errorf("a refused change stored %+v", got)
		}
		cur, err := set.Set(city.Edit{FeeCapCents: &high}, "staff:anna")
		if err != nil {
			t.Fatalf("a cap above every agreement: %v", err)
		}
		if cur.FeeCapCents != high || cur.Belfiore != city.Milan().Belfiore {
			t.Errorf("effective settings after the change: cap %d, Belfiore %q", cur.FeeCapCents, cur.Belfiore)
		}
		if stored, err := set.Stored(); err != nil || stored.FeeCapCents != high {
			t.Errorf("stored cap %d (%v), want %d", stored.FeeCapCents, err, high)
		}
		if c, err := set.Current(); err != nil || c.FeeCapCents != high {
			t.Errorf("current cap %d (%v), want %d", c.FeeCapCents, err, high)
		}
	})
	t.Run("TwoHubs", func(t *testing.T) {
		a := open(t)
		b := twin(t, a)
		if err := a.Update(ctx, func(tx store.Tx) error { return tx.City().Put(city.Config{FeeCapCents: 150}) }); err != nil {
			t.Fatal(err)
		}
		if got := get(t, b); got.FeeCapCents != 150 {
			t.Errorf("the other hub reads a fee cap of %d, want 150", got.FeeCapCents)
		}
		// Changes read and written in one transaction on either hub at
		// once: none is lost, since Get holds the settings until commit.
		const n = 10
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = []store.Store{a, b}[i%2].Update(ctx, func(tx store.Tx) error {
					c, err := tx.City().Get()
					if err != nil {
						return err
					}
					c.History = append(c.History, city.Change{At: t0, By: "staff:x", What: "one more"})
					return tx.City().Put(c)
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("change %d: %v", i, err)
			}
		}
		if got := get(t, a); len(got.History) != n || got.FeeCapCents != 150 {
			t.Errorf("after %d concurrent changes the history holds %d and the cap is %d", n, len(got.History), got.FeeCapCents)
		}
	})
}
