package synth

import (
	"fmt"

	"github.com/sportello/sportello/internal/registry"
)

// Batch is a run of whole households, written to a store in one Update.
//
// The store assigns identifiers, so inside a batch persons refer to their
// family and events to their persons by position: Write puts the families
// first, then the persons with their family's new ID, then the events with
// their persons' new IDs. Until Write, Person.Family and the Persons and
// Related lists of events are empty; use Home and EventRefs to inspect them.
type Batch struct {
	Families []*registry.Family
	Persons  []*registry.Person
	Events   []*registry.Event
	// Stats counts what the batch holds.
	Stats Stats

	home   []int32 // index in Families of each person's family; -1 for none (the deceased)
	mhome  []int32 // index in Families of each person's membership history's family; -1 for none
	refs   []int32 // indexes in Persons of every event's persons, then related persons
	evRefs []evRef
}

type evRef struct {
	start            int32
	persons, related uint16
}

// Home returns the index in Families of Persons[i]'s family, or -1 when the
// person belongs to none (a deceased person).
func (b *Batch) Home(i int) int { return int(b.home[i]) }

// EventRefs returns the indexes in Persons of Events[i]'s persons and
// related persons.
func (b *Batch) EventRefs(i int) (persons, related []int32) {
	r := b.evRefs[i]
	s := int(r.start)
	mid := s + int(r.persons)
	return b.refs[s:mid:mid], b.refs[mid : mid+int(r.related) : mid+int(r.related)]
}

// Write stores the batch through w, assigning identifiers. It may be called
// again after a failed Update: identifiers are reset first.
func (b *Batch) Write(w registry.Writer) error {
	for _, f := range b.Families {
		f.ID = 0
		if err := w.PutFamily(f); err != nil {
			return fmt.Errorf("writing synthetic family %q: %w", f.Name, err)
		}
	}
	for i, p := range b.Persons {
		p.ID = 0
		p.Family = 0
		if h := b.home[i]; h >= 0 {
			p.Family = b.Families[h].ID
		}
		if h := b.mhome[i]; h >= 0 {
			for k := range p.Memberships {
				p.Memberships[k].Family = b.Families[h].ID
			}
		}
		if err := w.PutPerson(p); err != nil {
			return fmt.Errorf("writing synthetic person %s: %w", p.CF, err)
		}
	}
	ids := make([]registry.PersonID, len(b.refs))
	for i, r := range b.refs {
		ids[i] = b.Persons[r].ID
	}
	for i, e := range b.Events {
		r := b.evRefs[i]
		s := int(r.start)
		mid := s + int(r.persons)
		end := mid + int(r.related)
		e.ID = 0
		e.Persons = ids[s:mid:mid]
		e.Related = nil
		if r.related > 0 {
			e.Related = ids[mid:end:end]
		}
		if err := w.PutEvent(e); err != nil {
			return fmt.Errorf("writing synthetic %s event: %w", e.Kind, err)
		}
	}
	return nil
}

// Stats counts generated records.
type Stats struct {
	Persons           int // person records, deceased and AIRE included
	Families          int // famiglie anagrafiche
	Convivenze        int
	Events            int
	Omocodes          int // codici fiscali that needed omocodia
	ForeignBorn       int
	AIRE              int
	Deceased          int
	PartlyCertifiable int
	Documents         int
}

// Add accumulates o into s.
func (s *Stats) Add(o Stats) {
	s.Persons += o.Persons
	s.Families += o.Families
	s.Convivenze += o.Convivenze
	s.Events += o.Events
	s.Omocodes += o.Omocodes
	s.ForeignBorn += o.ForeignBorn
	s.AIRE += o.AIRE
	s.Deceased += o.Deceased
	s.PartlyCertifiable += o.PartlyCertifiable
	s.Documents += o.Documents
}
