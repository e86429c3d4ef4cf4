package registry

import (
	"context"
	"fmt"

	"github.com/sportello/sportello/internal/places"
)

// Counts is how many records of each kind a registry holds.
type Counts struct {
	Persons, Families, Events, Places int
}

// copyBatch is how many records Copy writes in one Update: enough for a
// store's bulk path (store/postgres reads its code index once an update
// has put a fiftieth of the registry), few enough to hold in memory.
const copyBatch = 50_000

// Copy writes every record of src into dst, which must be empty, keeping
// IDs, and checks that dst then holds as many records of each kind as src
// did: moving a city from one store to another (bbolt to PostgreSQL).
// src is read in one View, a single snapshot; dst is written in Updates of
// copyBatch records, places, families, persons and events in that order
// so that every reference is to a record already written.
func Copy(ctx context.Context, dst, src Store) (Counts, error) {
	var have Counts
	if err := dst.View(ctx, func(r Reader) error { return count(r, &have) }); err != nil {
		return Counts{}, err
	}
	if have != (Counts{}) {
		return Counts{}, fmt.Errorf("%w: the destination registry is not empty (%d persons, %d families, %d events, %d places)",
			ErrConflict, have.Persons, have.Families, have.Events, have.Places)
	}
	var moved Counts
	err := src.View(ctx, func(r Reader) error {
		ps, err := r.Places()
		if err != nil {
			return err
		}
		if len(ps) > 0 {
			if err := dst.Update(ctx, func(w Writer) error { return w.PutPlaces(ps) }); err != nil {
				return fmt.Errorf("copying places: %w", err)
			}
		}
		moved.Places = len(ps)
		if moved.Families, err = copyAll(ctx, dst, "families", func(fn func(*Family) (bool, error)) error { return r.Families(0, fn) },
			func(w Writer, f *Family) error { return w.PutFamily(f) }); err != nil {
			return err
		}
		if moved.Persons, err = copyAll(ctx, dst, "persons", func(fn func(*Person) (bool, error)) error { return r.Persons(0, fn) },
			func(w Writer, p *Person) error { return w.PutPerson(p) }); err != nil {
			return err
		}
		if moved.Events, err = copyAll(ctx, dst, "events", func(fn func(*Event) (bool, error)) error { return r.Events(0, fn) },
			func(w Writer, e *Event) error { return w.PutEvent(e) }); err != nil {
			return err
		}
		var want Counts
		if err := count(r, &want); err != nil {
			return err
		}
		if moved != want {
			return fmt.Errorf("the source registry counts %+v but %+v were read", want, moved)
		}
		return nil
	})
	if err != nil {
		return moved, err
	}
	var got Counts
	if err := dst.View(ctx, func(r Reader) error { return count(r, &got) }); err != nil {
		return moved, err
	}
	if got != moved {
		return moved, fmt.Errorf("the destination registry holds %d persons, %d families, %d events and %d places after the copy, want %d, %d, %d and %d",
			got.Persons, got.Families, got.Events, got.Places, moved.Persons, moved.Families, moved.Events, moved.Places)
	}
	return moved, nil
}

// count counts the records r holds: persons by the store's count, the
// others by reading them all.
func count(r Reader, c *Counts) error {
	var err error
	if c.Persons, err = r.CountPersons(); err != nil {
		return err
	}
	var ps []places.Place
	if ps, err = r.Places(); err != nil {
		return err
	}
	c.Places = len(ps)
	if err := r.Families(0, func(*Family) (bool, error) { c.Families++; return true, nil }); err != nil {
		return err
	}
	return r.Events(0, func(*Event) (bool, error) { c.Events++; return true, nil })
}

// copyAll writes what walk yields into dst with put, copyBatch records an
// Update, and returns how many it wrote.
func copyAll[T any](ctx context.Context, dst Store, what string, walk func(func(*T) (bool, error)) error, put func(Writer, *T) error) (int, error) {
	var batch []*T
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.Update(ctx, func(w Writer) error {
			for _, rec := range batch {
				if err := put(w, rec); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("copying %s: %w", what, err)
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	err := walk(func(rec *T) (bool, error) {
		batch = append(batch, rec)
		if len(batch) == copyBatch {
			return true, flush()
		}
		return true, ctx.Err()
	})
	if err == nil {
		err = flush()
	}
	return n, err
}
