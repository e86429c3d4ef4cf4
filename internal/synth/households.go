package synth

import (
	"math"
	"strconv"

	"github.com/sportello/sportello/internal/registry"
)

// household holds what one household's generation produces before it is
// committed: members in the family, deceased relatives outside it, and
// events, which need batch positions and so run after commit.
type household struct {
	home   int32
	o      *origin
	ms     []*member
	dead   []*member
	latest day // the household moved in no later than this (a deceased partner lived there)
	later  []func()
}

func (g *generator) family(room int, aire bool) {
	o := &origin{}
	size := g.householdSize()
	if aire {
		a := g.t.aireAddresses[g.r.IntN(len(g.t.aireAddresses))]
		o.aire, o.abroad, o.abroadFrom = true, a, g.t.stateByCode[a.state]
		o.emigrated = g.between(g.today.addYears(-25), g.today-60)
		size = 1 + g.r.IntN(3)
	} else if g.chance(pForeignHousehold) {
		o.st = g.t.states.pick(g.r)
	}
	size = min(size, room)
	h := &household{home: g.newFamily(registry.Famiglia, ""), o: o, latest: g.today - 1}
	spare := room - size // room for a deceased spouse record

	switch u := g.r.Float64(); size {
	case 1:
		g.alone(h, spare)
	case 2:
		switch {
		case u < 0.68:
			g.couple(h, 0, false)
		case u < 0.93:
			g.singleParent(h, 1, spare)
		default:
			g.withParent(h)
		}
	case 3:
		switch {
		case u < 0.78:
			g.couple(h, 1, false)
		case u < 0.93:
			g.singleParent(h, 2, spare)
		default:
			g.couple(h, 0, true)
		}
	case 4:
		switch {
		case u < 0.82:
			g.couple(h, 2, false)
		case u < 0.92:
			g.couple(h, 1, true)
		default:
			g.singleParent(h, 3, spare)
		}
	default:
		if u < 0.7 {
			g.couple(h, size-2, false)
		} else {
			g.couple(h, size-3, true)
		}
	}
	for _, d := range h.dead { // first: the children's birth events name them
		d.i = g.addPerson(d.p, -1, d.birth)
	}
	g.commit(h.home, h.ms)
	addr := g.cityAddress()
	var since day
	if aire {
		g.settleAIRE(h, addr)
		// The famiglia lived at addr from up to 15 years before it
		// emigrated (settleAIRE); a partner who died is placed there too.
		since = h.o.emigrated.addYears(-15)
	} else {
		since = g.settle(h.ms, addr, h.latest)
	}
	g.equip(h.ms)
	for _, m := range h.ms {
		g.member(m.p, m.i, h.home, m.p.Relationship, registry.Date{})
	}
	for _, d := range h.dead {
		r := g.allocResidences(1)
		// Never after the death: a partner who died before the household
		// settled at addr lived there from the day of death at the latest,
		// so the residence and its membership are never inverted.
		died := dayOf(d.p.DeathDate)
		r[0] = registry.Residence{Address: addr, From: min(max(since, d.birth), died).date(), To: died.date()}
		d.p.Residences = r
		// The late spouse lived in this famiglia until the death (the
		// household moved in no later than it: h.latest), so the
		// survivors may have the death certificate at a counter.
		g.member(d.p, d.i, h.home, deceasedRelationship(h, d), d.p.DeathDate)
	}
	for _, f := range h.later {
		f()
	}
}

// ageBand draws the age of someone living alone: young workers, middle
// age, and many elderly (mostly widows).
func (g *generator) aloneAge() int {
	switch u := g.r.Float64(); {
	case u < 0.35:
		return 22 + g.r.IntN(23)
	case u < 0.63:
		return 45 + g.r.IntN(20)
	}
	return 65 + int(33*min(g.r.Float64(), g.r.Float64()))
}

func (g *generator) alone(h *household, spare int) {
	age := g.aloneAge()
	sex := registry.Male
	if (age >= 65 && g.chance(0.68)) || (age < 65 && g.chance(0.48)) {
		sex = registry.Female
	}
	birth := g.bornAged(age, age)
	if h.o.aire {
		birth = g.bornAged(max(age, 20), max(age, 20))
	}
	m := g.adult(h.home, registry.Head, sex, birth, h.o)
	// Now and then someone with the same name, sex, birth date and place as
	// an earlier resident: the case omocodia exists for.
	if h.o.st == nil && !h.o.aire && g.ringN > 0 && g.chance(pClone) {
		s := g.ring[g.r.IntN(min(g.ringN, ringSize))]
		m.p.Surname, m.p.GivenNames, m.p.Sex, m.birth, m.p.BirthPlace = s.surname, s.given, s.sex, s.birth, s.place
		m.p.BirthDate = s.birth.date()
		m.p.BirthLocality = ""
		m.from, m.arrival = nil, 0
		if s.place[0] == 'Z' {
			m.p.Citizenships = g.cityOnly
		}
		if s.place != g.city.Code && s.place[0] != 'Z' {
			m.from = g.placeByCode(s.place)
		}
		age = g.age(m.birth)
	}
	if h.o.aire {
		g.fixEmigration(h.o, m)
	}
	h.ms = append(h.ms, m)

	var status registry.CivilStatus
	u := g.r.Float64()
	switch {
	case age < 45:
		status = pickStatus(u, 0.85, 0.07, 0.05, 0.01)
	case age < 65:
		status = pickStatus(u, 0.48, 0.32, 0.12, 0.05) // widowhood before 65 is rare (ISTAT)
	default:
		status = pickStatus(u, 0.18, 0.14, 0.10, 0.58)
	}
	if status == registry.Single && age >= 30 && g.chance(0.01) {
		status = registry.FreeAfterUnionDissolved
	}
	m.p.CivilStatus = status
	switch status {
	case registry.Divorced:
		g.divorce(h, m)
	case registry.FreeAfterUnionDissolved:
		on := g.between(max(unionsLaw, m.birth.addYears(25)), g.today-30)
		h.later = append(h.later, func() {
			g.event(registry.UnionDissolved, on, g.city.Code, []int32{m.i}, nil, "", "scioglimento dell'unione civile")
		})
	case registry.Widowed:
		// Most widows are old, and so were their spouses when they died:
		// their deaths are the registry's usual ones.
		if spare > 0 && ((age >= 65 && g.chance(0.5)) || (age >= 40 && g.chance(0.3))) {
			g.deceasedSpouse(h, m)
		}
	}
}

// pickStatus maps u in [0,1) to single, divorced, married (separated, living
// apart) or widowed with the given shares.
func pickStatus(u, single, divorced, married, widowed float64) registry.CivilStatus {
	switch {
	case u < single:
		return registry.Single
	case u < single+divorced:
		return registry.Divorced
	case u < single+divorced+married:
		return registry.Married
	}
	return registry.Widowed
}

func (g *generator) placeByCode(code string) *italianPlace {
	for _, pl := range g.t.italianPlaces.items {
		if pl.code == code {
			return &pl
		}
	}
	return nil
}

func (g *generator) divorce(h *household, m *member) {
	lo := max(divorceLaw, m.birth.addYears(27))
	if lo > g.today-30 {
		lo = max(divorceLaw, m.birth.addYears(19))
	}
	on := g.between(lo, g.today-30)
	h.later = append(h.later, func() {
		g.event(registry.Divorce, on, g.city.Code, []int32{m.i}, nil, "", "cessazione degli effetti civili del matrimonio")
	})
}

// deceasedSpouse records the late husband or wife of a widowed member, with
// the marriage and the death: certificates of death and of stato civile
// need them.
func (g *generator) deceasedSpouse(h *household, w *member) *member {
	sex := registry.Female
	shift := -g.r.IntN(4*365) + 365 // the wife is usually younger
	if w.p.Sex == registry.Female {
		sex = registry.Male
		shift = g.r.IntN(6*365) - 365
	}
	birth := w.birth + day(shift)
	if birth >= g.today.addYears(-20) {
		birth = w.birth
	}
	o := &origin{st: nil}
	if w.p.BirthPlace[0] == 'Z' && h.o.st != nil {
		o.st = h.o.st
	}
	d := g.adult(-1, 0, sex, birth, o)
	d.p.Relationship = 0
	d.p.CivilStatus = registry.Married
	d.p.AIRE = false
	young := max(w.birth, birth)
	married := g.between(young.addYears(20), min(young.addYears(38), g.today-3*365))
	died := g.deathDay(birth, married+365, g.today-7)
	d.p.DeathDate = died.date()
	d.p.DeathPlace = g.city.Code
	w.p.CivilStatus = registry.Widowed
	h.dead = append(h.dead, d)
	h.latest = min(h.latest, died)
	h.later = append(h.later, func() {
		place := g.marriagePlace(married, w, d)
		g.event(registry.Marriage, married, place, []int32{w.i, d.i}, nil, "", "")
		g.event(registry.Death, died, g.city.Code, []int32{d.i}, nil, "", "")
	})
	return d
}

// deceasedRelationship is the late spouse's relationship to the head of
// the famiglia they died in: the widowed member's spouse, so the head's
// spouse, or the head's parent when the widowed member is a parent of the
// head.
func deceasedRelationship(h *household, d *member) registry.Relationship {
	for _, m := range h.ms {
		if m.p.CivilStatus != registry.Widowed {
			continue
		}
		switch m.p.Relationship {
		case registry.Head:
			return registry.Spouse
		case registry.Parent:
			return registry.Parent
		}
	}
	return registry.OtherRelative
}

// partnerOrigin: most foreign residents live with a partner from their own
// country; a few couples are mixed.
func (g *generator) partnerOrigin(o *origin) *origin {
	switch {
	case o.aire:
		return o
	case o.st != nil && g.chance(0.12):
		return &origin{}
	case o.st == nil && g.chance(0.06):
		return &origin{st: g.t.states.pick(g.r)}
	}
	return o
}

// couple creates a couple, kids children and, with parent, a parent of the head.
func (g *generator) couple(h *household, kids int, parent bool) {
	o := h.o
	sameSex := kids == 0 && g.chance(0.03)

	var motherAge int
	var firstAt int // mother's age at the first child's birth
	var headAge int
	switch {
	case kids > 0:
		motherAge = 24 + g.r.IntN(37)
		firstAt = max(20, motherAge-32) + g.r.IntN(max(1, min(42, motherAge)-max(20, motherAge-32)+1))
		firstAt = min(firstAt, motherAge)
	case parent:
		headAge = 35 + g.r.IntN(31)
	default:
		switch u := g.r.Float64(); {
		case u < 0.4:
			headAge = 24 + g.r.IntN(21)
		case u < 0.6:
			headAge = 45 + g.r.IntN(20)
		default:
			headAge = 65 + int(28*min(g.r.Float64(), g.r.Float64()))
		}
	}

	var man, woman, head, partner *member
	po := g.partnerOrigin(o)
	if sameSex {
		sex := registry.Male
		if g.chance(0.5) {
			sex = registry.Female
		}
		head = g.adult(h.home, registry.Head, sex, g.bornAged(headAge, headAge), o)
		pb := head.birth + day(g.r.IntN(16*365)-8*365)
		pb = min(pb, g.today.addYears(-19))
		partner = g.adult(h.home, registry.Cohabitant, sex, pb, po)
	} else {
		var wb day
		if kids > 0 {
			wb = g.bornAged(motherAge, motherAge)
		} else {
			wb = g.bornAged(headAge, headAge)
		}
		diff := day(g.r.IntN(5*365) + g.r.IntN(5*365) - 3*365) // man older by ~2 years, from -3 to +7
		mb := min(wb-diff, g.today.addYears(-19))
		if g.chance(0.75) {
			man = g.adult(h.home, registry.Head, registry.Male, mb, o)
			woman = g.adult(h.home, registry.Cohabitant, registry.Female, wb, po)
			head, partner = man, woman
		} else {
			woman = g.adult(h.home, registry.Head, registry.Female, wb, o)
			man = g.adult(h.home, registry.Cohabitant, registry.Male, mb, po)
			head, partner = woman, man
		}
	}
	h.ms = append(h.ms, head, partner)
	if o.aire {
		g.fixEmigration(o, head, partner)
	}

	young := max(head.birth, partner.birth)
	lo := young.addYears(18)
	hi := g.today - 30
	firstChild := day(0)
	if kids > 0 {
		firstChild = min(woman.birth.addYears(firstAt)+day(g.r.IntN(365)), g.today-1)
		hi = min(hi, firstChild)
	}
	switch u := g.r.Float64(); {
	case sameSex && u < 0.7:
		partner.p.Relationship = registry.CivilPartner
		head.p.CivilStatus, partner.p.CivilStatus = registry.CivilUnion, registry.CivilUnion
		on := g.between(max(lo, unionsLaw), g.today-30)
		h.later = append(h.later, func() {
			g.event(registry.CivilUnionFormed, on, g.city.Code, []int32{head.i, partner.i}, nil, "", "")
		})
	case !sameSex && u < 0.70:
		partner.p.Relationship = registry.Spouse
		head.p.CivilStatus, partner.p.CivilStatus = registry.Married, registry.Married
		on := g.weddingDay(woman.birth, lo, hi, kids > 0)
		h.later = append(h.later, func() {
			place := g.marriagePlace(on, head, partner)
			g.event(registry.Marriage, on, place, []int32{head.i, partner.i}, nil, "", "")
		})
	default: // unmarried partners living together
		for _, m := range []*member{head, partner} {
			if g.age(m.birth) >= 35 && g.chance(0.25) {
				m.p.CivilStatus = registry.Divorced
				g.divorce(h, m)
			}
		}
		if g.chance(0.15) && g.today-30 > max(lo, unionsLaw) {
			on := g.between(max(lo, unionsLaw), g.today-30)
			h.later = append(h.later, func() {
				g.event(registry.CohabitationPact, on, g.city.Code, []int32{head.i, partner.i}, nil, "",
					"contratto di convivenza registrato (L. 76/2016, art. 1 c. 50)")
				g.events[len(g.events)-1].Authentication = g.authentication(on)
			})
		}
	}

	if kids > 0 {
		g.children(h, kids, firstChild, man, woman)
	}
	if parent {
		g.elderParent(h, head)
	}
}

// children adds kids children, the first born on first, then every one to
// six years (twins now and then), all before today.
func (g *generator) children(h *household, kids int, first day, father, mother *member) {
	b := first
	for k := 0; k < kids; k++ {
		if k > 0 {
			switch {
			case g.chance(0.015):
				// twins: same day
			default:
				next := b + day(365+g.r.IntN(5*365))
				if next >= g.today {
					next = g.between(b+1, g.today-1)
				}
				b = next
			}
		}
		h.ms = append(h.ms, g.child(h.home, registry.Child, min(b, g.today-1), father, mother, h.o))
	}
}

// singleParent is a parent (usually the mother) alone with kids children.
func (g *generator) singleParent(h *household, kids, spare int) {
	age := 24 + g.r.IntN(37)
	firstAt := max(20, age-32) + g.r.IntN(max(1, min(42, age)-max(20, age-32)+1))
	firstAt = min(firstAt, age)
	sex := registry.Male
	if g.chance(0.82) {
		sex = registry.Female
	}
	m := g.adult(h.home, registry.Head, sex, g.bornAged(age, age), h.o)
	h.ms = append(h.ms, m)
	if h.o.aire {
		g.fixEmigration(h.o, m)
	}
	var other *member
	switch u := g.r.Float64(); {
	case u < 0.45:
		m.p.CivilStatus = registry.Divorced
		g.divorce(h, m)
	case u < 0.81:
		m.p.CivilStatus = registry.Single
	case u < 0.86: // widowed: about one single parent in twenty below 60 (ISTAT)
		m.p.CivilStatus = registry.Widowed
		if spare > 0 && age >= 40 && g.chance(0.5) {
			other = g.deceasedSpouse(h, m)
		}
	default:
		m.p.CivilStatus = registry.Married // separated
	}
	first := min(m.birth.addYears(firstAt)+day(g.r.IntN(365)), g.today-1)
	if other != nil {
		// the children were born while the other parent was alive
		first = min(first, dayOf(other.p.DeathDate)-day(kids)*300)
		first = max(first, m.birth.addYears(18))
	}
	father, mother := m, other
	if sex == registry.Female {
		father, mother = other, m
	}
	g.children(h, kids, first, father, mother)
}

// withParent is an adult living with an elderly parent.
func (g *generator) withParent(h *household) {
	age := 40 + g.r.IntN(26)
	sex := registry.Male
	if g.chance(0.5) {
		sex = registry.Female
	}
	m := g.adult(h.home, registry.Head, sex, g.bornAged(age, age), h.o)
	if h.o.aire {
		g.fixEmigration(h.o, m)
	}
	if g.chance(0.3) {
		m.p.CivilStatus = registry.Divorced
		g.divorce(h, m)
	}
	h.ms = append(h.ms, m)
	g.elderParent(h, m)
}

func (g *generator) elderParent(h *household, of *member) {
	age := min(g.age(of.birth)+22+g.r.IntN(19), 101)
	sex := registry.Female
	if g.chance(0.3) {
		sex = registry.Male
	}
	p := g.adult(h.home, registry.Parent, sex, g.bornAged(age, age), h.o)
	switch u := g.r.Float64(); {
	case u < 0.8:
		p.p.CivilStatus = registry.Widowed
	case u < 0.9:
		p.p.CivilStatus = registry.Divorced
	default:
		p.p.CivilStatus = registry.Married
	}
	h.ms = append(h.ms, p)
}

// fixEmigration keeps an AIRE household's departure after its adults came
// of age, and at an age people emigrate at: an adult who would have left
// before 18 leaves instead some years after, once school or university is
// over, not on their eighteenth birthday.
func (g *generator) fixEmigration(o *origin, adults ...*member) {
	for _, m := range adults {
		if grown := m.birth.addYears(18); o.emigrated < grown {
			lo := min(grown+day(g.r.IntN(8*365)), g.today-60)
			o.emigrated = g.between(lo, g.today-60)
		}
	}
	o.emigrated = min(o.emigrated, g.today-30)
}

// weddingDay draws the day a man and a woman married. With children, in
// the few years before the first (hi). Without, at the bride's age at
// marriage: mostly 22 to 34 (ISTAT, matrimoni: brides' mean age at first
// marriage rose from about 24 in the 1970s to 33 in 2022), one in ten later
// (a late or second marriage); a couple too young for the age drawn married
// lately. So a couple of seventy married decades ago, not last year.
func (g *generator) weddingDay(bride, lo, hi day, withKids bool) day {
	if withKids {
		return g.between(max(lo, hi-6*365), hi)
	}
	age := 22 + g.r.IntN(7) + g.r.IntN(7)
	if bride < ymd(1960, 1, 1) {
		age -= 3 // their generation married younger
	}
	if g.chance(0.1) {
		age = 35 + g.r.IntN(16)
	}
	on := bride.addYears(age) + day(g.r.IntN(365))
	if on > hi {
		on = g.between(max(lo, hi-6*365), hi)
	}
	return min(max(on, lo), max(hi, lo))
}

// marriagePlace is where spouses married on day on: in the city, unless a
// spouse born abroad had not yet come to live in Italy (the registry's first
// residence for them starts later), when the marriage was celebrated
// abroad, in that spouse's state of birth, and its act transcribed (DPR
// 396/2000 art. 17). It runs after the residences are settled.
func (g *generator) marriagePlace(on day, spouses ...*member) string {
	for _, m := range spouses {
		if m.p.BirthPlace[0] != 'Z' {
			continue
		}
		if len(m.p.Residences) == 0 || on < dayOf(m.p.Residences[0].From) {
			return m.p.BirthPlace
		}
	}
	return g.city.Code
}

// Gompertz's law of adult mortality with Italy's parameters (ISTAT, tavole
// di mortalità: the risk of dying doubles about every seven years of age,
// and the modal age at death is about 87).
const (
	gompertzB = 0.1    // per year
	gompertzA = 1.6e-5 // hazard extrapolated to birth: ln(B/A)/B ≈ 87 years
)

// deathDay draws the day someone born on birth died, between lo and hi,
// from Gompertz's law truncated to that span: most die old, and a death
// before 50 is as rare as it is, unless the span allows nothing else.
func (g *generator) deathDay(birth, lo, hi day) day {
	if hi <= lo {
		return lo
	}
	cdf := func(d day) float64 {
		x := float64(d-birth) / 365.25
		return -math.Expm1(-gompertzA / gompertzB * math.Expm1(gompertzB*x))
	}
	fl, fh := cdf(lo), cdf(hi)
	u := fl + g.r.Float64()*(fh-fl)
	x := math.Log1p(-gompertzB/gompertzA*math.Log1p(-u)) / gompertzB
	return min(max(birth+day(x*365.25), lo), hi)
}

// authentication draws who authenticated a contratto di convivenza
// registered on day on: a notaio or an avvocato (L. 76/2016 art. 1 c. 51),
// who sends it to the comune within ten days (c. 52).
func (g *generator) authentication(on day) *registry.Authentication {
	sex := 0
	if g.chance(0.5) {
		sex = 1
	}
	a := &registry.Authentication{
		Professional: registry.Lawyer,
		Name:         g.t.given[sex][cohortMid].pick(g.r) + " " + g.t.surnames.pick(g.r),
		Date:         (on - day(1+g.r.IntN(10))).date(),
	}
	if g.chance(0.55) {
		a.Professional = registry.Notary
		a.Reference = "rep. n. " + strconv.Itoa(1000+g.r.IntN(90000))
	}
	return a
}

// convivenza is a care home or a religious community (DPR 223/1989 art. 5).
func (g *generator) convivenza(room int) {
	c := g.t.convivenze[g.r.IntN(len(g.t.convivenze))]
	size := 15 + g.r.IntN(66)
	if c.religious {
		size = 4 + g.r.IntN(17)
	}
	size = min(size, room)
	home := g.newFamily(registry.Convivenza, c.name)
	ms := make([]*member, 0, size)
	for k := 0; k < size; k++ {
		o := &origin{}
		if g.chance(0.1) || (c.religious && g.chance(0.1)) {
			o.st = g.t.states.pick(g.r)
		}
		var age int
		var sex registry.Sex
		rel := registry.ConvivenzaMember
		switch {
		case k == 0 && c.religious:
			age, sex, rel = 50+g.r.IntN(31), registry.Sex(c.sex), registry.ConvivenzaHead
		case k == 0:
			age, sex, rel = 40+g.r.IntN(26), registry.Female, registry.ConvivenzaHead
			if g.chance(0.4) {
				sex = registry.Male
			}
		case c.religious:
			age, sex = 25+g.r.IntN(66), registry.Sex(c.sex)
		default:
			age, sex = 75+g.r.IntN(26), registry.Female
			if g.chance(0.3) {
				sex = registry.Male
			}
		}
		m := g.adult(home, rel, sex, g.bornAged(age, age), o)
		if !c.religious && k > 0 {
			m.p.CivilStatus = pickStatus(g.r.Float64(), 0.2, 0.1, 0.1, 0.6)
		}
		ms = append(ms, m)
	}
	g.commit(home, ms)
	addr := g.cityAddress()
	for _, m := range ms {
		g.settle([]*member{m}, addr, g.today-1)
		g.member(m.p, m.i, home, m.p.Relationship, registry.Date{})
	}
	g.equip(ms)
}

func (g *generator) cityAddress() registry.Address {
	s := g.city.Streets[g.r.IntN(len(g.city.Streets))]
	cap := s.CAP
	if cap == "" {
		cap = g.city.CAPs[g.r.IntN(len(g.city.CAPs))]
	}
	a := registry.Address{Street: s.Name, Number: g.civicNumber(), CAP: cap, Comune: g.city.Code}
	switch u := g.r.Float64(); {
	case u < 0.15:
		a.Internal = "scala " + string(rune('A'+g.r.IntN(4))) + " int. " + strconv.Itoa(1+g.r.IntN(30))
	case u < 0.55:
		a.Internal = "int. " + strconv.Itoa(1+g.r.IntN(40))
	}
	return a
}

func (g *generator) civicNumber() string {
	n := strconv.Itoa(1 + min(int(g.r.ExpFloat64()*35), 250))
	switch u := g.r.Float64(); {
	case u < 0.06:
		n += "/" + string(rune('A'+g.r.IntN(4)))
	case u < 0.08:
		n += " bis"
	}
	return n
}

// settle gives the members their current residence at addr, moved in on a
// day no later than latest, and a previous residence where they had one,
// with the change-of-residence event. It returns the moving-in day.
func (g *generator) settle(ms []*member, addr registry.Address, latest day) day {
	lo := day(-1 << 30)
	for _, m := range ms {
		if m.p.Relationship != registry.Child {
			lo = max(lo, m.birth.addYears(18), m.arrival)
		}
	}
	hi := min(latest, g.today-1)
	lo = min(lo, hi)
	since := g.between(lo, hi)
	if g.chance(0.3) { // many moved recently
		since = g.between(max(lo, hi-5*365), hi)
	}
	var moved []int32
	note := ""
	for k, m := range ms {
		from := max(since, m.birth, m.arrival) // born later, or came later to join the family
		var prev *registry.Address
		var prevFrom day
		switch {
		case from == m.birth:
		case m.p.BirthPlace == g.city.Code:
			a := g.cityAddress()
			prev, prevFrom = &a, m.birth
			if k == 0 {
				note = "trasferimento da altro indirizzo nel comune"
			}
		case m.from != nil:
			a := registry.Address{Street: g.t.genericStreets[g.r.IntN(len(g.t.genericStreets))],
				Number: g.civicNumber(), CAP: m.from.cap, Comune: m.from.code}
			prev, prevFrom = &a, m.birth
			if k == 0 {
				note = "immigrazione dal comune di " + m.from.name + " (" + m.from.code + ")"
			}
		case m.arrival != 0 && m.arrival < from-30 && g.chance(0.5):
			a := g.cityAddress()
			prev, prevFrom = &a, m.arrival
			if k == 0 {
				note = "trasferimento da altro indirizzo nel comune"
			}
		default:
			if k == 0 {
				note = "immigrazione dall'estero (" + m.p.BirthPlace + ")"
			}
		}
		if prev != nil {
			r := g.allocResidences(2)
			r[0] = registry.Residence{Address: *prev, From: prevFrom.date(), To: (from - 1).date()}
			r[1] = registry.Residence{Address: addr, From: from.date()}
			m.p.Residences = r
		} else {
			r := g.allocResidences(1)
			r[0] = registry.Residence{Address: addr, From: from.date()}
			m.p.Residences = r
		}
		if from == since && from != m.birth {
			moved = append(moved, m.i)
		}
	}
	if len(moved) > 0 {
		if note == "" {
			note = "trasferimento di residenza"
		}
		g.event(registry.ResidenceChange, since, g.city.Code, moved, nil, "", note)
	}
	return since
}

// settleAIRE gives an AIRE household its past address in the city and its
// address abroad, with the emigration event.
func (g *generator) settleAIRE(h *household, addr registry.Address) {
	o := h.o
	abroad := registry.Address{Street: o.abroad.street, Number: g.civicNumber(), CAP: o.abroad.cap,
		Comune: o.abroad.state, Locality: o.abroad.locality}
	var moved []int32
	for _, m := range h.ms {
		if m.birth >= o.emigrated {
			r := g.allocResidences(1)
			r[0] = registry.Residence{Address: abroad, From: m.birth.date(), AIREComune: g.city.Code}
			m.p.Residences = r
			continue
		}
		r := g.allocResidences(2)
		r[0] = registry.Residence{Address: addr, From: max(m.birth, o.emigrated.addYears(-15)).date(), To: (o.emigrated - 1).date()}
		r[1] = registry.Residence{Address: abroad, From: o.emigrated.date(), AIREComune: g.city.Code}
		m.p.Residences = r
		moved = append(moved, m.i)
	}
	if len(moved) > 0 {
		g.event(registry.ResidenceChange, o.emigrated, o.abroad.state, moved, nil, "",
			"emigrazione all'estero, iscrizione AIRE ("+o.abroad.locality+")")
	}
}
