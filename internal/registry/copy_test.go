package registry_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/storetest"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/synth"
)

func openBolt(t *testing.T) registry.Store {
	t.Helper()
	s, err := registrybolt.Open(filepath.Join(t.TempDir(), "registry.db"), registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Copy moves a whole synthetic city, IDs kept, and refuses a destination
// that already holds records.
func TestCopy(t *testing.T) {
	ctx := context.Background()
	src := openBolt(t)
	cfg := synth.Config{Persons: 400, Seed: 5, Today: registry.Date{Year: 2026, Month: time.March, Day: 2}, City: synth.DefaultCity()}
	if _, err := synth.Seed(ctx, src, cfg, nil); err != nil {
		t.Fatal(err)
	}
	err := src.Update(ctx, func(w registry.Writer) error {
		return w.PutPlaces([]places.Place{{Code: "F205", Name: "MILANO", Kind: places.Comune, From: time.Date(1861, 3, 17, 0, 0, 0, 0, time.UTC)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	dst := openBolt(t)
	n, err := registry.Copy(ctx, dst, src)
	if err != nil {
		t.Fatal(err)
	}
	if n.Persons < 400 || n.Families == 0 || n.Events == 0 || n.Places != 1 {
		t.Errorf("Copy moved %+v; want the whole city", n)
	}
	storetest.Same(t, src, dst)
	if _, err := registry.Copy(ctx, dst, src); !errors.Is(err, registry.ErrConflict) {
		t.Errorf("Copy into a registry that holds records = %v, want ErrConflict", err)
	}
}
