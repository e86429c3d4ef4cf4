package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// A registry update through the hub's store (store.RegistryOf, what every
// hub command with --db uses) is a read-modify-write: two hubs changing
// one person at once must not lose either change. The second hub's
// update waits for the first, then reads what it wrote.
func TestRegistryOfUpdateLosesNoChange(t *testing.T) {
	ctx := context.Background()
	a := openHub(t)
	b := twin(t, a)
	const cf = "FRRNNA40D45H501U"
	birth, err := registry.ParseDate("1940-04-05")
	if err != nil {
		t.Fatal(err)
	}
	p := &registry.Person{CF: cf, Surname: "FERRARI", GivenNames: "ANNA", Sex: registry.Female,
		BirthDate: birth, BirthPlace: "H501", Citizenships: []string{registry.Italy}, CivilStatus: registry.Single,
		Residences: []registry.Residence{{Address: registry.Address{Street: "Via Giuseppe Verdi", Number: "12", CAP: "20121", Comune: "F205"}, From: birth}}}
	if err := store.RegistryOf(a).Update(ctx, func(w registry.Writer) error { return w.PutPerson(p) }); err != nil {
		t.Fatal(err)
	}
	edit := func(s store.Store, change func(*registry.Person), between func()) error {
		return store.RegistryOf(s).Update(ctx, func(w registry.Writer) error {
			p, err := w.PersonByCF(cf)
			if err != nil {
				return err
			}
			between()
			change(p)
			return w.PutPerson(p)
		})
	}
	other := make(chan error, 1)
	err = edit(a, func(p *registry.Person) { p.Email = "anna@example.org" }, func() {
		// Hub b edits the same person while hub a holds its read.
		go func() {
			other <- edit(b, func(p *registry.Person) { p.ProcedureOpen = birth }, func() {})
		}()
		select {
		case err := <-other:
			other <- err // b did not wait for a
		case <-time.After(time.Second):
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	var got *registry.Person
	if err := store.RegistryOf(a).View(ctx, func(r registry.Reader) (err error) {
		got, err = r.PersonByCF(cf)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got.Email != "anna@example.org" || got.ProcedureOpen != birth {
		t.Fatalf("after two hubs' concurrent edits: email %q, procedure open %v: one change was lost", got.Email, got.ProcedureOpen)
	}
}
