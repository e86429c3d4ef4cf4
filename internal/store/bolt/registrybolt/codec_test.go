package registrybolt

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/sportello/sportello/internal/registry"
)

func TestPersonCodecRoundTrip(t *testing.T) {
	full := synthPerson(7, 3, registry.Spouse)
	full.Citizenships = append(full.Citizenships, "Z110")
	full.DeathDate = registry.Date{Year: 2021, Month: 3, Day: 4}
	full.DeathPlace = "F205"
	full.AIRE, full.PartlyCertifiable = true, true
	full.Residences = append(full.Residences, registry.Residence{
		Address: registry.Address{Street: "Rue de Rivoli", Number: "1", Comune: "Z110", Locality: "Paris"},
		From:    registry.Date{Year: 2015, Month: 1, Day: 1}, AIREComune: "F205",
	})
	full.Documents[0].Revoked = true
	full.Email = "contact@example.org"
	full.ProcedureOpen = registry.Date{Year: 2026, Month: 10, Day: 1}
	tests := []struct {
		name string
		p    *registry.Person
	}{
		{"minimal", &registry.Person{ID: 1, CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
			BirthDate: registry.Date{Year: 1950, Month: 2, Day: 17}, CivilStatus: registry.Single}},
		{"full", full},
		{"open procedure, no e-mail", &registry.Person{ID: 2, CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
			BirthDate: registry.Date{Year: 1950, Month: 2, Day: 17}, ProcedureOpen: registry.Date{Year: 2026, Month: 11, Day: 2}}},
		{"membership history", &registry.Person{ID: 3, CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
			BirthDate: registry.Date{Year: 1950, Month: 2, Day: 17}, Family: 9, Relationship: registry.Head,
			Memberships: []registry.Membership{
				{Family: 4, Relationship: registry.Child, From: registry.Date{Year: 1950, Month: 2, Day: 17}, To: registry.Date{Year: 1976, Month: 5, Day: 31}},
				{Family: 9, Relationship: registry.Head, From: registry.Date{Year: 1976, Month: 6, Day: 1}},
			}}},
		{"born abroad with a membership history", &registry.Person{ID: 4, CF: "RSSMRA50B17Z336W", Surname: "Rossi", GivenNames: "Maria", Sex: registry.Female,
			BirthDate: registry.Date{Year: 1950, Month: 2, Day: 17}, BirthPlace: "Z336", BirthLocality: "IL CAIRO", Email: "m@example.org",
			Memberships: []registry.Membership{{Family: 2, Relationship: registry.Spouse, From: registry.Date{Year: 1990, Month: 1, Day: 1}, To: registry.Date{Year: 2000, Month: 1, Day: 1}}}}},
		{"negative year and large ID", &registry.Person{ID: 1<<64 - 1, BirthDate: registry.Date{Year: -5, Month: 12, Day: 31}}},
		// Format 5: a birth abroad with its town, with and without an
		// e-mail and an open procedure.
		{"born abroad with town", &registry.Person{ID: 3, CF: "SDAHMD90B24Z336W", Surname: "Said", GivenNames: "Ahmed", Sex: registry.Male,
			BirthDate: registry.Date{Year: 1990, Month: 2, Day: 24}, BirthPlace: "Z336", BirthLocality: "Il Cairo"}},
		{"born abroad with town, e-mail and procedure", func() *registry.Person {
			p := *full
			p.BirthPlace, p.BirthLocality = "Z336", "Alessandria d'Egitto"
			return &p
		}()},
		{"non-ASCII names", &registry.Person{ID: 9, Surname: "D'Alò", GivenNames: "Niccolò Maria", BirthDate: registry.Date{Year: 2000, Month: 1, Day: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := appendPerson(nil, tt.p)
			got, err := decodePerson(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.p) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.p)
			}
			// Every truncation is an error, never a panic or a wrong record.
			for n := 0; n < len(data); n++ {
				if _, err := decodePerson(data[:n]); err == nil {
					t.Fatalf("decoding %d of %d bytes succeeded", n, len(data))
				}
			}
		})
	}
}

func TestFamilyAndEventCodec(t *testing.T) {
	f := &registry.Family{ID: 12, Kind: registry.Convivenza, Name: "Istituto San Giuseppe"}
	gotF, err := decodeFamily(appendFamily(nil, f))
	if err != nil || *gotF != *f {
		t.Errorf("family round trip = %+v, %v; want %+v", gotF, err, f)
	}
	e := &registry.Event{ID: 5, Kind: registry.Birth, Date: registry.Date{Year: 2010, Month: 3, Day: 15}, Place: "F205",
		Persons: []registry.PersonID{3}, Related: []registry.PersonID{1, 2}, Act: "anno 2010 parte I serie A n. 7", Note: "n"}
	gotE, err := decodeEvent(appendEvent(nil, e))
	if err != nil || !reflect.DeepEqual(gotE, e) {
		t.Errorf("event round trip = %+v, %v; want %+v", gotE, err, e)
	}
	// Format 2: a contratto di convivenza keeps who authenticated it.
	pact := &registry.Event{ID: 6, Kind: registry.CohabitationPact, Date: registry.Date{Year: 2019, Month: 10, Day: 10}, Place: "F205",
		Persons: []registry.PersonID{1, 2}, Authentication: &registry.Authentication{Professional: registry.Notary, Name: "Carla Ferri",
			Date: registry.Date{Year: 2019, Month: 10, Day: 8}, Reference: "rep. n. 18234"}}
	data := appendEvent(nil, pact)
	gotE, err = decodeEvent(data)
	if err != nil || !reflect.DeepEqual(gotE, pact) {
		t.Errorf("contratto round trip = %+v, %v; want %+v", gotE, err, pact)
	}
	for n := 0; n < len(data); n++ {
		if _, err := decodeEvent(data[:n]); err == nil {
			t.Fatalf("decoding %d of %d bytes of a contratto succeeded", n, len(data))
		}
	}
	// Events without one keep format 1's bytes.
	if b := appendEvent(nil, e); b[0] != recordV1 {
		t.Errorf("an event with no authentication is written in format %d", b[0])
	}
}

func TestDecodeRefusesOtherFormats(t *testing.T) {
	data := appendPerson(nil, synthPerson(1, 0, 0))
	data[0] = recordV1 + 1
	if _, err := decodePerson(data); err == nil {
		t.Error("a record of an unknown format decoded")
	}
	data = append(appendPerson(nil, synthPerson(1, 0, 0)), 0)
	if _, err := decodePerson(data); err == nil {
		t.Error("a record with trailing bytes decoded")
	}
}

// FuzzDecodePerson: a damaged file must give errors, not panics, and what
// decodes must encode back to the same bytes.
func FuzzDecodePerson(f *testing.F) {
	f.Add(appendPerson(nil, synthPerson(1, 2, registry.Head)))
	f.Add(appendPerson(nil, &registry.Person{}))
	f.Add([]byte{recordV1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodePerson(data)
		if err != nil {
			return
		}
		if again := appendPerson(nil, p); !bytes.Equal(again, data) {
			// Non-canonical varints decode to the same value: accept the
			// re-encoding if it decodes to the same person.
			q, err := decodePerson(again)
			if err != nil || !reflect.DeepEqual(p, q) {
				t.Fatalf("re-encoding %x gave %x, which decodes to %+v, %v", data, again, q, err)
			}
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(appendEvent(nil, &registry.Event{ID: 1, Kind: registry.Marriage, Persons: []registry.PersonID{1, 2}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEvent(data)
		if err != nil {
			return
		}
		if _, err := decodeEvent(appendEvent(nil, e)); err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
	})
}
