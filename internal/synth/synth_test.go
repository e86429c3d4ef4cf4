package synth

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

var testToday = registry.Date{Year: 2025, Month: time.June, Day: 1}

func collect(t testing.TB, cfg Config) []*Batch {
	t.Helper()
	var out []*Batch
	if err := Generate(cfg, func(b *Batch) error { out = append(out, b); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// sample is one 20,000-person registry shared by the distribution and
// validity tests.
var sample = sync.OnceValue(func() []*Batch {
	var out []*Batch
	cfg := Config{Persons: 20000, Seed: 1, Today: testToday, BatchPersons: 3000}
	if err := Generate(cfg, func(b *Batch) error { out = append(out, b); return nil }); err != nil {
		panic(err)
	}
	return out
})

// fingerprint lists every record's identifying fields in order, with
// references made independent of batch boundaries.
func fingerprint(bs []*Batch) []string {
	var persons, events []string
	famBase := 0
	for _, b := range bs {
		for i, p := range b.Persons {
			home := -1
			if h := b.Home(i); h >= 0 {
				home = famBase + h
			}
			s := fmt.Sprintf("%s|%s|%s|%s|%s|%d|%d|%v", p.CF, p.Surname, p.GivenNames, p.BirthDate, p.BirthPlace, home, p.Relationship, p.Citizenships)
			for _, d := range p.Documents {
				s += "|" + d.Number + "/" + d.NIS + "/" + d.Expires.String()
			}
			for _, r := range p.Residences {
				s += "|" + r.Address.Line() + "@" + r.From.String()
			}
			persons = append(persons, s)
		}
		for i, e := range b.Events {
			ps, rel := b.EventRefs(i)
			s := fmt.Sprintf("%s|%s|%s", e.Kind, e.Date, e.Note)
			for _, r := range append(append([]int32(nil), ps...), rel...) {
				s += "|" + b.Persons[r].CF
			}
			events = append(events, s)
		}
		famBase += len(b.Families)
	}
	return append(persons, events...)
}

func TestSameSeedSameRegistry(t *testing.T) {
	base := Config{Persons: 4000, Seed: 42, Today: testToday, BatchPersons: 1000}
	want := fingerprint(collect(t, base))
	if len(want) < 4000 {
		t.Fatalf("got %d records, want at least 4000", len(want))
	}
	other := base
	other.BatchPersons = 777 // batching must not change the registry
	for name, cfg := range map[string]Config{"same config": base, "other batch size": other} {
		got := fingerprint(collect(t, cfg))
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, first run had %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: record %d differs:\n got %s\nwant %s", name, i, got[i], want[i])
			}
		}
	}

	diff := base
	diff.Seed = 43
	got := fingerprint(collect(t, diff))
	same := 0
	for i := range min(len(got), len(want)) {
		if got[i] == want[i] {
			same++
		}
	}
	if same > len(want)/100 {
		t.Errorf("seeds 42 and 43 share %d of %d records; different seeds must give different registries", same, len(want))
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no today":         {Persons: 10, Seed: 1},
		"negative persons": {Persons: -1, Today: testToday},
		"impossible today": {Persons: 10, Today: registry.Date{Year: 2025, Month: 2, Day: 30}},
		"no streets":       {Persons: 10, Today: testToday, City: City{Code: "F205", Name: "Milano"}},
	} {
		if err := Generate(cfg, func(*Batch) error { return nil }); err == nil {
			t.Errorf("%s: Generate accepted %+v", name, cfg)
		}
	}
	want := fmt.Errorf("stop")
	n := 0
	err := Generate(Config{Persons: 5000, Today: testToday, BatchPersons: 1000}, func(*Batch) error { n++; return want })
	if err != want || n != 1 {
		t.Errorf("Generate returned %v after %d batches, want emit's error after the first", err, n)
	}
}

func TestExactPersonCount(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1234} {
		got := 0
		for _, b := range collect(t, Config{Persons: n, Seed: int64(n), Today: testToday}) {
			got += len(b.Persons)
			if b.Stats.Persons != len(b.Persons) {
				t.Errorf("batch stats count %d persons, batch holds %d", b.Stats.Persons, len(b.Persons))
			}
		}
		if got != n {
			t.Errorf("Persons=%d generated %d", n, got)
		}
	}
}

func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi || math.IsNaN(got) {
		t.Errorf("%s = %.4f, want between %.4f and %.4f", what, got, lo, hi)
	}
}

func TestDistribution(t *testing.T) {
	var st Stats
	sizes := map[int]int{}
	households := 0
	living, old, minors := 0, 0, 0
	kinds := map[registry.EventKind]int{}
	for _, b := range sample() {
		st.Add(b.Stats)
		count := make([]int, len(b.Families))
		aire := make([]bool, len(b.Families))
		for i, p := range b.Persons {
			if h := b.Home(i); h >= 0 {
				count[h]++
				aire[h] = aire[h] || p.AIRE
			}
			if p.Alive() && !p.AIRE {
				living++
				switch a := p.BirthDate.AgeAt(testToday); {
				case a >= 65:
					old++
				case a < 18:
					minors++
				}
			}
		}
		for h, f := range b.Families {
			if f.Kind == registry.Famiglia && !aire[h] {
				sizes[min(count[h], 5)]++
				households++
			}
		}
		for _, e := range b.Events {
			kinds[e.Kind]++
		}
	}
	for size, want := range map[int]float64{1: 0.45, 2: 0.28, 3: 0.14, 4: 0.10, 5: 0.03} {
		within(t, fmt.Sprintf("share of households of size %d", size), float64(sizes[size])/float64(households), want-0.025, want+0.025)
	}
	within(t, "persons per household", float64(st.Persons)/float64(st.Families), 1.8, 2.3)
	within(t, "foreign-born share", float64(st.ForeignBorn)/float64(st.Persons), 0.17, 0.23)
	within(t, "share aged 65+", float64(old)/float64(living), 0.18, 0.32)
	within(t, "share under 18", float64(minors)/float64(living), 0.10, 0.20)
	within(t, "partly certifiable share", float64(st.PartlyCertifiable)/float64(st.Persons), 0.002, 0.01)
	within(t, "AIRE share", float64(st.AIRE)/float64(st.Persons), 0.001, 0.01)
	within(t, "deceased share", float64(st.Deceased)/float64(st.Persons), 0.005, 0.04)
	within(t, "documents per person", float64(st.Documents)/float64(st.Persons), 0.7, 1.3)
	if st.Omocodes == 0 || st.Convivenze == 0 {
		t.Errorf("stats %+v: a seeded city must contain omocodes and convivenze", st)
	}
	for _, k := range []registry.EventKind{registry.Birth, registry.Marriage, registry.CivilUnionFormed, registry.Divorce,
		registry.Death, registry.ResidenceChange, registry.CohabitationPact, registry.UnionDissolved} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in 20,000 persons", k)
		}
	}
}

var (
	cieNumber = regexp.MustCompile(`^C[A-Z][0-9]{5}[A-Z]{2}$`)
	bookNum   = regexp.MustCompile(`^[AY][A-Z][0-9]{7}$`)
	nisRe     = regexp.MustCompile(`^[0-9]{12}$`)
)

func TestRecordsValid(t *testing.T) {
	today := dayOf(testToday)
	cfs := map[string]bool{}
	bases := map[string]int{}
	nis := map[string]bool{}
	numbers := map[string]bool{}
	omocodes := 0
	fail := func(p *registry.Person, format string, args ...any) {
		t.Helper()
		t.Errorf("%s %s %s: %s", p.CF, p.Surname, p.GivenNames, fmt.Sprintf(format, args...))
	}
	for _, b := range sample() {
		heads := make([]int, len(b.Families))
		headOf := make([]*registry.Person, len(b.Families))
		for i, p := range b.Persons {
			if h := b.Home(i); h >= 0 && (p.Relationship == registry.Head || p.Relationship == registry.ConvivenzaHead) {
				heads[h]++
				headOf[h] = p
			}
		}
		for h, f := range b.Families {
			if heads[h] != 1 {
				t.Errorf("family %d (%q) has %d heads, want 1", h, f.Name, heads[h])
			}
		}
		for i, p := range b.Persons {
			if err := p.Validate(); err != nil {
				fail(p, "%v", err)
			}
			if err := codicefiscale.Validate(p.CF); err != nil {
				fail(p, "%v", err)
			}
			if cfs[p.CF] {
				fail(p, "codice fiscale given twice")
			}
			cfs[p.CF] = true
			base, _ := codicefiscale.Base(p.CF)
			want, err := codicefiscale.Encode(codicefiscale.Subject{Surname: p.Surname, Name: p.GivenNames,
				Sex: byte(p.Sex), Birth: p.BirthDate.Time(), Place: p.BirthPlace})
			if err != nil || want != base {
				fail(p, "codice fiscale base %s, the data encode to %s (%v)", base, want, err)
			}
			if base != p.CF {
				omocodes++
			}
			if n := bases[base]; p.CF != mustOmocode(t, base, n) {
				fail(p, "holder %d of base %s should get omocodia level %d", n+1, base, n)
			}
			bases[base]++

			birth := dayOf(p.BirthDate)
			if birth > today || p.BirthDate.AgeAt(testToday) > 102 {
				fail(p, "born %s", p.BirthDate)
			}
			if !p.Alive() {
				if b.Home(i) != -1 || p.DeathDate.Before(p.BirthDate) || testToday.Before(p.DeathDate) {
					fail(p, "deceased %s in family %d", p.DeathDate, b.Home(i))
				}
			} else if b.Home(i) < 0 {
				fail(p, "living person in no family")
			}
			if len(p.Citizenships) == 0 {
				fail(p, "no citizenship")
			}

			// residences: chronological, the last one open and where it should be
			if len(p.Residences) == 0 {
				fail(p, "no residence")
			}
			for k, r := range p.Residences {
				last := k == len(p.Residences)-1
				if r.From.Before(p.BirthDate) || testToday.Before(r.From) {
					fail(p, "residence %d from %s", k, r.From)
				}
				if last != r.To.IsZero() && p.Alive() {
					fail(p, "residence %d of %d ends %q", k, len(p.Residences), r.To)
				}
				if k > 0 && !p.Residences[k-1].To.Before(r.From) {
					fail(p, "residence %d starts %s before the previous ended %s", k, r.From, p.Residences[k-1].To)
				}
			}
			if cur, ok := p.CurrentResidence(); ok {
				switch {
				case p.AIRE && (cur.Address.Comune[0] != 'Z' || cur.AIREComune != "F205"):
					fail(p, "AIRE resident lives at %+v", cur)
				case !p.AIRE && cur.Address.Comune != "F205":
					fail(p, "resident lives in %s", cur.Address.Comune)
				}
			}

			// relationships agree with ages and status
			h := b.Home(i)
			if h >= 0 {
				head := headOf[h]
				conv := b.Families[h].Kind == registry.Convivenza
				switch r := p.Relationship; {
				case conv && r != registry.ConvivenzaHead && r != registry.ConvivenzaMember:
					fail(p, "relationship %d in a convivenza", r)
				case !conv && (r == registry.ConvivenzaHead || r == registry.ConvivenzaMember):
					fail(p, "relationship %d in a family", r)
				case r == registry.Child && head.BirthDate.AgeAt(p.BirthDate) < 14:
					fail(p, "child born %s of a head born %s", p.BirthDate, head.BirthDate)
				case r == registry.Parent && p.BirthDate.AgeAt(head.BirthDate) < 18:
					fail(p, "parent born %s of a head born %s", p.BirthDate, head.BirthDate)
				case r == registry.Spouse && (p.CivilStatus != registry.Married || head.CivilStatus != registry.Married || p.Sex == head.Sex):
					fail(p, "spouse with status %d/%d", p.CivilStatus, head.CivilStatus)
				case r == registry.CivilPartner && (p.CivilStatus != registry.CivilUnion || head.CivilStatus != registry.CivilUnion || p.Sex != head.Sex):
					fail(p, "civil partner with status %d/%d", p.CivilStatus, head.CivilStatus)
				}
			}

			// documents
			for _, d := range p.Documents {
				if numbers[d.Number] {
					fail(p, "document number %s given twice", d.Number)
				}
				numbers[d.Number] = true
				if !d.Issued.Before(d.Expires) || testToday.Before(d.Issued) || d.Issued.Before(p.BirthDate) {
					fail(p, "document %s issued %s expires %s", d.Number, d.Issued, d.Expires)
				}
				if d.Kind != registry.Passport && !p.AIRE {
					where := ""
					for _, r := range p.Residences {
						if !d.Issued.Before(r.From) && (r.To.IsZero() || !r.To.Before(d.Issued)) {
							where = r.Address.Comune
						}
					}
					if where != d.Issuer {
						fail(p, "%s %s issued %s by %s, but the holder then lived in %q", d.Kind, d.Number, d.Issued, d.Issuer, where)
					}
				}
				switch d.Kind {
				case registry.CIE:
					if !cieNumber.MatchString(d.Number) || !nisRe.MatchString(d.NIS) {
						fail(p, "CIE %s NIS %s", d.Number, d.NIS)
					}
					if nis[d.NIS] {
						fail(p, "NIS %s given twice", d.NIS)
					}
					nis[d.NIS] = true
					years := 10
					if a := p.BirthDate.AgeAt(d.Issued); a < 3 {
						years = 3
					} else if a < 18 {
						years = 5
					}
					end := dayOf(d.Issued).addYears(years)
					exp := dayOf(d.Expires)
					birthday := d.Expires.Month == p.BirthDate.Month && d.Expires.Day == p.BirthDate.Day ||
						p.BirthDate.Month == time.February && p.BirthDate.Day == 29 && d.Expires.Month == time.March && d.Expires.Day == 1
					if exp < end || exp >= end+366 || !birthday {
						fail(p, "CIE issued %s at %d years expires %s, want the first birthday after %d years", d.Issued, p.BirthDate.AgeAt(d.Issued), d.Expires, years)
					}
				case registry.Passport, registry.Paper:
					if !bookNum.MatchString(d.Number) {
						fail(p, "%s number %s", d.Kind, d.Number)
					}
				}
			}
		}

		for k, e := range b.Events {
			ps, rel := b.EventRefs(k)
			if len(ps) == 0 {
				t.Errorf("%s event %d involves nobody", e.Kind, k)
			}
			for _, r := range append(append([]int32(nil), ps...), rel...) {
				if r < 0 || int(r) >= len(b.Persons) {
					t.Fatalf("%s event %d refers to person %d of %d", e.Kind, k, r, len(b.Persons))
				}
			}
			if testToday.Before(e.Date) {
				t.Errorf("%s event on %s, after today", e.Kind, e.Date)
			}
			first := b.Persons[ps[0]]
			switch e.Kind {
			case registry.Birth:
				if e.Date != first.BirthDate || first.BirthAct != e.Act || e.Act == "" {
					t.Errorf("birth event %s act %q for %s born %s act %q", e.Date, e.Act, first.CF, first.BirthDate, first.BirthAct)
				}
				for _, r := range rel {
					if par := b.Persons[r]; par.BirthDate.AgeAt(first.BirthDate) < 14 {
						t.Errorf("parent %s born %s of child %s born %s", par.CF, par.BirthDate, first.CF, first.BirthDate)
					}
				}
			case registry.Marriage, registry.CivilUnionFormed, registry.CohabitationPact:
				if len(ps) != 2 {
					t.Errorf("%s with %d persons", e.Kind, len(ps))
				}
				for _, r := range ps {
					if p := b.Persons[r]; p.BirthDate.AgeAt(e.Date) < 16 {
						t.Errorf("%s on %s of %s born %s", e.Kind, e.Date, p.CF, p.BirthDate)
					}
				}
			case registry.Death:
				if e.Date != first.DeathDate {
					t.Errorf("death event %s for %s who died %s", e.Date, first.CF, first.DeathDate)
				}
			default:
				for _, r := range ps {
					if p := b.Persons[r]; e.Date.Before(p.BirthDate) {
						t.Errorf("%s on %s of %s born %s", e.Kind, e.Date, p.CF, p.BirthDate)
					}
				}
			}
		}
	}
	if omocodes == 0 {
		t.Error("no omocodes in 20,000 persons")
	}
	var st Stats
	for _, b := range sample() {
		st.Add(b.Stats)
	}
	if st.Omocodes != omocodes {
		t.Errorf("stats count %d omocodes, the codes hold %d", st.Omocodes, omocodes)
	}
}

func mustOmocode(t *testing.T, code string, n int) string {
	t.Helper()
	if n > 7 {
		return ""
	}
	c, err := codicefiscale.Omocode(code, n)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTables(t *testing.T) {
	d, err := loadTables()
	if err != nil {
		t.Fatal(err)
	}
	city := DefaultCity()
	if city.Code != "F205" || len(city.Streets) < 200 {
		t.Errorf("DefaultCity is %s with %d streets, want F205 with at least 200", city.Code, len(city.Streets))
	}
	seen := map[string]bool{}
	for _, s := range city.Streets {
		if seen[s.Name] {
			t.Errorf("street %q listed twice", s.Name)
		}
		seen[s.Name] = true
		if s.CAP < "20121" || s.CAP > "20162" || len(s.CAP) != 5 {
			t.Errorf("street %q has CAP %q, outside Milan's 20121–20162", s.Name, s.CAP)
		}
	}
	distinct := func(sex int) int {
		set := map[string]bool{}
		for c := range nCohorts {
			for _, n := range d.given[sex][c].items {
				set[n] = true
			}
		}
		return len(set)
	}
	for what, n := range map[string]int{"surnames": d.surnames.len(), "male names": distinct(0), "female names": distinct(1)} {
		if n < 190 {
			t.Errorf("%d %s, want at least 190", n, what)
		}
	}
	for _, want := range []string{"D'Amico", "Viganò", "Visconti di Modrone"} {
		if !contains(d.surnames.items, want) {
			t.Errorf("surnames lack %q", want)
		}
	}
	if !contains(d.given[0][cohortYoung].items, "Nicolò") {
		t.Error("male names lack Nicolò")
	}

	// Every name must encode, and every place must be one the registry can name.
	day := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	enc := func(surname, name string) {
		if _, err := codicefiscale.Encode(codicefiscale.Subject{Surname: surname, Name: name, Sex: 'M', Birth: day, Place: "F205"}); err != nil {
			t.Errorf("%s %s: %v", surname, name, err)
		}
	}
	for _, s := range d.surnames.items {
		enc(s, "Mario")
	}
	for sex := range 2 {
		for c := range nCohorts {
			for _, n := range d.given[sex][c].items {
				enc("Rossi", n)
			}
		}
	}
	pt := places.Default()
	on := testToday.Time()
	check := func(code, what string) {
		if _, ok := pt.Lookup(code, on); !ok {
			t.Errorf("%s %s is not in the default places table", what, code)
		}
	}
	check(city.Code, "city")
	for _, pl := range d.italianPlaces.items {
		check(pl.code, "birthplace "+pl.name)
	}
	for _, s := range d.states.items {
		check(s.code, "state "+s.name)
		for _, list := range [][]string{s.surnames, s.male, s.female} {
			for _, n := range list {
				enc(n, n)
			}
		}
	}
	for _, s := range d.emigration {
		check(s.code, "AIRE state")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDays(t *testing.T) {
	for d := ymd(1890, 1, 1); d < ymd(2110, 1, 1); d += 13 {
		tm := time.Unix(int64(d)*86400, 0).UTC()
		if got, want := d.date(), registry.DateOf(tm); got != want {
			t.Fatalf("day %d is %v, want %v", d, got, want)
		}
		if dayOf(d.date()) != d {
			t.Fatalf("day %d does not round-trip", d)
		}
	}
	for _, c := range []struct{ from, want registry.Date }{
		{registry.Date{Year: 2000, Month: 2, Day: 29}, registry.Date{Year: 2001, Month: 3, Day: 1}},
		{registry.Date{Year: 2000, Month: 1, Day: 31}, registry.Date{Year: 2001, Month: 1, Day: 31}},
	} {
		if got := dayOf(c.from).addYears(1).date(); got != c.want {
			t.Errorf("%s + 1 year = %s, want %s", c.from, got, c.want)
		}
	}
	for _, c := range []struct{ birth, end, want registry.Date }{
		{registry.Date{Year: 1980, Month: 5, Day: 10}, registry.Date{Year: 2030, Month: 3, Day: 1}, registry.Date{Year: 2030, Month: 5, Day: 10}},
		{registry.Date{Year: 1980, Month: 5, Day: 10}, registry.Date{Year: 2030, Month: 6, Day: 1}, registry.Date{Year: 2031, Month: 5, Day: 10}},
		{registry.Date{Year: 1980, Month: 5, Day: 10}, registry.Date{Year: 2030, Month: 5, Day: 10}, registry.Date{Year: 2030, Month: 5, Day: 10}},
		{registry.Date{Year: 1984, Month: 2, Day: 29}, registry.Date{Year: 2030, Month: 1, Day: 1}, registry.Date{Year: 2030, Month: 3, Day: 1}},
	} {
		if got := expiry(dayOf(c.birth), dayOf(c.end)).date(); got != c.want {
			t.Errorf("born %s, validity ending %s: expires %s, want %s", c.birth, c.end, got, c.want)
		}
	}
}

func TestSeedIntoBolt(t *testing.T) {
	cfg := Config{Persons: 3000, Seed: 9, Today: testToday, BatchPersons: 1000}
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := registrybolt.Open(path, registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Seed(context.Background(), s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var want Stats
	bs := collect(t, cfg)
	for _, b := range bs {
		want.Add(b.Stats)
	}
	if st != want {
		t.Errorf("Seed stats %+v, Generate stats %+v", st, want)
	}

	s, err = registrybolt.Open(path, registrybolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(context.Background(), func(r registry.Reader) error {
		if n, err := r.CountPersons(); err != nil || n != cfg.Persons {
			t.Errorf("store holds %d persons (%v), want %d", n, err, cfg.Persons)
		}
		checked := 0
		for _, b := range bs {
			for i := 0; i < len(b.Persons); i += 97 {
				want := b.Persons[i]
				got, err := r.PersonByCF(want.CF)
				if err != nil {
					t.Errorf("PersonByCF(%s): %v", want.CF, err)
					continue
				}
				if got.FullName() != want.FullName() || got.BirthDate != want.BirthDate || len(got.Documents) != len(want.Documents) {
					t.Errorf("PersonByCF(%s) = %s born %s, want %s born %s", want.CF, got.FullName(), got.BirthDate, want.FullName(), want.BirthDate)
				}
				for _, d := range want.Documents {
					if d.NIS == "" {
						continue
					}
					if byNIS, err := r.PersonByNIS(d.NIS); err != nil || byNIS.CF != want.CF {
						t.Errorf("PersonByNIS(%s) = %v, %v; want %s", d.NIS, byNIS, err, want.CF)
					}
				}
				if !got.Alive() {
					continue
				}
				ms, err := r.Members(got.Family)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, m := range ms {
					found = found || m.CF == want.CF
				}
				h := b.Home(i)
				size := 0
				for j := range b.Persons {
					if b.Home(j) == h {
						size++
					}
				}
				if !found || len(ms) != size || (ms[0].Relationship != registry.Head && ms[0].Relationship != registry.ConvivenzaHead) {
					t.Errorf("Members of %s's family: %d persons headed by relationship %d, want %d including them", want.CF, len(ms), ms[0].Relationship, size)
				}
				evs, err := r.EventsOf(got.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.BirthPlace == "F205" && (len(evs) == 0 || !hasKind(evs, registry.Birth)) {
					t.Errorf("%s was born in the city but has no birth event", want.CF)
				}
				checked++
			}
		}
		if checked < 20 {
			t.Errorf("checked only %d persons", checked)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func hasKind(evs []*registry.Event, k registry.EventKind) bool {
	for _, e := range evs {
		if e.Kind == k {
			return true
		}
	}
	return false
}

func TestNoStrayWhitespace(t *testing.T) {
	for _, b := range sample() {
		for _, p := range b.Persons {
			for _, s := range []string{p.Surname, p.GivenNames} {
				if s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
					t.Fatalf("name %q has stray spaces", s)
				}
			}
		}
	}
}
