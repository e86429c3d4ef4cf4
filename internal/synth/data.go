package synth

import (
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/sportello/sportello/assets"
)

// City is the comune whose registry is generated.
type City struct {
	Code    string   // Belfiore code, e.g. F205
	Name    string   // "Milano"
	CAPs    []string // postal codes, used for streets that have none
	Streets []Street
}

// Street is a street of the city and the CAP of the zone it lies in.
type Street struct {
	Name string // DUG and denomination: "Via Padova"
	CAP  string // empty: one of City.CAPs is used
}

// DefaultCity is Milano with the streets in assets/synth/streets_milano.csv.
// It panics if the embedded list is malformed, which the package tests rule out.
func DefaultCity() City {
	d := mustTables()
	c := City{Code: "F205", Name: "Milano", Streets: slices.Clone(d.milanStreets)}
	for cap := 20121; cap <= 20162; cap++ {
		c.CAPs = append(c.CAPs, strconv.Itoa(cap))
	}
	return c
}

// weighted picks items with probability proportional to their weight.
// Cumulative weights are computed once, so a pick is one random number and
// a binary search.
type weighted[T any] struct {
	items []T
	cum   []uint32
}

func (w *weighted[T]) add(item T, weight uint32) {
	if weight == 0 {
		return
	}
	var prev uint32
	if n := len(w.cum); n > 0 {
		prev = w.cum[n-1]
	}
	w.items = append(w.items, item)
	w.cum = append(w.cum, prev+weight)
}

func (w *weighted[T]) pick(r *rand.Rand) T {
	x := r.Uint32N(w.cum[len(w.cum)-1])
	i, _ := slices.BinarySearch(w.cum, x+1)
	return w.items[i]
}

func (w *weighted[T]) len() int { return len(w.items) }

// cohorts of given-name fashion, as columns of the name lists.
const (
	cohortOld   = iota // born before 1960
	cohortMid          // 1960–1989
	cohortYoung        // from 1990
	nCohorts
)

func cohortOf(year int) int {
	switch {
	case year < 1960:
		return cohortOld
	case year < 1990:
		return cohortMid
	}
	return cohortYoung
}

// italianPlace is a comune Milan residents were born in or came from.
type italianPlace struct{ code, name, cap string }

// state is a country foreign-born residents come from, with its names.
type state struct {
	code, name    string
	doubleSurname bool
	surnames      []string
	male, female  []string
	dual          []string // citizenships of a naturalised Italian: Italy and this state
	only          []string // citizenship of a foreign national
	towns         []string // towns a birth there is recorded in (foreign_towns.csv)
}

type convivenza struct {
	religious bool
	sex       byte // for religious communities
	name      string
}

type foreignAddress struct{ state, locality, street, cap string }

// tables are the parsed asset lists. They are read-only once loaded and
// shared by every generator.
type tables struct {
	surnames       weighted[string]
	given          [2][nCohorts]weighted[string] // [0] male, [1] female
	milanStreets   []Street
	italianPlaces  weighted[italianPlace]
	genericStreets []string
	states         weighted[*state]
	stateByCode    map[string]*state
	convivenze     []convivenza
	aireAddresses  []foreignAddress
	// emigration are the states of aireAddresses: where AIRE families live
	// and where Italians born abroad were born.
	emigration []*state
}

var (
	tablesOnce sync.Once
	tablesVal  *tables
	tablesErr  error
)

func loadTables() (*tables, error) {
	tablesOnce.Do(func() {
		sub, err := fs.Sub(assets.FS, "synth")
		if err != nil {
			tablesErr = err
			return
		}
		tablesVal, tablesErr = parseTables(sub)
	})
	return tablesVal, tablesErr
}

func mustTables() *tables {
	t, err := loadTables()
	if err != nil {
		panic(err)
	}
	return t
}

// readCSV returns the records of a list after checking its header.
func readCSV(fsys fs.FS, name string, header ...string) ([][]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("synthetic population list %s is missing: %w", name, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(header)
	var out [][]string
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("synthetic population list %s is malformed: %w", name, err)
		}
		if line == 1 {
			if !slices.Equal(rec, header) {
				return nil, fmt.Errorf("synthetic population list %s has header %q, want %q", name, rec, header)
			}
			continue
		}
		for i, v := range rec {
			if strings.TrimSpace(v) == "" && !(name == "convivenze.csv" && i == 1) {
				return nil, fmt.Errorf("synthetic population list %s line %d has an empty %s", name, line, header[i])
			}
		}
		out = append(out, rec)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("synthetic population list %s has no rows", name)
	}
	return out, nil
}

func weight(name string, v string) (uint32, error) {
	w, err := strconv.ParseUint(v, 10, 32)
	if err != nil || w > 1<<20 {
		return 0, fmt.Errorf("synthetic population list %s has weight %q, want an integer from 0 to %d", name, v, 1<<20)
	}
	return uint32(w), nil
}

func parseTables(fsys fs.FS) (*tables, error) {
	t := &tables{stateByCode: map[string]*state{}}

	recs, err := readCSV(fsys, "surnames.csv", "surname", "weight")
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		w, err := weight("surnames.csv", r[1])
		if err != nil {
			return nil, err
		}
		t.surnames.add(r[0], w)
	}

	for sex, name := range []string{"male_names.csv", "female_names.csv"} {
		recs, err := readCSV(fsys, name, "name", "before_1960", "1960_1989", "from_1990")
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			for c := range nCohorts {
				w, err := weight(name, r[1+c])
				if err != nil {
					return nil, err
				}
				t.given[sex][c].add(r[0], w)
			}
		}
		for c := range nCohorts {
			if t.given[sex][c].len() == 0 {
				return nil, fmt.Errorf("synthetic population list %s has no name with a weight in column %d", name, c+2)
			}
		}
	}

	if recs, err = readCSV(fsys, "streets_milano.csv", "street", "cap"); err != nil {
		return nil, err
	}
	for _, r := range recs {
		t.milanStreets = append(t.milanStreets, Street{Name: r[0], CAP: r[1]})
	}

	if recs, err = readCSV(fsys, "italian_places.csv", "code", "name", "cap", "weight"); err != nil {
		return nil, err
	}
	for _, r := range recs {
		w, err := weight("italian_places.csv", r[3])
		if err != nil {
			return nil, err
		}
		t.italianPlaces.add(italianPlace{code: r[0], name: r[1], cap: r[2]}, w)
	}

	if recs, err = readCSV(fsys, "generic_streets.csv", "street"); err != nil {
		return nil, err
	}
	for _, r := range recs {
		t.genericStreets = append(t.genericStreets, r[0])
	}

	if recs, err = readCSV(fsys, "foreign_states.csv", "code", "name", "weight", "double_surname"); err != nil {
		return nil, err
	}
	var states []*state
	for _, r := range recs {
		w, err := weight("foreign_states.csv", r[2])
		if err != nil {
			return nil, err
		}
		s := &state{code: r[0], name: r[1], doubleSurname: r[3] == "1",
			dual: []string{"Z000", r[0]}, only: []string{r[0]}}
		t.states.add(s, w)
		t.stateByCode[s.code] = s
		states = append(states, s)
	}
	if recs, err = readCSV(fsys, "foreign_names.csv", "state", "kind", "name"); err != nil {
		return nil, err
	}
	for _, r := range recs {
		s := t.stateByCode[r[0]]
		if s == nil {
			return nil, fmt.Errorf("foreign_names.csv names state %s, which foreign_states.csv does not list", r[0])
		}
		switch r[1] {
		case "S":
			s.surnames = append(s.surnames, r[2])
		case "M":
			s.male = append(s.male, r[2])
		case "F":
			s.female = append(s.female, r[2])
		default:
			return nil, fmt.Errorf("foreign_names.csv has kind %q, want S, M or F", r[1])
		}
	}
	for _, s := range states {
		if len(s.surnames) == 0 || len(s.male) == 0 || len(s.female) == 0 {
			return nil, fmt.Errorf("foreign_names.csv lacks surnames, male or female names for %s (%s)", s.code, s.name)
		}
	}

	if recs, err = readCSV(fsys, "convivenze.csv", "kind", "sex", "name"); err != nil {
		return nil, err
	}
	for _, r := range recs {
		c := convivenza{religious: r[0] == "religious", name: r[2]}
		if c.religious {
			if r[1] != "M" && r[1] != "F" {
				return nil, fmt.Errorf("convivenze.csv: religious community %q needs sex M or F", r[2])
			}
			c.sex = r[1][0]
		} else if r[0] != "care" {
			return nil, fmt.Errorf("convivenze.csv has kind %q, want care or religious", r[0])
		}
		t.convivenze = append(t.convivenze, c)
	}

	if recs, err = readCSV(fsys, "aire_addresses.csv", "state", "locality", "street", "cap"); err != nil {
		return nil, err
	}
	for _, r := range recs {
		t.aireAddresses = append(t.aireAddresses, foreignAddress{r[0], r[1], r[2], r[3]})
		s := t.stateByCode[r[0]]
		if s == nil {
			s = &state{code: r[0], dual: []string{"Z000", r[0]}, only: []string{r[0]}}
			t.stateByCode[r[0]] = s
		}
		if !slices.Contains(t.emigration, s) {
			t.emigration = append(t.emigration, s)
		}
	}

	if recs, err = readCSV(fsys, "foreign_towns.csv", "state", "town"); err != nil {
		return nil, err
	}
	for _, r := range recs {
		s := t.stateByCode[r[0]]
		if s == nil {
			return nil, fmt.Errorf("foreign_towns.csv names state %s, which neither foreign_states.csv nor aire_addresses.csv lists", r[0])
		}
		s.towns = append(s.towns, r[1])
	}
	return t, nil
}

// Street is the city's street list as a look-up: the CAP of the street
// named name (case and spacing aside), the city's first CAP for a street
// that has none, and false for a street the city has not. The requests'
// desk checks a new address against it.
func (c City) Street(name string) (string, bool) {
	name = strings.Join(strings.Fields(name), " ")
	for _, s := range c.Streets {
		if strings.EqualFold(s.Name, name) {
			if s.CAP == "" && len(c.CAPs) > 0 {
				return c.CAPs[0], true
			}
			return s.CAP, true
		}
	}
	return "", false
}
