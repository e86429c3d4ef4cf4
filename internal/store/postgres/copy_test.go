package postgres

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/storetest"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/synth"
)

// A city moves from bbolt to PostgreSQL whole, IDs kept: through the bulk
// path (the copy puts far more than bulkAfter persons, with their IDs) for
// persons, families and events alike.
func TestCopyFromBolt(t *testing.T) {
	ctx := context.Background()
	src, err := registrybolt.Open(filepath.Join(t.TempDir(), "registry.db"), registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg := synth.Config{Persons: 3000, Seed: 9, Today: registry.Date{Year: 2026, Month: time.March, Day: 2}, City: synth.DefaultCity()}
	if _, err := synth.Seed(ctx, src, cfg, nil); err != nil {
		t.Fatal(err)
	}
	dst := open(t, pg.Database(t))
	n, err := registry.Copy(ctx, dst, src)
	if err != nil {
		t.Fatal(err)
	}
	if n.Persons < 3000 || n.Families == 0 || n.Events == 0 {
		t.Errorf("Copy moved %+v; want the whole city", n)
	}
	storetest.Same(t, src, dst)
	// The indexes came along: every person is found by code and by NIS.
	err = dst.View(ctx, func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			got, err := r.PersonByCF(p.CF)
			if err != nil || got.ID != p.ID {
				t.Fatalf("PersonByCF(%s) = %v, %v; want person %d", p.CF, got, err, p.ID)
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// New records after the copy get IDs past the copied ones.
	fam := &registry.Family{Kind: registry.Famiglia}
	if err := dst.Update(ctx, func(w registry.Writer) error { return w.PutFamily(fam) }); err != nil {
		t.Fatal(err)
	}
	if int(fam.ID) <= n.Families {
		t.Errorf("a family put after the copy got ID %d, not past the %d copied", fam.ID, n.Families)
	}
}
