package registry

import (
	"context"

	"github.com/sportello/sportello/internal/places"
)

// Store is the registry's persistence. Implementations live side by side
// (store/bolt/registrybolt, and store/postgres in PostgreSQL) and must all pass the suite
// in registry/storetest.
//
// All reads happen inside View, which sees one consistent snapshot; all
// writes happen inside Update, which commits every change or none.
type Store interface {
	View(ctx context.Context, fn func(Reader) error) error
	Update(ctx context.Context, fn func(Writer) error) error
	Close() error
}

// Reader is a consistent read view of the registry.
type Reader interface {
	Person(id PersonID) (*Person, error)
	// PersonByCF finds a person by codice fiscale. An exact match wins; a
	// code that matches nobody exactly is resolved through its omocodia base
	// form, and is ErrAmbiguous when several persons share that base.
	PersonByCF(cf string) (*Person, error)
	// PersonByNIS finds the holder of the CIE whose chip carries nis.
	PersonByNIS(nis string) (*Person, error)
	// PersonsByName returns the persons whose NameKey starts with
	// NameQuery(query), in NameKey order then by ID, at most limit of them
	// (0: all). An empty query is ErrInvalid.
	PersonsByName(query string, limit int) ([]*Person, error)
	Family(id FamilyID) (*Family, error)
	// Members returns a family's members, head first, then by relationship
	// code and birth date.
	Members(id FamilyID) ([]*Person, error)
	// FamilyHistory returns every person who ever belonged to a family
	// (Person.Memberships) or belongs to it now, in Members' order; a
	// historical stato di famiglia picks those whose membership covers
	// its date.
	FamilyHistory(id FamilyID) ([]*Person, error)
	// EventsOf returns the events involving a person, oldest first.
	EventsOf(id PersonID) ([]*Event, error)
	// Persons calls fn for each person in ID order starting after the given
	// ID, until fn returns false or an error.
	Persons(after PersonID, fn func(*Person) (bool, error)) error
	// Families calls fn for each family in ID order starting after the
	// given ID, until fn returns false or an error; with Persons and
	// Events it walks the whole registry (moving it to another store).
	Families(after FamilyID, fn func(*Family) (bool, error)) error
	// Events calls fn for each event in ID order starting after the
	// given ID, until fn returns false or an error.
	Events(after EventID, fn func(*Event) (bool, error)) error
	// CountPersons returns how many persons the registry holds.
	CountPersons() (int, error)
	// Places returns the place records imported into this registry.
	Places() ([]places.Place, error)
}

// Writer can change the registry inside one atomic Update.
type Writer interface {
	Reader
	// PutPerson inserts (ID zero: an ID is assigned and set) or replaces a
	// person. A codice fiscale or NIS already held by another person is
	// ErrConflict.
	PutPerson(p *Person) error
	// PutFamily inserts (ID zero) or replaces a family.
	PutFamily(f *Family) error
	// PutEvent inserts (ID zero) or replaces an event.
	PutEvent(e *Event) error
	// PutPlaces adds or replaces place records (keyed by code and start date).
	PutPlaces(ps []places.Place) error
}
