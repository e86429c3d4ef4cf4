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

	var st Stats
	start := time.Now()
	for b := range batches {
		if err := store.Update(ctx, b.Write); err != nil {
			cancel()
			for range batches { // let the generator finish
			}
			<-genErr
			return st, err
		}
		st.Add(b.Stats)
		log.Debug("synthetic registry batch written", "persons", st.Persons, "of", cfg.Persons,
			"elapsed", time.Since(start).Round(time.Millisecond))
	}
	if err := <-genErr; err != nil {
		return st, err
	}
	log.Info("synthetic registry seeded", "persons", st.Persons, "families", st.Families,
		"convivenze", st.Convivenze, "events", st.Events, "omocodes", st.Omocodes,
		"foreign_born", st.ForeignBorn, "aire", st.AIRE, "deceased", st.Deceased,
		"elapsed", time.Since(start).Round(time.Millisecond))
	return st, nil
}
