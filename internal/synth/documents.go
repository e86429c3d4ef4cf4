package synth

import (
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// Document numbers are drawn from counters through fixed affine
// permutations (x·a + b mod space, a coprime with space): unique by
// construction, no set to keep, yet scattered like real numbers.
const (
	nisSpace   = 1_000_000_000_000 // NIS: 12 digits
	nisMul     = 618_033_988_749   // odd, not a multiple of 5
	cieSpace   = 100_000 * 26 * 26 // CIE: 5 digits and 2 letters within a series
	cieMul     = 12_345_677        // coprime with 2, 5 and 13
	bookSpace  = 10_000_000        // passport and paper card: 7 digits
	bookMul    = 7_654_321         // coprime with 2 and 5
	pPassport  = 0.07
	pCIE       = 0.88
	pPaperCard = 0.06
)

// documents gives a living resident identity documents: most have a CIE
// (some expired, most renewed), some only a paper card, a few a passport.
func (g *generator) documents(m *member) {
	if !m.p.Alive() {
		return
	}
	age := g.age(m.birth)
	var ds [4]registry.Document
	n := 0
	u := g.r.Float64()
	switch {
	case age < 3 && u < 0.25, age >= 3 && u < pCIE:
		lo := max(cieStart, m.birth+30, m.arrival, g.registered(m))
		if lo > g.today {
			break // too young for a card yet
		}
		d := g.cie(m, g.between(lo, g.today))
		ds[n] = d
		n++
		if exp := dayOf(d.Expires); exp < g.today && g.chance(0.75) {
			ds[n] = g.cie(m, g.between(exp-60, min(g.today, exp+400)))
			n++
		}
	case age >= 25 && u < pCIE+pPaperCard:
		ds[n] = g.paperCard(m)
		n++
	}
	if age >= 18 && g.chance(pPassport) {
		ds[n] = g.passport(m)
		n++
	}
	if n == 0 {
		return
	}
	m.p.Documents = g.allocDocuments(n)
	copy(m.p.Documents, ds[:n])
	g.b.Stats.Documents += n
}

// expiry is the holder's first birthday on or after the end of the validity
// period: a CIE expires on the holder's birthday (DL 5/2012 art. 7).
func expiry(birth, end day) day {
	b := birth.date()
	e := end.date()
	for y := e.Year; ; y++ {
		d := registry.Date{Year: y, Month: b.Month, Day: b.Day}
		if d.Month == time.February && d.Day == 29 && !leap(y) {
			d.Month, d.Day = time.March, 1
		}
		if dd := dayOf(d); dd >= end {
			return dd
		}
	}
}

// cie issues a CIE: valid 3 years under 3, 5 years from 3 to 18, 10 years
// for adults. The card number is C, a series letter advancing with the
// years, five digits and two letters; the NIS is twelve digits.
func (g *generator) cie(m *member, issue day) registry.Document {
	years := 10
	switch a := m.birth.date().AgeAt(issue.date()); {
	case a < 3:
		years = 3
	case a < 18:
		years = 5
	}
	series := min(max(issue.date().Year-2018, 0), 25) // CA until 2018, CB in 2019…
	seq := g.cieSeq[series]
	g.cieSeq[series]++
	v := (seq*cieMul + g.cieAdd) % cieSpace
	num := [9]byte{'C', byte('A' + series)}
	digits(num[2:7], v%100000)
	l := v / 100000
	num[7], num[8] = byte('A'+l/26), byte('A'+l%26)

	var nis [12]byte
	digits(nis[:], (g.nisSeq*nisMul+g.nisAdd)%nisSpace)
	g.nisSeq++
	return registry.Document{
		Kind: registry.CIE, Number: string(num[:]), NIS: string(nis[:]),
		Issued: issue.date(), Expires: expiry(m.birth, issue.addYears(years)).date(), Issuer: g.issuer(m, issue),
	}
}

// registered is the first day of the member's registry history in Italy.
func (g *generator) registered(m *member) day {
	if len(m.p.Residences) == 0 {
		return 0
	}
	return dayOf(m.p.Residences[0].From)
}

// issuer is the comune the member lived in on day on: identity cards are
// issued by the comune of residence.
func (g *generator) issuer(m *member, on day) string {
	d := on.date()
	for _, r := range m.p.Residences {
		if !d.Before(r.From) && (r.To.IsZero() || !r.To.Before(d)) && r.Address.Comune[0] != 'Z' {
			return r.Address.Comune
		}
	}
	return g.city.Code
}

func (g *generator) passport(m *member) registry.Document {
	issue := g.between(max(g.today.addYears(-10)+1, m.birth.addYears(18)), g.today)
	return registry.Document{
		Kind: registry.Passport, Number: g.bookNumber('Y', &g.passSeq),
		Issued: issue.date(), Expires: (issue.addYears(10) - 1).date(), Issuer: g.city.Code,
	}
}

// paperCard is a paper identity card: ten years to the birthday, but no
// paper card is valid after 3 August 2026 (Reg. (UE) 2019/1157 art. 5).
func (g *generator) paperCard(m *member) registry.Document {
	issue := g.between(max(ymd(2009, 1, 1), m.birth.addYears(18), m.arrival, g.registered(m)), min(ymd(2019, 12, 31), g.today))
	exp := min(expiry(m.birth, issue.addYears(10)), paperCIEnd)
	return registry.Document{
		Kind: registry.Paper, Number: g.bookNumber('A', &g.paperSeq),
		Issued: issue.date(), Expires: exp.date(), Issuer: g.issuer(m, issue),
	}
}

// bookNumber is two letters and seven digits: YA1234567.
func (g *generator) bookNumber(first byte, seq *uint64) string {
	s := *seq
	*seq++
	b := [9]byte{first, byte('A' + (s/bookSpace)%26)}
	digits(b[2:], (s%bookSpace*bookMul+12345)%bookSpace)
	return string(b[:])
}

// digits writes v into b right-aligned, zero-padded.
func digits(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}
