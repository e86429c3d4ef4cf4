package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// When another call of its batch fails, bbolt rolls the batch back and
// runs fn again: the registry ID fn's first run assigned is forgotten, as
// after a failed Update, so the second run does not write under it.
func TestBatchRetryForgetsRolledBackIDs(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hub.db"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.db.MaxBatchSize, s.db.MaxBatchDelay = 2, 10*time.Second
	ctx := context.Background()
	birth, err := registry.ParseDate("1940-04-05")
	if err != nil {
		t.Fatal(err)
	}
	p := &registry.Person{CF: "FRRNNA40D45H501U", Surname: "FERRARI", GivenNames: "ANNA", Sex: registry.Female,
		BirthDate: birth, BirthPlace: "H501", Citizenships: []string{registry.Italy}, CivilStatus: registry.Single,
		Residences: []registry.Residence{{Address: registry.Address{Street: "Via Giuseppe Verdi", Number: "12", CAP: "20121", Comune: "F205"}, From: birth}}}
	var seen []registry.PersonID
	first := make(chan error, 1)
	go func() {
		first <- s.Batch(ctx, func(tx store.Tx) error {
			seen = append(seen, p.ID)
			return tx.Registry().PutPerson(p)
		})
	}()
	time.Sleep(200 * time.Millisecond) // the first call waits in the batch
	failed := errors.New("failed")
	if err := s.Batch(ctx, func(store.Tx) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("second call: %v", err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if len(seen) < 2 {
		t.Skipf("the two calls did not share a batch (runs %v)", seen)
	}
	for i, id := range seen {
		if id != 0 {
			t.Errorf("run %d of the first call started with the ID %d its rolled-back run assigned", i+1, id)
		}
	}
}
