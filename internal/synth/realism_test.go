package synth

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/sportello/sportello/internal/registry"
)

// Issue 14 item 9: the synthetic city must read like a real registry to
// someone who knows one. Each test below checks one realism rule over the
// shared 20,000-person sample, with bounds a careless generator fails.

// eventsOf calls f with every event of kind k and its persons.
func eventsOf(bs []*Batch, k registry.EventKind, f func(e *registry.Event, ps []*registry.Person)) {
	for _, b := range bs {
		for i, e := range b.Events {
			if e.Kind != k {
				continue
			}
			refs, _ := b.EventRefs(i)
			ps := make([]*registry.Person, len(refs))
			for j, r := range refs {
				ps[j] = b.Persons[r]
			}
			f(e, ps)
		}
	}
}

// TestMarriageAges: people marry mostly in their twenties and early
// thirties (ISTAT, matrimoni in Italia: brides' mean age at first marriage
// from about 24 in the 1970s to 33 in 2022), late marriages are rare, and
// an old couple married long ago: no couple of seventy married in the last
// few years as a rule.
func TestMarriageAges(t *testing.T) {
	today := testToday
	var all, late, recent, recentOld int
	var brides []int
	eventsOf(sample(), registry.Marriage, func(e *registry.Event, ps []*registry.Person) {
		if len(ps) != 2 {
			t.Fatalf("marriage of %d persons", len(ps))
		}
		a, b := ps[0].BirthDate.AgeAt(e.Date), ps[1].BirthDate.AgeAt(e.Date)
		all++
		if min(a, b) >= 60 {
			late++
		}
		if today.Year-e.Date.Year <= 5 {
			recent++
			if max(a, b) >= 65 {
				recentOld++
			}
		}
		for _, p := range ps {
			if p.Sex == registry.Female {
				brides = append(brides, p.BirthDate.AgeAt(e.Date))
			}
		}
	})
	if all < 1000 {
		t.Fatalf("only %d marriages in the sample", all)
	}
	sort.Ints(brides)
	within(t, "median age of brides at marriage", float64(brides[len(brides)/2]), 24, 34)
	within(t, "share of marriages where both spouses were 60 or more", float64(late)/float64(all), 0, 0.01)
	within(t, "share of marriages in the last five years", float64(recent)/float64(all), 0.03, 0.2)
	within(t, "share of the last five years' marriages with a spouse of 65 or more", float64(recentOld)/float64(max(recent, 1)), 0, 0.02)
}

// TestSpouseArrivedBeforeCityMarriage: a marriage celebrated in the city
// has its spouses born abroad already living here, as the registry shows
// them (their first residence begins no later than the wedding); a couple
// that married before coming married abroad, and its act was transcribed.
func TestSpouseArrivedBeforeCityMarriage(t *testing.T) {
	city := DefaultCity().Code
	var checked, bad int
	eventsOf(sample(), registry.Marriage, func(e *registry.Event, ps []*registry.Person) {
		if e.Place != city {
			return
		}
		for _, p := range ps {
			if p.BirthPlace[0] != 'Z' {
				continue
			}
			checked++
			if len(p.Residences) == 0 || e.Date.Before(p.Residences[0].From) {
				bad++
				if bad <= 5 {
					t.Errorf("%s, born in %s, married in the city on %s but lives in Italy only from %v", p.CF, p.BirthPlace, e.Date, p.Residences)
				}
			}
		}
	})
	if checked < 50 {
		t.Fatalf("only %d foreign-born spouses married in the city: the sample does not exercise the rule", checked)
	}
	if bad > 0 {
		t.Errorf("%d of %d foreign-born spouses married in the city before living in Italy", bad, checked)
	}
}

var actNumber = regexp.MustCompile(`^anno (\d{4}) parte I serie A n\. (\d+)$`)

// TestBirthActsInDateOrder: in the city's register of births each year's
// acts are numbered from 1 in the order the births were declared (DPR
// 396/2000 art. 12-14): a later birth never has a smaller number, and no
// number is used twice or skipped among the births the registry holds.
func TestBirthActsInDateOrder(t *testing.T) {
	type act struct {
		on registry.Date
		n  int
	}
	byYear := map[int][]act{}
	eventsOf(sample(), registry.Birth, func(e *registry.Event, ps []*registry.Person) {
		m := actNumber.FindStringSubmatch(e.Act)
		if m == nil {
			t.Fatalf("birth act %q is not in the register's form", e.Act)
		}
		if ps[0].BirthAct != e.Act || ps[0].BirthDate != e.Date {
			t.Errorf("%s: birth act %q on %s, the event says %q on %s", ps[0].CF, ps[0].BirthAct, ps[0].BirthDate, e.Act, e.Date)
		}
		y, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if y != e.Date.Year {
			t.Errorf("a birth of %s is in the register of %d", e.Date, y)
		}
		byYear[y] = append(byYear[y], act{e.Date, n})
	})
	if len(byYear) < 50 {
		t.Fatalf("births in only %d years", len(byYear))
	}
	var outOfOrder, total int
	for y, acts := range byYear {
		sort.Slice(acts, func(i, j int) bool {
			if acts[i].on != acts[j].on {
				return acts[i].on.Before(acts[j].on)
			}
			return acts[i].n < acts[j].n
		})
		for i := range acts {
			total++
			if acts[i].n != i+1 {
				outOfOrder++
				if outOfOrder <= 5 {
					t.Errorf("%d: the birth of %s has act n. %d, but it is birth %d of the year in date order", y, acts[i].on, acts[i].n, i+1)
				}
			}
		}
	}
	if outOfOrder > 0 {
		t.Errorf("%d of %d birth acts are out of date order or not numbered 1, 2, 3…", outOfOrder, total)
	}
}

// TestAgeAtDeath: the deaths the registry records happen at the ages people
// die at. The registry keeps the deceased it needs, the late spouses of its
// widowed residents, so the benchmark is Italy's life table (ISTAT, tavole
// di mortalità: about 2.5% of people die before 50, 18% before 75, half
// after 84) read for people whose spouse is still alive: mostly in their
// sixties and seventies, few before 50. A generator drawing the day of
// death evenly over the marriage puts a third of them before 50.
func TestAgeAtDeath(t *testing.T) {
	var ages, oldAges []int
	eventsOf(sample(), registry.Death, func(e *registry.Event, ps []*registry.Person) {
		a := ps[0].BirthDate.AgeAt(e.Date)
		ages = append(ages, a)
		if ps[0].BirthDate.AgeAt(testToday) >= 75 {
			oldAges = append(oldAges, a)
		}
	})
	if len(ages) < 200 || len(oldAges) < 100 {
		t.Fatalf("only %d deaths in the sample, %d of persons who would be 75 or more", len(ages), len(oldAges))
	}
	sort.Ints(ages)
	sort.Ints(oldAges)
	under50, _ := slices.BinarySearch(ages, 50)
	oldUnder50, _ := slices.BinarySearch(oldAges, 50)
	within(t, "median age at death", float64(ages[len(ages)/2]), 62, 90)
	within(t, "share of deaths before 50", float64(under50)/float64(len(ages)), 0, 0.15)
	within(t, "median age at death of those who would be 75 or more", float64(oldAges[len(oldAges)/2]), 68, 95)
	within(t, "share of deaths before 50 among those who would be 75 or more", float64(oldUnder50)/float64(len(oldAges)), 0, 0.08)
}

// TestAIREAfterComingOfAge: someone registered in AIRE after living in the
// city left as an adult at an age people emigrate at, not on their
// eighteenth birthday; a minor left with an adult of the family on the same
// day (AIRE registration follows the move abroad: L. 470/1988 art. 6).
func TestAIREAfterComingOfAge(t *testing.T) {
	bs := collect(t, Config{Persons: 60000, Seed: 3, Today: testToday})
	var adults, onBirthday, minors, alone int
	var ages []int
	for _, b := range bs {
		left := map[int]map[registry.Date]bool{} // family → days an adult left
		type minor struct {
			home int
			on   registry.Date
		}
		var young []minor
		for i, p := range b.Persons {
			if !p.AIRE || len(p.Residences) < 2 {
				continue
			}
			abroad := p.Residences[len(p.Residences)-1]
			if abroad.AIREComune == "" {
				t.Errorf("%s is in AIRE with no AIRE period", p.CF)
				continue
			}
			age := p.BirthDate.AgeAt(abroad.From)
			if age < 18 {
				minors++
				young = append(young, minor{b.Home(i), abroad.From})
				continue
			}
			adults++
			ages = append(ages, age)
			if left[b.Home(i)] == nil {
				left[b.Home(i)] = map[registry.Date]bool{}
			}
			left[b.Home(i)][abroad.From] = true
			eighteen := dayOf(registry.Date{Year: p.BirthDate.Year + 18, Month: p.BirthDate.Month, Day: p.BirthDate.Day})
			if dayOf(abroad.From)-eighteen < 90 {
				onBirthday++
			}
		}
		for _, m := range young {
			if !left[m.home][m.on] {
				alone++
			}
		}
	}
	if adults < 40 {
		t.Fatalf("only %d adults emigrated to AIRE", adults)
	}
	sort.Ints(ages)
	within(t, "share of adult emigrants leaving within 90 days of turning 18", float64(onBirthday)/float64(adults), 0, 0.03)
	within(t, "median age at emigration", float64(ages[len(ages)/2]), 22, 50)
	if alone > 0 {
		t.Errorf("%d of %d minors emigrated with no adult of their family", alone, minors)
	}
}

// TestForeignBirthTowns: most births abroad are recorded with the town as
// well as the state, a town of that state (foreign_towns.csv), so that
// certificates can print "nata a IL CAIRO (EGITTO)"; births in Italy have
// none.
func TestForeignBirthTowns(t *testing.T) {
	tab := mustTables()
	var abroad, withTown int
	for _, b := range sample() {
		for _, p := range b.Persons {
			if p.BirthPlace[0] != 'Z' {
				if p.BirthLocality != "" {
					t.Errorf("%s, born in Italy (%s), has a foreign town %q", p.CF, p.BirthPlace, p.BirthLocality)
				}
				continue
			}
			abroad++
			if p.BirthLocality == "" {
				continue
			}
			withTown++
			if st := tab.stateByCode[p.BirthPlace]; st == nil || !slices.Contains(st.towns, p.BirthLocality) {
				t.Errorf("%s, born in %s, has town %q, not one of that state", p.CF, p.BirthPlace, p.BirthLocality)
			}
		}
	}
	within(t, "share of births abroad recorded with the town", float64(withTown)/float64(abroad), 0.7, 0.9)
}

// TestCohabitationContractsAuthenticated: every contratto di convivenza
// names the notaio or avvocato who authenticated it, a day or up to ten
// before the comune registered it (L. 76/2016 art. 1 c. 51-52).
func TestCohabitationContractsAuthenticated(t *testing.T) {
	var n, notaries int
	eventsOf(sample(), registry.CohabitationPact, func(e *registry.Event, ps []*registry.Person) {
		n++
		a := e.Authentication
		switch {
		case a == nil:
			t.Errorf("the contratto di convivenza of %s registered on %s names no professional", ps[0].CF, e.Date)
			return
		case a.Professional != registry.Notary && a.Professional != registry.Lawyer:
			t.Errorf("contratto authenticated by %q", a.Professional)
		case a.Name == "" || a.Date.IsZero():
			t.Errorf("contratto authenticated with no name or date: %+v", a)
		}
		if gap := dayOf(e.Date) - dayOf(a.Date); gap < 1 || gap > 10 {
			t.Errorf("contratto authenticated on %s and registered on %s", a.Date, e.Date)
		}
		if a.Professional == registry.Notary {
			notaries++
		}
	})
	if n < 20 || notaries == 0 || notaries == n {
		t.Errorf("%d contratti di convivenza, %d by a notaio: want some of each professional", n, notaries)
	}
}
