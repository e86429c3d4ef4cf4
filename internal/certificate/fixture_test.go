package certificate

import (
	"time"

	"github.com/sportello/sportello/internal/registry"
)

var testNow = time.Date(2026, 11, 23, 10, 30, 0, 0, rome)

func date(s string) registry.Date {
	d, err := registry.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func milano(street, n string) registry.Residence {
	return registry.Residence{Address: registry.Address{Street: street, Number: n, CAP: "20121", Comune: "F205"}, From: date("2010-05-01")}
}

// household returns a resident family: Mario Rossi (head, married to Anna
// Bianchi), Anna, and their adopted daughter Giulia, a minor; plus a
// stranger living elsewhere and a minor stranger.
type household struct {
	mario, anna, giulia, stranger, minorStranger *registry.Person
	family                                       *registry.Family
	marriage                                     *registry.Event
	extra                                        []*registry.Event // Mario's further events, after the marriage in the list
}

func newHousehold() *household {
	h := &household{}
	h.family = &registry.Family{ID: 1, Kind: registry.Famiglia}
	res := milano("Via Giuseppe Verdi", "12")
	h.mario = &registry.Person{ID: 1, CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
		BirthDate: date("1950-02-17"), BirthPlace: "F205", BirthAct: "anno 1950 parte I serie A n. 123",
		Citizenships: []string{registry.Italy}, CivilStatus: registry.Married, Family: 1, Relationship: registry.Head,
		Residences: []registry.Residence{res}}
	h.anna = &registry.Person{ID: 2, CF: "BNCNNA52D43H501X", Surname: "Bianchi", GivenNames: "Anna", Sex: registry.Female,
		BirthDate: date("1952-04-03"), BirthPlace: "H501", Citizenships: []string{registry.Italy},
		CivilStatus: registry.Married, Family: 1, Relationship: registry.Spouse, Residences: []registry.Residence{res}}
	h.giulia = &registry.Person{ID: 3, CF: "RSSGLI12A41F205Y", Surname: "Rossi", GivenNames: "Giulia", Sex: registry.Female,
		BirthDate: date("2012-01-01"), BirthPlace: "Z110", Citizenships: []string{registry.Italy},
		CivilStatus: registry.Single, Family: 1, Relationship: registry.Adopted, Residences: []registry.Residence{res}}
	h.stranger = &registry.Person{ID: 4, CF: "VRDLGU70A01F205Z", Surname: "Verdi", GivenNames: "Luigi", Sex: registry.Male,
		BirthDate: date("1970-01-01"), BirthPlace: "F205", CivilStatus: registry.Single, Citizenships: []string{registry.Italy},
		Family: 2, Relationship: registry.Head, Residences: []registry.Residence{milano("Corso Buenos Aires", "3")}}
	h.minorStranger = &registry.Person{ID: 5, CF: "VRDPLA12A01F205Q", Surname: "Verdi", GivenNames: "Paolo", Sex: registry.Male,
		BirthDate: date("2012-01-01"), BirthPlace: "F205", CivilStatus: registry.Single, Family: 2, Relationship: registry.Child,
		Residences: []registry.Residence{milano("Corso Buenos Aires", "3")}}
	h.marriage = &registry.Event{ID: 1, Kind: registry.Marriage, Date: date("1978-06-10"), Place: "F205",
		Persons: []registry.PersonID{1, 2}, Act: "anno 1978 parte II serie A n. 45"}
	return h
}

// data returns the SubjectData of p as Load would build it.
func (h *household) data(p *registry.Person) *SubjectData {
	all := []*registry.Person{h.mario, h.anna, h.giulia, h.stranger, h.minorStranger}
	d := &SubjectData{Person: p, Others: map[registry.PersonID]*registry.Person{}}
	if p.Family == 1 {
		d.Family = h.family
		d.Members = []*registry.Person{h.mario, h.anna, h.giulia}
	}
	if p.ID == 1 || p.ID == 2 {
		d.Events = []*registry.Event{h.marriage}
		if p.ID == 1 {
			d.Events = append(d.Events, h.extra...)
		}
		for _, q := range all {
			if q.ID != p.ID && (q.ID == 1 || q.ID == 2) {
				d.Others[q.ID] = q
			}
		}
	}
	return d
}

func counterBy(p *registry.Person, types ...Type) Request {
	return Request{Types: types, Requester: Requester{CF: p.CF, Person: p}, Channel: Counter, Now: testNow}
}
