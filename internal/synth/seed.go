package synth

import (
	"context"
	"log/slog"
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// Seed generates the registry described by cfg into store, one Update per
// batch. Generation runs in its own goroutine, one batch ahead of the
// writes; the sequence, and so the registry, is the same as Generate's.
func Seed(ctx context.Context, store registry.Store, cfg Config, log *slog.Logger) (Stats, error) {
	return seed(ctx, store, cfg, log, false)
}

// SeedOne is Seed with every batch written in one Update: for a database
// that loads an empty registry faster in one transaction, building its
// indexes and checking its references once at the end (store/postgres),
// where Seed's batches would each check the whole registry again. A
// bbolt store holds a transaction's pages in memory: Seed suits it.
func SeedOne(ctx context.Context, store registry.Store, cfg Config, log *slog.Logger) (Stats, error) {
	return seed(ctx, store, cfg, log, true)
}

func seed(ctx context.Context, store registry.Store, cfg Config, log *slog.Logger, one bool) (Stats, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	batches := make(chan *Batch, 1)
	genErr := make(chan error, 1)
	go func() {
		defer close(batches)
		genErr <- Generate(cfg, func(b *Batch) error {
			select {
			case batches <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()

	var st, written Stats // committed; written in the transaction under way
	start := time.Now()
	write := func(w registry.Writer, b *Batch) error {
		if err := b.Write(w); err != nil {
			return err
		}
		written.Add(b.Stats)
		log.Debug("synthetic registry batch written", "persons", written.Persons, "of", cfg.Persons,
			"elapsed", time.Since(start).Round(time.Millisecond))
		return nil
	}
	var err error
	genDone := false // genErr read
	if one {
		err = store.Update(ctx, func(w registry.Writer) error {
			for b := range batches {
				if err := write(w, b); err != nil {
					return err
				}
			}
			// The generator may have failed: nothing of a city cut short
			// is committed.
			genDone = true
			return <-genErr
		})
		if err == nil {
			st = written
		}
	} else {
		for b := range batches {
			if err = store.Update(ctx, func(w registry.Writer) error { return write(w, b) }); err != nil {
				break
			}
			st.Add(b.Stats)
			written = st
		}
	}
	if err != nil {
		cancel()
		for range batches { // let the generator finish
		}
		if !genDone {
			<-genErr
		}
		return st, err
	}
	if !genDone {
		if err := <-genErr; err != nil {
			return st, err
		}
	}
	log.Info("synthetic registry seeded", "persons", st.Persons, "families", st.Families,
		"convivenze", st.Convivenze, "events", st.Events, "omocodes", st.Omocodes,
		"foreign_born", st.ForeignBorn, "aire", st.AIRE, "deceased", st.Deceased,
		"elapsed", time.Since(start).Round(time.Millisecond))
	return st, nil
}
