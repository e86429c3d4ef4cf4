// Package synth generates a deterministic synthetic civil registry: a city's
// residents in families and convivenze, with codici fiscali (omocodia
// included), identity documents, residence histories and civil events.
//
// The shape follows public figures for Milan (ISTAT, Comune di Milano open
// data, as commonly reported): about 45% of households are one person, 28%
// two, 14% three, 10% four and 3% five or more; about a fifth of residents
// were born abroad, Egypt, the Philippines and China first. Names, streets
// and places come from the lists in assets/synth. No record describes a real
// person.
//
// Generation is single-threaded and driven by one PCG stream seeded from
// Config.Seed, so the same Config always yields the same registry. Seed
// overlaps generation with the store writes without affecting the sequence.
package synth

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/registry"
)

// Config says what to generate.
type Config struct {
	// Persons is the number of person records, including the deceased kept
	// for certificates and citizens registered in AIRE.
	Persons int
	Seed    int64
	// Today is the registry's current date: ages, document expiries and
	// event dates are relative to it.
	Today registry.Date
	// City is the comune; the zero value means DefaultCity.
	City City
	// BatchPersons is roughly how many persons each Batch holds (whole
	// households are never split); 0 means 100000. Larger batches mean fewer
	// commits: each commit rewrites most leaf pages of the store's random-keyed
	// codice fiscale and NIS indexes, so bulk loads favour few, large Updates.
	BatchPersons int
}

// Shares of households and persons. They are package constants rather than
// Config fields: tests check the resulting distribution, not the knobs.
const (
	pConvivenza       = 0.0004 // per household: a care home or religious community
	pAIRE             = 0.003  // per household: a family registered abroad (AIRE)
	pForeignHousehold = 0.215  // head born abroad
	pBornInCity       = 0.52   // Italian adult born in the city itself
	pItalianAbroad    = 0.03   // Italian adult born abroad (emigrants' children)
	pClone            = 1.0 / 1100
	pPartlyCert       = 0.005
	ringSize          = 256
)

var (
	cieStart        = ymd(2016, 7, 4)   // CIE 3.0 issued in Milan from July 2016
	unionsLaw       = ymd(2016, 6, 5)   // L. 76/2016 in force: civil unions and cohabitation contracts
	divorceLaw      = ymd(1970, 12, 18) // L. 898/1970
	doubleSurname   = ymd(2022, 6, 1)   // Corte cost. 131/2022: both parents' surnames
	paperCIEnd      = ymd(2026, 8, 3)   // Reg. (UE) 2019/1157 art. 5: paper cards cease to be valid
	earliestArrival = ymd(1985, 1, 1)
)

// Generate produces the registry described by cfg and hands it to emit one
// Batch at a time, in a deterministic order. It stops at emit's first error
// and returns it.
func Generate(cfg Config, emit func(*Batch) error) error {
	// Birth acts are numbered in date order within each year, as the
	// register of births is kept (DPR 396/2000 art. 12-14), but births are
	// drawn household by household. So a first pass draws the whole city
	// and counts the births of each day (the stream is deterministic: the
	// second pass draws the same ones), and the second numbers each birth
	// after all the earlier ones of its year.
	count, err := newGenerator(cfg)
	if err != nil {
		return err
	}
	count.births = make([]int32, actDays(count.today))
	for count.made < cfg.Persons {
		count.household()
		if count.err != nil {
			return count.err
		}
		if len(count.b.Persons) >= count.batchPersons {
			count.b = count.newBatch()
		}
	}
	actBase := count.actBase()
	count = nil

	g, err := newGenerator(cfg)
	if err != nil {
		return err
	}
	g.actNext = actBase
	for g.made < cfg.Persons {
		g.household()
		if g.err != nil {
			return g.err
		}
		if len(g.b.Persons) >= g.batchPersons {
			if err := emit(g.b); err != nil {
				return err
			}
			g.b = g.newBatch()
		}
	}
	if len(g.b.Persons) > 0 {
		return emit(g.b)
	}
	return nil
}

type generator struct {
	cfg          Config
	t            *tables
	r            *rand.Rand
	today        day
	city         City
	cityOnly     []string // citizenship of an Italian: shared, never appended to
	batchPersons int
	b            *Batch
	made         int
	err          error

	// codes counts the persons holding each base codice fiscale (packed),
	// so the next one gets the next omocodia variant.
	codes map[uint64]uint8

	nisSeq, nisAdd uint64
	cieSeq         [26]uint64
	cieAdd         uint64
	passSeq        uint64
	paperSeq       uint64
	acts           [256]int32 // birth act numbers by year-1850

	// births counts the city's births per day since actEpoch (the
	// counting pass); actNext is the next act number for each day (the
	// numbering pass): every earlier birth of the same year comes first.
	births, actNext []int32

	ring  [ringSize]subject
	ringN int

	persons []registry.Person // slabs: one allocation per many records
	res     []registry.Residence
	docs    []registry.Document
	mships  []registry.Membership
	events  []registry.Event
	fams    []registry.Family
}

// subject is what a codice fiscale is computed from, kept for deliberate
// omocodia (a person with the same data as an earlier one).
type subject struct {
	surname, given string
	sex            registry.Sex
	birth          day
	place          string
}

func newGenerator(cfg Config) (*generator, error) {
	if cfg.Persons < 0 {
		return nil, fmt.Errorf("the number of persons to generate is %d; it cannot be negative", cfg.Persons)
	}
	if cfg.Today.IsZero() {
		return nil, errors.New("the synthetic registry needs today's date (Config.Today) to compute ages and expiries")
	}
	if _, err := registry.NewDate(cfg.Today.Year, cfg.Today.Month, cfg.Today.Day); err != nil {
		return nil, fmt.Errorf("Config.Today is not valid: %w", err)
	}
	if cfg.Today.Year < 2020 || cfg.Today.Year > 2100 {
		return nil, fmt.Errorf("Config.Today %s is outside 2020–2100, the years the synthetic population is shaped for", cfg.Today)
	}
	t, err := loadTables()
	if err != nil {
		return nil, err
	}
	if cfg.City.Code == "" {
		cfg.City = DefaultCity()
	}
	if len(cfg.City.Streets) == 0 {
		return nil, fmt.Errorf("city %s has no streets to place residents in", cfg.City.Code)
	}
	for _, s := range cfg.City.Streets {
		if s.CAP == "" && len(cfg.City.CAPs) == 0 {
			return nil, fmt.Errorf("street %q of city %s has no CAP and the city lists none", s.Name, cfg.City.Code)
		}
	}
	seed := uint64(cfg.Seed)
	g := &generator{
		cfg:          cfg,
		t:            t,
		r:            rand.New(rand.NewPCG(seed, 0x5e7705ca11ab1e)),
		today:        dayOf(cfg.Today),
		city:         cfg.City,
		cityOnly:     []string{registry.Italy},
		batchPersons: cfg.BatchPersons,
		codes:        make(map[uint64]uint8, cfg.Persons+cfg.Persons/8),
	}
	if g.batchPersons <= 0 {
		g.batchPersons = 100000
	}
	// Document numbers come from counters through fixed permutations, so they
	// are unique without a set and still look scattered.
	mix := rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, 1))
	g.nisAdd = mix.Uint64N(nisSpace)
	g.cieAdd = mix.Uint64N(cieSpace)
	g.b = g.newBatch()
	return g, nil
}

func (g *generator) newBatch() *Batch {
	n := g.batchPersons + g.batchPersons/8
	return &Batch{
		Families: make([]*registry.Family, 0, n/2),
		Persons:  make([]*registry.Person, 0, n),
		Events:   make([]*registry.Event, 0, n),
		home:     make([]int32, 0, n),
		refs:     make([]int32, 0, 2*n),
		evRefs:   make([]evRef, 0, n),
	}
}

const slab = 1024

func (g *generator) allocPerson() *registry.Person {
	if len(g.persons) == cap(g.persons) {
		g.persons = make([]registry.Person, 0, slab)
	}
	g.persons = g.persons[:len(g.persons)+1]
	return &g.persons[len(g.persons)-1]
}

func (g *generator) allocResidences(n int) []registry.Residence {
	if len(g.res)+n > cap(g.res) {
		g.res = make([]registry.Residence, 0, 2*slab)
	}
	s := len(g.res)
	g.res = g.res[:s+n]
	return g.res[s : s+n : s+n]
}

// member gives p, batch person i, its membership of the batch's family
// home with relationship rel: from the day it took up residence at the
// family's address (for an AIRE family, its last address in the city,
// where the famiglia was registered before it emigrated) until to, zero
// while it lasts. Synthetic families form when they move in or at a birth,
// so no earlier family is invented.
func (g *generator) member(p *registry.Person, i, home int32, rel registry.Relationship, to registry.Date) {
	n := len(p.Residences)
	if n == 0 || home < 0 || !rel.Valid() {
		return
	}
	from := p.Residences[n-1].From
	if p.Residences[n-1].AIREComune != "" {
		from = p.Residences[0].From
	}
	if len(g.mships) == cap(g.mships) {
		g.mships = make([]registry.Membership, 0, slab)
	}
	g.mships = append(g.mships, registry.Membership{Relationship: rel, From: from, To: to})
	p.Memberships = g.mships[len(g.mships)-1 : len(g.mships) : len(g.mships)]
	g.b.mhome[i] = home
}

func (g *generator) allocDocuments(n int) []registry.Document {
	if len(g.docs)+n > cap(g.docs) {
		g.docs = make([]registry.Document, 0, slab)
	}
	s := len(g.docs)
	g.docs = g.docs[:s+n]
	return g.docs[s : s+n : s+n]
}

func (g *generator) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// chance reports true with probability p.
func (g *generator) chance(p float64) bool { return g.r.Float64() < p }

// between returns a day uniformly in [lo, hi]; lo when the range is empty.
func (g *generator) between(lo, hi day) day {
	if hi <= lo {
		return lo
	}
	return lo + day(g.r.Int64N(int64(hi-lo)+1))
}

// bornAged returns a birth day for someone aged between min and max
// completed years today.
func (g *generator) bornAged(min, max int) day {
	lo := g.today.addYears(-max-1) + 1
	hi := g.today.addYears(-min)
	return g.between(lo, hi)
}

func (g *generator) age(birth day) int { return birth.date().AgeAt(g.cfg.Today) }

// newFamily appends a family to the batch and returns its index.
func (g *generator) newFamily(kind registry.FamilyKind, name string) int32 {
	if len(g.fams) == cap(g.fams) {
		g.fams = make([]registry.Family, 0, slab)
	}
	g.fams = append(g.fams, registry.Family{Kind: kind, Name: name})
	g.b.Families = append(g.b.Families, &g.fams[len(g.fams)-1])
	if kind == registry.Convivenza {
		g.b.Stats.Convivenze++
	} else {
		g.b.Stats.Families++
	}
	return int32(len(g.b.Families) - 1)
}

// event appends an event involving batch persons.
func (g *generator) event(kind registry.EventKind, on day, place string, persons []int32, related []int32, act, note string) {
	if len(g.events) == cap(g.events) {
		g.events = make([]registry.Event, 0, slab)
	}
	g.events = append(g.events, registry.Event{Kind: kind, Date: on.date(), Place: place, Act: act, Note: note})
	g.b.Events = append(g.b.Events, &g.events[len(g.events)-1])
	g.b.evRefs = append(g.b.evRefs, evRef{start: int32(len(g.b.refs)), persons: uint16(len(persons)), related: uint16(len(related))})
	g.b.refs = append(g.b.refs, persons...)
	g.b.refs = append(g.b.refs, related...)
	g.b.Stats.Events++
}

// addPerson fills in the codice fiscale and appends p to the batch.
func (g *generator) addPerson(p *registry.Person, home int32, birth day) int32 {
	g.assignCF(p, birth)
	g.b.Persons = append(g.b.Persons, p)
	g.b.home = append(g.b.home, home)
	g.b.mhome = append(g.b.mhome, -1)
	g.made++
	st := &g.b.Stats
	st.Persons++
	if p.BirthPlace[0] == 'Z' {
		st.ForeignBorn++
		g.foreignTown(p)
	}
	if p.AIRE {
		st.AIRE++
	}
	if !p.Alive() {
		st.Deceased++
	}
	if p.Alive() && g.chance(pPartlyCert) {
		p.PartlyCertifiable = true
		st.PartlyCertifiable++
	}
	return int32(len(g.b.Persons) - 1)
}

// pForeignTown is the share of births abroad that the registry records
// with the town as well as the state (the foreign act or its
// transcription names it; older records and some consular ones name the
// state alone).
const pForeignTown = 0.8

// foreignTown records the town of a birth abroad, now and then.
func (g *generator) foreignTown(p *registry.Person) {
	if p.BirthLocality != "" {
		return
	}
	if st := g.t.stateByCode[p.BirthPlace]; st != nil && len(st.towns) > 0 && g.chance(pForeignTown) {
		p.BirthLocality = st.towns[g.r.IntN(len(st.towns))]
	}
}

// assignCF encodes p's codice fiscale and, when another person already holds
// that base code, takes the next omocodia variant as the Agenzia delle
// Entrate would. Omocode only offers eight variants in assignment order; a
// ninth holder (never seen in practice) is moved to the next day.
func (g *generator) assignCF(p *registry.Person, birth day) {
	for {
		code, err := codicefiscale.Encode(codicefiscale.Subject{
			Surname: p.Surname, Name: p.GivenNames, Sex: byte(p.Sex), Birth: birth.time(), Place: p.BirthPlace,
		})
		if err != nil {
			g.fail(fmt.Errorf("synthetic person %s %s cannot be given a codice fiscale: %w", p.Surname, p.GivenNames, err))
			p.CF = "XXXXXX00A01Z000X"
			return
		}
		key := packCF(code)
		n := g.codes[key]
		if n >= 8 {
			birth++
			p.BirthDate = birth.date()
			continue
		}
		g.codes[key] = n + 1
		if n > 0 {
			if code, err = codicefiscale.Omocode(code, int(n)); err != nil {
				g.fail(err)
			}
			g.b.Stats.Omocodes++
		}
		p.CF = code
		return
	}
}

// packCF packs the first 15 characters of a base-form code into 64 bits:
// six letters, two digits, a letter, two digits, a letter, three digits.
// That keeps the set of 1.4 million codes at a few tens of megabytes.
func packCF(code string) uint64 {
	var k uint64
	for i := 0; i < 15; i++ {
		c := code[i]
		switch i {
		case 6, 7, 9, 10, 12, 13, 14:
			k = k*10 + uint64(c-'0')
		default:
			k = k*26 + uint64(c-'A')
		}
	}
	return k
}

// household generates one household and its events.
func (g *generator) household() {
	room := g.cfg.Persons - g.made
	switch u := g.r.Float64(); {
	case u < pConvivenza:
		g.convivenza(room)
	case u < pConvivenza+pAIRE:
		g.family(room, true)
	default:
		g.family(room, false)
	}
}

// householdSize draws from Milan's distribution: 45% one person, 28% two,
// 14% three, 10% four, 3% five or more.
func (g *generator) householdSize() int {
	switch u := g.r.Float64(); {
	case u < 0.45:
		return 1
	case u < 0.73:
		return 2
	case u < 0.87:
		return 3
	case u < 0.97:
		return 4
	case u < 0.9925:
		return 5
	case u < 0.9985:
		return 6
	}
	return 7
}

// origin is where a household comes from.
type origin struct {
	st *state // nil: an Italian household
	// For an AIRE household: when it left the city and where it lives.
	aire       bool
	emigrated  day
	abroad     foreignAddress
	abroadFrom *state
}

// member is a person being placed in a household.
type member struct {
	p       *registry.Person
	i       int32
	birth   day
	arrival day           // foreign-born: the day they came to Italy
	from    *italianPlace // Italian born elsewhere: their comune
	father  *member
	mother  *member
}

func (g *generator) pickName(sex registry.Sex, birth day, o *origin, italianName bool) string {
	if o.st != nil && !italianName {
		list := o.st.male
		if sex == registry.Female {
			list = o.st.female
		}
		return list[g.r.IntN(len(list))]
	}
	s := 0
	if sex == registry.Female {
		s = 1
	}
	tab := &g.t.given[s][cohortOf(birth.date().Year)]
	name := tab.pick(g.r)
	if g.chance(0.04) {
		if second := tab.pick(g.r); second != name {
			name = name + " " + second
		}
	}
	return name
}

func (g *generator) pickSurname(o *origin) string {
	if o.st == nil {
		return g.t.surnames.pick(g.r)
	}
	s := o.st.surnames[g.r.IntN(len(o.st.surnames))]
	if o.st.doubleSurname {
		if t := o.st.surnames[g.r.IntN(len(o.st.surnames))]; t != s {
			s += " " + t
		}
	}
	return s
}

// firstSurname is the part of a Hispanic double surname passed to children.
func firstSurname(s string, st *state) string {
	if st == nil || !st.doubleSurname {
		return s
	}
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}

// adult creates an adult of the household's origin born on birth.
func (g *generator) adult(home int32, rel registry.Relationship, sex registry.Sex, birth day, o *origin) *member {
	p := g.allocPerson()
	m := &member{p: p, birth: birth}
	p.Sex = sex
	p.BirthDate = birth.date()
	p.Relationship = rel
	p.CivilStatus = registry.Single
	p.Surname = g.pickSurname(o)
	p.GivenNames = g.pickName(sex, birth, o, false)
	switch {
	case o.st != nil:
		p.BirthPlace = o.st.code
		m.arrival = g.arrival(birth)
		p.Citizenships = o.st.only
		if g.age(birth) >= 18 && g.today-m.arrival > 10*365 && g.chance(0.35) {
			p.Citizenships = o.st.dual
		}
	default:
		switch u := g.r.Float64(); {
		case u < pBornInCity:
			p.BirthPlace = g.city.Code
		case u < 1-pItalianAbroad:
			pl := g.t.italianPlaces.pick(g.r)
			p.BirthPlace = pl.code
			m.from = &pl
		default:
			st := g.t.emigration[g.r.IntN(len(g.t.emigration))]
			p.BirthPlace = st.code
			p.Citizenships = g.cityOnly
			if g.chance(0.3) {
				p.Citizenships = st.dual
			}
		}
		if p.Citizenships == nil {
			p.Citizenships = g.cityOnly
		}
	}
	if o.aire {
		p.AIRE = true
	}
	return m
}

// arrival is the day a foreign-born adult came to Italy: from 18 years old
// (or as a child with the family) and not before 1985.
func (g *generator) arrival(birth day) day {
	lo := max(birth.addYears(16), earliestArrival)
	if lo > g.today-30 {
		lo = max(birth+1, g.today-30)
	}
	return g.between(lo, g.today-30)
}

// child creates a child of father and/or mother (either may be nil) born on birth.
func (g *generator) child(home int32, rel registry.Relationship, birth day, father, mother *member, o *origin) *member {
	p := g.allocPerson()
	m := &member{p: p, birth: birth, father: father, mother: mother}
	p.Sex = registry.Male
	if g.r.IntN(100) < 49 {
		p.Sex = registry.Female
	}
	p.BirthDate = birth.date()
	p.Relationship = rel
	p.CivilStatus = registry.Single

	switch {
	case father != nil && mother != nil && o.st != nil && o.st.doubleSurname:
		p.Surname = firstSurname(father.p.Surname, o.st) + " " + firstSurname(mother.p.Surname, o.st)
	case father != nil:
		p.Surname = father.p.Surname
		if mother != nil && birth >= doubleSurname && o.st == nil && g.chance(0.1) && mother.p.Surname != father.p.Surname {
			p.Surname = father.p.Surname + " " + mother.p.Surname
		}
	case mother != nil && g.chance(0.3):
		p.Surname = mother.p.Surname
	default: // the father lives elsewhere
		p.Surname = g.pickSurname(o)
	}

	// Where the child was born: abroad before the family came, in the city
	// (mostly) after; for AIRE families, abroad after they left.
	arrived := day(0)
	for _, par := range []*member{father, mother} {
		if par != nil && par.arrival != 0 && (arrived == 0 || par.arrival < arrived) {
			arrived = par.arrival
		}
	}
	switch {
	case o.aire && birth >= o.emigrated:
		p.BirthPlace = o.abroadFrom.code
	case o.st != nil && arrived != 0 && birth < arrived:
		p.BirthPlace = o.st.code
		m.arrival = max(arrived, birth+1)
	case o.st == nil && g.chance(0.12):
		pl := g.t.italianPlaces.pick(g.r)
		p.BirthPlace = pl.code
		m.from = &pl
	default:
		p.BirthPlace = g.city.Code
	}
	p.GivenNames = g.pickName(p.Sex, birth, o, o.st != nil && p.BirthPlace == g.city.Code && g.chance(0.3))

	// Citizenship by descent (L. 91/1992): Italian if a parent is; a child
	// born here to foreign parents may elect Italian citizenship at 18.
	var foreignParent *state
	italian := false
	for _, par := range []*member{father, mother} {
		if par == nil {
			continue
		}
		if par.p.Italian() {
			italian = true
		}
		if c := par.p.Citizenships; len(c) > 0 && c[len(c)-1] != registry.Italy {
			foreignParent = g.t.stateByCode[c[len(c)-1]]
		}
	}
	switch {
	case italian && foreignParent != nil:
		p.Citizenships = foreignParent.dual
	case italian:
		p.Citizenships = g.cityOnly
	case foreignParent != nil && p.BirthPlace == g.city.Code && g.age(birth) >= 18 && g.chance(0.5):
		p.Citizenships = foreignParent.dual
	case foreignParent != nil:
		p.Citizenships = foreignParent.only
	default:
		p.Citizenships = g.cityOnly
	}
	if o.aire {
		p.AIRE = true
	}
	return m
}

// commit adds the members to the batch, registers births in the city and
// keeps adults as candidates for deliberate omocodia.
func (g *generator) commit(home int32, ms []*member) {
	for _, m := range ms {
		m.i = g.addPerson(m.p, home, m.birth)
	}
	for _, m := range ms {
		if m.p.BirthPlace == g.city.Code {
			g.birthEvent(m)
		}
		if g.age(m.birth) >= 18 {
			g.ring[g.ringN%ringSize] = subject{m.p.Surname, m.p.GivenNames, m.p.Sex, m.birth, m.p.BirthPlace}
			g.ringN++
		}
	}
}

// equip issues the members' identity documents, once their residence
// history is known: a card is issued by the comune of residence.
func (g *generator) equip(ms []*member) {
	for _, m := range ms {
		switch {
		case !m.p.AIRE:
			g.documents(m)
		case g.age(m.birth) >= 18 && g.chance(0.7):
			m.p.Documents = g.allocDocuments(1)
			m.p.Documents[0] = g.passport(m)
			g.b.Stats.Documents++
		}
	}
}

// actEpoch is the first day birth acts are numbered from: the oldest
// resident was born after it.
var actEpoch = ymd(1850, 1, 1)

func actDays(today day) int { return int(today-actEpoch) + 1 }

// actBase turns the counted births per day into the first act number of
// each day: one more than the births of the same year on earlier days.
func (g *generator) actBase() []int32 {
	next := make([]int32, len(g.births))
	var n int32
	for k := range g.births {
		d := actEpoch + day(k)
		if dt := d.date(); dt.Month == 1 && dt.Day == 1 {
			n = 0
		}
		next[k] = n + 1
		n += g.births[k]
	}
	return next
}

func (g *generator) birthEvent(m *member) {
	y := m.p.BirthDate.Year
	born := dayOf(m.p.BirthDate) // m.birth, or the day after when omocodia ran out of variants
	n := int32(0)
	k := int(born - actEpoch)
	switch {
	case k < 0 || k >= actDays(g.today):
	case g.births != nil: // counting
		g.births[k]++
	case g.actNext != nil: // numbering, in date order
		n = g.actNext[k]
		g.actNext[k]++
	}
	if n == 0 {
		if k := y - 1850; k >= 0 && k < len(g.acts) {
			g.acts[k]++
			n = g.acts[k]
		}
	}
	// "anno 1985 parte I serie A n. 123" (DPR 396/2000 registers)
	b := make([]byte, 0, 40)
	b = append(b, "anno "...)
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, " parte I serie A n. "...)
	b = strconv.AppendInt(b, int64(n), 10)
	act := string(b)
	m.p.BirthAct = act
	var rel []int32
	if m.father != nil || m.mother != nil {
		rel = make([]int32, 0, 2)
		for _, par := range []*member{m.father, m.mother} {
			if par != nil {
				rel = append(rel, par.i)
			}
		}
	}
	g.event(registry.Birth, born, g.city.Code, []int32{m.i}, rel, act, "")
}
