package certificate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
)

// history is a registry with a family's past: the Rossi famiglia (1) of
// Mario, Anna and Giulia, with whom Mario's father Giovanni lived from 2010
// until he died in 2015; Carla, a cousin who joined it in 2020, after the
// death; Giulia, who was born in 2012; and Luigi, a stranger in family 2.
type history struct {
	*household
	giovanni, carla *registry.Person
	death           *registry.Event
	r               *histReader
}

func newHistory() *history {
	h := &history{household: newHousehold()}
	since := date("2010-05-01")
	h.mario.Memberships = []registry.Membership{{Family: 1, Relationship: registry.Head, From: since}}
	h.anna.Memberships = []registry.Membership{{Family: 1, Relationship: registry.Spouse, From: since}}
	h.giulia.Memberships = []registry.Membership{{Family: 1, Relationship: registry.Adopted, From: date("2012-01-01")}}
	h.giulia.Residences = []registry.Residence{milano("Via Giuseppe Verdi", "12")}
	h.giulia.Residences[0].From = date("2012-01-01")
	h.stranger.Memberships = []registry.Membership{{Family: 2, Relationship: registry.Head, From: since}}
	// Mario lived elsewhere before: two residence periods.
	h.mario.Residences = []registry.Residence{
		{Address: registry.Address{Street: "Via Padova", Number: "40", CAP: "20127", Comune: "F205"}, From: date("1975-03-01"), To: date("2010-04-30")},
		milano("Via Giuseppe Verdi", "12"),
	}
	died := date("2015-03-10")
	h.giovanni = &registry.Person{ID: 6, CF: "RSSGNN25A01F205K", Surname: "Rossi", GivenNames: "Giovanni", Sex: registry.Male,
		BirthDate: date("1925-01-01"), BirthPlace: "F205", Citizenships: []string{registry.Italy}, CivilStatus: registry.Widowed,
		DeathDate: died, DeathPlace: "F205",
		Residences:  []registry.Residence{{Address: h.mario.Residences[1].Address, From: since, To: died}},
		Memberships: []registry.Membership{{Family: 1, Relationship: registry.Parent, From: since, To: died}}}
	h.carla = &registry.Person{ID: 7, CF: "NRECRL80A41F205X", Surname: "Neri", GivenNames: "Carla", Sex: registry.Female,
		BirthDate: date("1980-01-01"), BirthPlace: "F205", Citizenships: []string{registry.Italy}, CivilStatus: registry.Single,
		Family: 1, Relationship: registry.Cousin, Residences: []registry.Residence{milano("Via Giuseppe Verdi", "12")},
		Memberships: []registry.Membership{{Family: 1, Relationship: registry.Cousin, From: date("2020-01-01")}}}
	h.carla.Residences[0].From = date("2020-01-01")
	h.death = &registry.Event{ID: 2, Kind: registry.Death, Date: died, Place: "F205", Persons: []registry.PersonID{6},
		Act: "anno 2015 parte I n. 812"}
	h.r = &histReader{h: h}
	return h
}

// histReader serves the history through registry.Reader, former members
// included in FamilyHistory only, as the bolt store does.
type histReader struct {
	registry.Reader
	h *history
}

func (r *histReader) all() []*registry.Person {
	h := r.h
	return []*registry.Person{h.mario, h.anna, h.giulia, h.stranger, h.minorStranger, h.giovanni, h.carla}
}

func (r *histReader) PersonByCF(cf string) (*registry.Person, error) {
	for _, p := range r.all() {
		if p.CF == cf {
			return p, nil
		}
	}
	return nil, registry.ErrNotFound
}

func (r *histReader) Person(id registry.PersonID) (*registry.Person, error) {
	for _, p := range r.all() {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, registry.ErrNotFound
}

func (r *histReader) Family(id registry.FamilyID) (*registry.Family, error) {
	if id == 1 {
		return r.h.family, nil
	}
	return &registry.Family{ID: id, Kind: registry.Famiglia}, nil
}

func (r *histReader) Members(id registry.FamilyID) ([]*registry.Person, error) {
	var out []*registry.Person
	for _, p := range r.all() {
		if p.Family == id {
			out = append(out, p)
		}
	}
	return out, nil
}

func (r *histReader) FamilyHistory(id registry.FamilyID) ([]*registry.Person, error) {
	var out []*registry.Person
	for _, p := range r.all() {
		for _, m := range p.Memberships {
			if m.Family == id {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}

func (r *histReader) EventsOf(id registry.PersonID) ([]*registry.Event, error) {
	switch id {
	case 1, 2:
		return []*registry.Event{r.h.marriage}, nil
	case 6:
		return []*registry.Event{r.h.death}, nil
	}
	return nil, nil
}

// request runs a counter request as issuance does: identify the requester
// with their household, check the household rule, load the subject (and
// its past on the date), then the rules. It returns the subject data and
// the types, or the refusal.
func (h *history) request(t *testing.T, requester *registry.Person, channel Channel, subjectCF string, at registry.Date, types ...Type) (*SubjectData, []Type, error) {
	t.Helper()
	q := Requester{CF: requester.CF, Person: requester}
	if err := LoadHousehold(h.r, &q); err != nil {
		t.Fatal(err)
	}
	req := Request{Types: types, Requester: q, Channel: channel, Now: testNow, At: at}
	d, err := Load(h.r, subjectCF)
	var subject *registry.Person
	if d != nil {
		subject = d.Person
	}
	if herr := CheckHousehold(req, subject); herr != nil {
		return nil, nil, herr
	}
	if err != nil {
		return nil, nil, err
	}
	if !at.IsZero() {
		if err := LoadPast(h.r, d, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Check(d, req)
	return d, got, err
}

func reasonOf(err error) string {
	if r, ok := AsRefusal(err); ok {
		return r.Reason
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

// TestMorteRules: the death certificate is issued about a deceased person
// only, at a counter or kiosk to whoever lived in the deceased's famiglia
// when they died (DiedInFamiglia), to anyone at the registry office
// (art. 450 c.c.), and nothing else is issued about the deceased but the
// history up to the death.
func TestMorteRules(t *testing.T) {
	var zero registry.Date
	for _, c := range []struct {
		name      string
		requester func(h *history) *registry.Person
		channel   Channel
		subject   func(h *history) *registry.Person
		types     []Type
		at        registry.Date
		want      string
	}{
		{"son who lived with him, at a counter", func(h *history) *registry.Person { return h.mario }, Counter,
			func(h *history) *registry.Person { return h.giovanni }, []Type{Morte}, zero, ""},
		{"daughter-in-law who lived with him, at a kiosk", func(h *history) *registry.Person { return h.anna }, SelfService,
			func(h *history) *registry.Person { return h.giovanni }, []Type{Morte}, zero, ""},
		{"cousin who joined the family after the death", func(h *history) *registry.Person { return h.carla }, Counter,
			func(h *history) *registry.Person { return h.giovanni }, []Type{Morte}, zero, ReasonNotRequesterHousehold},
		{"stranger at a counter", func(h *history) *registry.Person { return h.stranger }, Counter,
			func(h *history) *registry.Person { return h.giovanni }, []Type{Morte}, zero, ReasonNotRequesterHousehold},
		{"stranger at the registry office", func(h *history) *registry.Person { return h.stranger }, Office,
			func(h *history) *registry.Person { return h.giovanni }, []Type{Morte}, zero, ""},
		{"a living person", func(h *history) *registry.Person { return h.mario }, Counter,
			func(h *history) *registry.Person { return h.anna }, []Type{Morte}, zero, ReasonNotDeceased},
		{"residenza of the deceased", func(h *history) *registry.Person { return h.mario }, Counter,
			func(h *history) *registry.Person { return h.giovanni }, []Type{Residenza}, zero, ReasonSubjectDeceased},
		{"residence history of the deceased", func(h *history) *registry.Person { return h.mario }, Counter,
			func(h *history) *registry.Person { return h.giovanni }, []Type{ResidenzaStorica}, date("2014-01-01"), ""},
		{"morte with another type", func(h *history) *registry.Person { return h.mario }, Counter,
			func(h *history) *registry.Person { return h.giovanni }, []Type{Morte, Nascita}, zero, ReasonIncompatibleTypes},
		{"morte with a date", func(h *history) *registry.Person { return h.mario }, Counter,
			func(h *history) *registry.Person { return h.giovanni }, []Type{Morte}, date("2014-01-01"), ReasonDateNotAllowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHistory()
			_, _, err := h.request(t, c.requester(h), c.channel, c.subject(h).CF, c.at, c.types...)
			if got := reasonOf(err); got != c.want {
				t.Errorf("reason %q (%v), want %q", got, err, c.want)
			}
		})
	}
}

// TestDiedInFamiglia: the death must fall within the requester's own
// period in the same famiglia, and a convivenza never counts.
func TestDiedInFamiglia(t *testing.T) {
	h := newHistory()
	load := func(p *registry.Person) Requester {
		q := Requester{CF: p.CF, Person: p}
		if err := LoadHousehold(h.r, &q); err != nil {
			t.Fatal(err)
		}
		return q
	}
	if !DiedInFamiglia(load(h.mario), h.giovanni) {
		t.Error("the son who lived with his father is not counted")
	}
	// Mario moved in the day after the death: not in the famiglia then.
	h.mario.Memberships[0].From = date("2015-03-11")
	if DiedInFamiglia(load(h.mario), h.giovanni) {
		t.Error("a son who joined after the death is counted")
	}
	h.mario.Memberships[0].From = date("2010-05-01")
	h.family.Kind = registry.Convivenza
	if DiedInFamiglia(load(h.mario), h.giovanni) {
		t.Error("a convivenza is counted as a famiglia")
	}
	h.family.Kind = registry.Famiglia
	if DiedInFamiglia(load(h.mario), h.anna) {
		t.Error("a living person is counted as deceased")
	}
}

// TestHistoricalDateRules: a historical type needs a date, from the first
// day the registry's history of the subject covers up to today (and up to
// the death); any other type refuses one.
func TestHistoricalDateRules(t *testing.T) {
	var zero registry.Date
	for _, c := range []struct {
		name    string
		subject func(h *history) *registry.Person
		typ     Type
		at      registry.Date
		want    string
	}{
		{"residenza storica", func(h *history) *registry.Person { return h.mario }, ResidenzaStorica, date("2009-01-01"), ""},
		{"residenza storica today", func(h *history) *registry.Person { return h.mario }, ResidenzaStorica, registry.DateOf(testNow), ""},
		{"residenza storica without date", func(h *history) *registry.Person { return h.mario }, ResidenzaStorica, zero, ReasonDateRequired},
		{"famiglia storica without date", func(h *history) *registry.Person { return h.mario }, StatoDiFamigliaStorico, zero, ReasonDateRequired},
		{"residenza storica tomorrow", func(h *history) *registry.Person { return h.mario }, ResidenzaStorica,
			registry.DateOf(testNow.AddDate(0, 0, 1)), ReasonDateInFuture},
		{"residenza storica before the first residence", func(h *history) *registry.Person { return h.mario }, ResidenzaStorica,
			date("1975-02-28"), ReasonDateBeforeRecords},
		{"residenza storica on the first residence's first day", func(h *history) *registry.Person { return h.mario }, ResidenzaStorica,
			date("1975-03-01"), ""},
		{"famiglia storica before the family history", func(h *history) *registry.Person { return h.mario }, StatoDiFamigliaStorico,
			date("2010-04-30"), ReasonDateBeforeRecords},
		{"famiglia storica with no history kept", func(h *history) *registry.Person {
			h.mario.Memberships = nil
			return h.mario
		}, StatoDiFamigliaStorico, date("2012-01-01"), ReasonDateBeforeRecords},
		{"famiglia storica after the death", func(h *history) *registry.Person { return h.giovanni }, StatoDiFamigliaStorico,
			date("2015-03-11"), ReasonDateAfterDeath},
		{"famiglia storica in a gap of the history", func(h *history) *registry.Person {
			h.mario.Memberships = []registry.Membership{
				{Family: 2, Relationship: registry.Child, From: date("1975-03-01"), To: date("2000-01-01")},
				{Family: 1, Relationship: registry.Head, From: date("2010-05-01")},
			}
			return h.mario
		}, StatoDiFamigliaStorico, date("2005-01-01"), ReasonNoFamilyOnDate},
		{"date on a current type", func(h *history) *registry.Person { return h.mario }, StatoDiFamiglia, date("2012-01-01"), ReasonDateNotAllowed},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHistory()
			s := c.subject(h)
			_, _, err := h.request(t, h.mario, Office, s.CF, c.at, c.typ)
			if got := reasonOf(err); got != c.want {
				t.Errorf("reason %q (%v), want %q", got, err, c.want)
			}
		})
	}
	// The request's own faults are refused before anything about the
	// subject: a stranger learns nothing from them.
	h := newHistory()
	_, _, err := h.request(t, h.stranger, Counter, h.mario.CF, registry.Date{}, ResidenzaStorica)
	if got := reasonOf(err); got != ReasonNotRequesterHousehold {
		t.Errorf("stranger asking without a date: %q, want the household refusal", got)
	}
}

func lineValue(doc *Document, label string) string {
	for _, s := range doc.Sections {
		for _, l := range s.Lines {
			if l.Label == label {
				return l.Value
			}
		}
	}
	return ""
}

func composeAt(t *testing.T, d *SubjectData, at registry.Date, types ...Type) *Document {
	t.Helper()
	doc, err := Compose(d, types, places.Default(), Issue{ID: "abcdefghijklmnop", Protocol: "2026/0000123",
		Issued: testNow, Issuer: testIssuer, VerifyURL: "https://hub.example/v/abcdefghijklmnop", At: at})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestComposeMorte: name, birth, death date and place on one sealed line,
// the act, and unlimited validity (art. 41 DPR 445/2000).
func TestComposeMorte(t *testing.T) {
	h := newHistory()
	d, types, err := h.request(t, h.mario, Counter, h.giovanni.CF, registry.Date{}, Morte)
	if err != nil {
		t.Fatal(err)
	}
	doc := composeAt(t, d, registry.Date{}, types...)
	if doc.Title != "CERTIFICATO DI MORTE" || doc.Subject.Name != "ROSSI GIOVANNI" || doc.Subject.BirthDate != "01/01/1925" {
		t.Errorf("title %q, subject %+v", doc.Title, doc.Subject)
	}
	if got := lineValue(doc, "Risulta"); got != "deceduto il 10/03/2015 a MILANO (MI)" {
		t.Errorf("death line %q", got)
	}
	if got := lineValue(doc, "Atto di morte"); got != h.death.Act {
		t.Errorf("act %q, want %q", got, h.death.Act)
	}
	if doc.Notices[1] != ValidityUnlimited {
		t.Errorf("validity %q", doc.Notices[1])
	}
	if f := doc.Facts[len(doc.Facts)-1]; f.Key != "morte" || f.Value != lineValue(doc, "Risulta")+"\n"+lineValue(doc, "Atto di morte") {
		t.Errorf("sealed fact %+v is not the printed death line", f)
	}
}

// TestComposeResidenzaStorica: the periods up to the date, the one open on
// it without its end, and the address on the date sealed with the date.
func TestComposeResidenzaStorica(t *testing.T) {
	h := newHistory()
	at := date("2009-06-30")
	d, types, err := h.request(t, h.mario, Counter, h.mario.CF, at, ResidenzaStorica)
	if err != nil {
		t.Fatal(err)
	}
	doc := composeAt(t, d, at, types...)
	tab := doc.Sections[0].Table
	if tab == nil || len(tab.Rows) != 1 || tab.Rows[0][0] != "01/03/1975" || tab.Rows[0][1] != "" || !strings.HasPrefix(tab.Rows[0][2], "Via Padova 40") {
		t.Fatalf("rows on 2009-06-30: %+v", tab)
	}
	if got := lineValue(doc, "Residenza a quella data"); !strings.HasPrefix(got, "Via Padova 40") {
		t.Errorf("address on the date %q", got)
	}
	doc = composeAt(t, d, registry.DateOf(testNow), types...)
	tab = doc.Sections[0].Table
	if len(tab.Rows) != 2 || tab.Rows[0][1] != "30/04/2010" || tab.Rows[1][0] != "01/05/2010" || tab.Rows[1][1] != "" {
		t.Errorf("rows today: %+v", tab.Rows)
	}
	facts := map[string]string{}
	for _, f := range doc.Facts {
		facts[f.Key] = f.Value
	}
	if facts["data_di_riferimento"] != "23/11/2026" || !strings.Contains(facts["residenza_storica"], "\nVia Giuseppe Verdi 12") {
		t.Errorf("sealed facts %v", facts)
	}
}

// TestComposeStatoDiFamigliaStorico: the members on the date with the
// relationship they had then, former members included, later ones not,
// adoption printed as filiation.
func TestComposeStatoDiFamigliaStorico(t *testing.T) {
	h := newHistory()
	at := date("2014-06-01")
	d, types, err := h.request(t, h.anna, Counter, h.mario.CF, at, StatoDiFamigliaStorico)
	if err != nil {
		t.Fatal(err)
	}
	doc := composeAt(t, d, at, types...)
	var got []string
	for _, r := range doc.Sections[0].Table.Rows {
		got = append(got, r[0]+"|"+r[4])
	}
	// Giulia, adopted, sorts and reads as a daughter.
	want := "ROSSI MARIO|intestatario scheda; BIANCHI ANNA|moglie; ROSSI GIULIA|figlia; ROSSI GIOVANNI|padre"
	if strings.Join(got, "; ") != want {
		t.Errorf("members on %s:\n got %s\nwant %s", at, strings.Join(got, "; "), want)
	}
	if lineValue(doc, "Intestatario della scheda di famiglia") != "ROSSI MARIO" || lineValue(doc, "Data di riferimento") != "01/06/2014" {
		t.Errorf("lines %+v", doc.Sections[0].Lines)
	}
	// In 2011 Giulia was not yet there; in 2021 Giovanni no longer was
	// and Carla was.
	for _, c := range []struct {
		at   string
		want int
	}{{"2011-01-01", 3}, {"2021-01-01", 4}} {
		d, _, err := h.request(t, h.anna, Counter, h.mario.CF, date(c.at), StatoDiFamigliaStorico)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(d.Past.Members); n != c.want {
			t.Errorf("%s: %d members, want %d", c.at, n, c.want)
		}
	}
}

// TestLoadPastUnknownFamily: a membership of a family the registry no
// longer holds leaves Past empty, and the rules refuse.
func TestLoadPastUnknownFamily(t *testing.T) {
	h := newHistory()
	r := &missingFamily{histReader: h.r}
	d, err := Load(r, h.mario.CF)
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadPast(r, d, date("2014-01-01")); err != nil || d.Past != nil {
		t.Fatalf("LoadPast = %v, past %+v", err, d.Past)
	}
	_, err = Check(d, Request{Types: []Type{StatoDiFamigliaStorico}, Requester: Requester{CF: h.mario.CF, Person: h.mario},
		Channel: Office, Now: testNow, At: date("2014-01-01")})
	if reasonOf(err) != ReasonNoFamilyOnDate {
		t.Errorf("%v", err)
	}
}

type missingFamily struct{ *histReader }

func (m *missingFamily) Family(id registry.FamilyID) (*registry.Family, error) {
	return nil, fmt.Errorf("no family %d: %w", id, registry.ErrNotFound)
}
