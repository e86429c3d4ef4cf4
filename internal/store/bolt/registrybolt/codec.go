package registrybolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// Records are stored in a hand-rolled binary form rather than JSON: a Milan
// sized registry holds 1.4 million persons, and decoding is on the path of
// every counter look-up. Each record starts with a format byte so a later
// layout can be read side by side with this one.
const recordV1 = 1

// personV2 is a person record with the contact e-mail at its end.
const personV2 = 2

// personV3 is format 2 with the e-mail always written (empty allowed) and
// then the start of an open procedure; used only when a procedure is open,
// so every other record keeps the bytes of format 1 or 2.
const personV3 = 3

// personV5 is format 3 with the e-mail and the open procedure always
// written (either may be empty) and then the town of a birth abroad
// (Person.BirthLocality); used only for a person born abroad whose town
// the registry keeps, so every other record keeps its bytes.
const personV5 = 5

// personV4 is format 3 with the e-mail and the open procedure always
// written (either may be empty) and then the family memberships
// (Person.Memberships); used only for a person with a membership history
// and no foreign town of birth, so older records keep their bytes.
const personV4 = 4

// personV6 is format 5 (e-mail, open procedure, town of birth abroad)
// followed by the family memberships: a person born abroad with a
// membership history.
const personV6 = 6

// eventV2 is an event record with the authentication of a contratto di
// convivenza at its end (professional, name, date, reference); used only
// for an event that has one.
const eventV2 = 2

var errShort = errors.New("record is truncated")

type encoder struct{ b []byte }

func (e *encoder) byte(c byte)      { e.b = append(e.b, c) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bool(v bool) {
	if v {
		e.byte(1)
	} else {
		e.byte(0)
	}
}

func (e *encoder) date(d registry.Date) {
	e.b = binary.AppendVarint(e.b, int64(d.Year))
	e.byte(byte(d.Month))
	e.byte(byte(d.Day))
}

// decoder reads a record. All strings are cut from one copy of the record
// (src), so decoding a person costs one string allocation however many
// fields it has.
type decoder struct {
	src string
	pos int
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) byte() byte {
	if d.err != nil || d.pos >= len(d.src) {
		d.fail(errShort)
		return 0
	}
	c := d.src[d.pos]
	d.pos++
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.pos >= len(d.src) {
			d.fail(errShort)
			return 0
		}
		c := d.src[d.pos]
		d.pos++
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			return v | uint64(c)<<shift
		}
		v |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.fail(errors.New("record holds an oversized number"))
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.src)-d.pos) {
		d.fail(errShort)
		return ""
	}
	s := d.src[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

// count reads a slice length and refuses one the remaining bytes cannot
// hold, so a damaged record cannot make us allocate gigabytes.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64((len(d.src)-d.pos)/minSize) {
		d.fail(errShort)
		return 0
	}
	return int(n)
}

func (d *decoder) bool() bool { return d.byte() != 0 }

func (d *decoder) date() registry.Date {
	y := d.varint()
	m := d.byte()
	day := d.byte()
	return registry.Date{Year: int(y), Month: time.Month(m), Day: int(day)}
}

func (d *decoder) start(data []byte, what string) {
	d.src = string(data)
	if v := d.byte(); d.err == nil && v != recordV1 {
		d.fail(fmt.Errorf("%s record has format %d, this program reads format %d", what, v, recordV1))
	}
}

func (d *decoder) finish(what string) error {
	if d.err == nil && d.pos != len(d.src) {
		d.fail(errors.New("record has trailing bytes"))
	}
	if d.err != nil {
		return fmt.Errorf("%s record is damaged: %w", what, d.err)
	}
	return nil
}

func appendPerson(b []byte, p *registry.Person) []byte {
	e := encoder{b}
	// A person with a contact e-mail is written in format 2, which adds it
	// at the end; the others keep format 1's bytes, so files written before
	// the e-mail existed read and check as they did.
	history := len(p.Memberships) > 0
	switch {
	case p.BirthLocality != "" && history:
		e.byte(personV6)
	case p.BirthLocality != "":
		e.byte(personV5)
	case history:
		e.byte(personV4)
	case !p.ProcedureOpen.IsZero():
		e.byte(personV3)
	case p.Email != "":
		e.byte(personV2)
	default:
		e.byte(recordV1)
	}
	e.uvarint(uint64(p.ID))
	e.str(p.CF)
	e.str(p.Surname)
	e.str(p.GivenNames)
	e.byte(byte(p.Sex))
	e.date(p.BirthDate)
	e.str(p.BirthPlace)
	e.str(p.BirthAct)
	e.uvarint(uint64(len(p.Citizenships)))
	for _, c := range p.Citizenships {
		e.str(c)
	}
	e.byte(byte(p.CivilStatus))
	e.date(p.DeathDate)
	e.str(p.DeathPlace)
	e.bool(p.AIRE)
	e.bool(p.PartlyCertifiable)
	e.uvarint(uint64(p.Family))
	e.byte(byte(p.Relationship))
	e.uvarint(uint64(len(p.Residences)))
	for i := range p.Residences {
		r := &p.Residences[i]
		e.str(r.Address.Street)
		e.str(r.Address.Number)
		e.str(r.Address.Internal)
		e.str(r.Address.CAP)
		e.str(r.Address.Comune)
		e.str(r.Address.Locality)
		e.date(r.From)
		e.date(r.To)
		e.str(r.AIREComune)
	}
	e.uvarint(uint64(len(p.Documents)))
	for i := range p.Documents {
		doc := &p.Documents[i]
		e.str(string(doc.Kind))
		e.str(doc.Number)
		e.str(doc.NIS)
		e.date(doc.Issued)
		e.date(doc.Expires)
		e.str(doc.Issuer)
		e.bool(doc.Revoked)
	}
	switch {
	case p.BirthLocality != "" || history:
		e.str(p.Email)
		e.date(p.ProcedureOpen)
		if p.BirthLocality != "" {
			e.str(p.BirthLocality)
		}
		if history {
			e.uvarint(uint64(len(p.Memberships)))
			for _, m := range p.Memberships {
				e.uvarint(uint64(m.Family))
				e.byte(byte(m.Relationship))
				e.date(m.From)
				e.date(m.To)
			}
		}
	case !p.ProcedureOpen.IsZero():
		e.str(p.Email)
		e.date(p.ProcedureOpen)
	case p.Email != "":
		e.str(p.Email)
	}
	return e.b
}

// personBlock lets decodePerson allocate a person with the usual single
// citizenship, residence and document at once: it is on the path of every
// look-up.
type personBlock struct {
	p   registry.Person
	cit [1]string
	res [1]registry.Residence
	doc [1]registry.Document
}

func decodePerson(data []byte) (*registry.Person, error) {
	var d decoder
	v2 := len(data) > 0 && data[0] == personV2
	v3 := len(data) > 0 && data[0] == personV3
	v4 := len(data) > 0 && data[0] == personV4
	v5 := len(data) > 0 && data[0] == personV5
	v6 := len(data) > 0 && data[0] == personV6
	if v2 || v3 || v4 || v5 || v6 {
		// Formats 2 to 6 are format 1 with fields at the end.
		data = append([]byte{recordV1}, data[1:]...)
	}
	d.start(data, "person")
	block := &personBlock{}
	p := &block.p
	p.ID = registry.PersonID(d.uvarint())
	p.CF = d.str()
	p.Surname = d.str()
	p.GivenNames = d.str()
	p.Sex = registry.Sex(d.byte())
	p.BirthDate = d.date()
	p.BirthPlace = d.str()
	p.BirthAct = d.str()
	if n := d.count(1); n == 1 {
		p.Citizenships = block.cit[:]
		p.Citizenships[0] = d.str()
	} else if n > 1 {
		p.Citizenships = make([]string, n)
		for i := range p.Citizenships {
			p.Citizenships[i] = d.str()
		}
	}
	p.CivilStatus = registry.CivilStatus(d.byte())
	p.DeathDate = d.date()
	p.DeathPlace = d.str()
	p.AIRE = d.bool()
	p.PartlyCertifiable = d.bool()
	p.Family = registry.FamilyID(d.uvarint())
	p.Relationship = registry.Relationship(d.byte())
	if n := d.count(13); n == 1 {
		p.Residences = block.res[:]
	} else if n > 1 {
		p.Residences = make([]registry.Residence, n)
	}
	for i := range p.Residences {
		r := &p.Residences[i]
		r.Address.Street = d.str()
		r.Address.Number = d.str()
		r.Address.Internal = d.str()
		r.Address.CAP = d.str()
		r.Address.Comune = d.str()
		r.Address.Locality = d.str()
		r.From = d.date()
		r.To = d.date()
		r.AIREComune = d.str()
	}
	if n := d.count(11); n == 1 {
		p.Documents = block.doc[:]
	} else if n > 1 {
		p.Documents = make([]registry.Document, n)
	}
	for i := range p.Documents {
		doc := &p.Documents[i]
		doc.Kind = registry.DocumentKind(d.str())
		doc.Number = d.str()
		doc.NIS = d.str()
		doc.Issued = d.date()
		doc.Expires = d.date()
		doc.Issuer = d.str()
		doc.Revoked = d.bool()
	}
	if v2 {
		if p.Email = d.str(); p.Email == "" && d.err == nil {
			d.fail(errors.New("format 2 record with no e-mail"))
		}
	}
	if v3 {
		p.Email = d.str()
		if p.ProcedureOpen = d.date(); p.ProcedureOpen.IsZero() && d.err == nil {
			d.fail(errors.New("format 3 record with no open procedure"))
		}
	}
	if v4 || v5 || v6 {
		p.Email = d.str()
		p.ProcedureOpen = d.date()
	}
	if v5 || v6 {
		if p.BirthLocality = d.str(); p.BirthLocality == "" && d.err == nil {
			d.fail(errors.New("format 5 or 6 record with no town of birth"))
		}
	}
	if v4 || v6 {
		n := d.count(8) // family, relationship and two dates take at least 8 bytes
		if n == 0 && d.err == nil {
			d.fail(errors.New("format 4 or 6 record with no family membership"))
		}
		if n > 0 {
			p.Memberships = make([]registry.Membership, n)
		}
		for i := range p.Memberships {
			m := &p.Memberships[i]
			m.Family = registry.FamilyID(d.uvarint())
			m.Relationship = registry.Relationship(d.byte())
			m.From = d.date()
			m.To = d.date()
		}
	}
	if err := d.finish("person"); err != nil {
		return nil, err
	}
	return p, nil
}

func appendFamily(b []byte, f *registry.Family) []byte {
	e := encoder{b}
	e.byte(recordV1)
	e.uvarint(uint64(f.ID))
	e.byte(byte(f.Kind))
	e.str(f.Name)
	return e.b
}

func decodeFamily(data []byte) (*registry.Family, error) {
	var d decoder
	d.start(data, "family")
	f := &registry.Family{}
	f.ID = registry.FamilyID(d.uvarint())
	f.Kind = registry.FamilyKind(d.byte())
	f.Name = d.str()
	if err := d.finish("family"); err != nil {
		return nil, err
	}
	return f, nil
}

func appendEvent(b []byte, ev *registry.Event) []byte {
	e := encoder{b}
	if ev.Authentication != nil {
		e.byte(eventV2)
	} else {
		e.byte(recordV1)
	}
	e.uvarint(uint64(ev.ID))
	e.str(string(ev.Kind))
	e.date(ev.Date)
	e.str(ev.Place)
	e.uvarint(uint64(len(ev.Persons)))
	for _, id := range ev.Persons {
		e.uvarint(uint64(id))
	}
	e.uvarint(uint64(len(ev.Related)))
	for _, id := range ev.Related {
		e.uvarint(uint64(id))
	}
	e.str(ev.Act)
	e.str(ev.Note)
	if a := ev.Authentication; a != nil {
		e.str(string(a.Professional))
		e.str(a.Name)
		e.date(a.Date)
		e.str(a.Reference)
	}
	return e.b
}

func decodeEvent(data []byte) (*registry.Event, error) {
	var d decoder
	v2 := len(data) > 0 && data[0] == eventV2
	if v2 {
		// Format 2 is format 1 with the authentication at the end.
		data = append([]byte{recordV1}, data[1:]...)
	}
	d.start(data, "event")
	ev := &registry.Event{}
	ev.ID = registry.EventID(d.uvarint())
	ev.Kind = registry.EventKind(d.str())
	ev.Date = d.date()
	ev.Place = d.str()
	if n := d.count(1); n > 0 {
		ev.Persons = make([]registry.PersonID, n)
		for i := range ev.Persons {
			ev.Persons[i] = registry.PersonID(d.uvarint())
		}
	}
	if n := d.count(1); n > 0 {
		ev.Related = make([]registry.PersonID, n)
		for i := range ev.Related {
			ev.Related[i] = registry.PersonID(d.uvarint())
		}
	}
	ev.Act = d.str()
	ev.Note = d.str()
	if v2 {
		ev.Authentication = &registry.Authentication{
			Professional: registry.Professional(d.str()), Name: d.str(), Date: d.date(), Reference: d.str()}
	}
	if err := d.finish("event"); err != nil {
		return nil, err
	}
	return ev, nil
}
