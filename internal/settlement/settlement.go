// Package settlement computes what each operator owes after a month of
// issuing certificates at its counter: the imposta di bollo it collected
// for the State, the diritti di segreteria it collected for the city, and
// the service fee it keeps. Everything is integer cents, computed from the
// fee lines stored with each certificate at issuance, never recomputed
// from today's tariff: a settlement must match the receipts the citizens
// were given.
//
// Revoked certificates stay in the settlement: the citizen paid at the
// counter, and a revocation corrects the document, not the payment (a
// refund, when due, is a separate act of the city).
//
// Districts: the hub knows an operator's address, not the city's
// administrative map, so a district is derived from the address's CAP. A
// city may give a table from CAP to its own districts (Milan's municipi);
// without one, each CAP is its own district ("CAP 20131"). No such table
// is shipped because postal zones and municipi do not nest exactly.
package settlement

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/protocol"
)

// ErrInvalid is wrapped by the errors for bad input.
var ErrInvalid = errors.New("invalid settlement input")

// Month is a calendar month in Rome.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf returns the Rome month of instant t.
func MonthOf(t time.Time) Month {
	r := t.In(protocol.Rome)
	return Month{r.Year(), r.Month()}
}

// ParseMonth reads "YYYY-MM".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", strings.TrimSpace(s))
	if err != nil {
		return Month{}, fmt.Errorf("%w: %q is not a month written YYYY-MM", ErrInvalid, s)
	}
	return Month{t.Year(), t.Month()}, nil
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Days returns the first and last day of the month.
func (m Month) Days() (from, to protocol.Day) {
	first := time.Date(m.Year, m.Month, 1, 12, 0, 0, 0, protocol.Rome)
	last := first.AddDate(0, 1, -1)
	return protocol.DayOf(first), protocol.DayOf(last)
}

// Prev and Next are the neighbouring months.
func (m Month) Prev() Month {
	return MonthOf(time.Date(m.Year, m.Month-1, 15, 12, 0, 0, 0, protocol.Rome))
}
func (m Month) Next() Month {
	return MonthOf(time.Date(m.Year, m.Month+1, 15, 12, 0, 0, 0, protocol.Rome))
}

// Operator is what a settlement says about the operator.
type Operator struct {
	ID       string
	Name     string
	District string
}

// Amounts are the sums of a set of certificates.
type Amounts struct {
	Certificates int   `json:"certificates"`
	Revoked      int   `json:"revoked"`
	BolloCents   int64 `json:"bollo_cents"`   // owed to the State
	DirittiCents int64 `json:"diritti_cents"` // owed to the city
	ServiceCents int64 `json:"service_cents"` // kept by the operator
	// CollectedCents is what citizens paid at the counter.
	CollectedCents int64 `json:"collected_cents"`
}

// DueCents is what the operator transfers to the city: bollo and diritti.
// The city accounts for the bollo to the State (it is paid "in modo
// virtuale" under art. 15 DPR 642/1972 by the issuing comune).
func (a Amounts) DueCents() int64 { return a.BolloCents + a.DirittiCents }

func (a *Amounts) add(b Amounts) {
	a.Certificates += b.Certificates
	a.Revoked += b.Revoked
	a.BolloCents += b.BolloCents
	a.DirittiCents += b.DirittiCents
	a.ServiceCents += b.ServiceCents
	a.CollectedCents += b.CollectedCents
}

// Line is one certificate of a settlement. It carries no personal data:
// a settlement goes to the operator's accountant.
type Line struct {
	ID       string
	Protocol string
	Issued   time.Time
	Types    []certificate.Type
	Channel  certificate.Channel
	Status   certificate.Status
	Amounts
}

// TypeCount is the count and sums per certificate type (a contestuale
// counts under its first type).
type TypeCount struct {
	Type certificate.Type
	Amounts
}

// Settlement is one operator's month.
type Settlement struct {
	Operator Operator
	Month    Month
	Amounts
	ByType []TypeCount
	Lines  []Line
}

// Settle computes the settlement of operator op for month m from the
// records certbolt.ByOperator returns. It refuses records of another
// operator or month, and records whose fee lines do not add up to the total
// charged: a settlement built on them would be wrong.
func Settle(op Operator, m Month, recs []certificate.Record) (Settlement, error) {
	s := Settlement{Operator: op, Month: m, Lines: []Line{}}
	byType := map[certificate.Type]*TypeCount{}
	for i := range recs {
		r := &recs[i]
		if r.OperatorID != op.ID {
			return s, fmt.Errorf("%w: certificate %s was issued by operator %q, not %s", ErrInvalid, r.ID, r.OperatorID, op.ID)
		}
		if MonthOf(r.Issued) != m {
			return s, fmt.Errorf("%w: certificate %s was issued on %s, outside %s", ErrInvalid, r.ID, protocol.DayOf(r.Issued), m)
		}
		a, err := amountsOf(r)
		if err != nil {
			return s, err
		}
		s.add(a)
		s.Lines = append(s.Lines, Line{ID: r.ID, Protocol: r.Protocol, Issued: r.Issued, Types: r.Types, Channel: r.Channel, Status: r.Status, Amounts: a})
		t := certificate.Type("")
		if len(r.Types) > 0 {
			t = r.Types[0]
		}
		if byType[t] == nil {
			byType[t] = &TypeCount{Type: t}
		}
		byType[t].add(a)
	}
	for _, tc := range byType {
		s.ByType = append(s.ByType, *tc)
	}
	sort.Slice(s.ByType, func(i, j int) bool {
		if s.ByType[i].Certificates != s.ByType[j].Certificates {
			return s.ByType[i].Certificates > s.ByType[j].Certificates
		}
		return s.ByType[i].Type < s.ByType[j].Type
	})
	sort.SliceStable(s.Lines, func(i, j int) bool { return s.Lines[i].Issued.Before(s.Lines[j].Issued) })
	return s, nil
}

func amountsOf(r *certificate.Record) (Amounts, error) {
	a := Amounts{Certificates: 1, CollectedCents: r.TotalCents}
	if r.Status == certificate.Revoked {
		a.Revoked = 1
	}
	var sum int64
	var sh fees.Shares
	for _, l := range r.Fees {
		if err := sh.Add(l); err != nil {
			return a, fmt.Errorf("%w: certificate %s has %v", ErrInvalid, r.ID, err)
		}
		sum += l.Cents
	}
	a.BolloCents, a.DirittiCents, a.ServiceCents = sh.State, sh.City, sh.Operator
	if sum != r.TotalCents {
		return a, fmt.Errorf("%w: the fee lines of certificate %s add up to %s but %s was charged", ErrInvalid, r.ID, fees.Euro(sum), fees.Euro(r.TotalCents))
	}
	return a, nil
}

// Districts maps a CAP to the name of the city's district.
type Districts map[string]string

// Of returns the district of an address's CAP.
func (d Districts) Of(cap string) string {
	cap = strings.TrimSpace(cap)
	if name, ok := d[cap]; ok {
		return name
	}
	if cap == "" {
		return "CAP ?"
	}
	return "CAP " + cap
}

// DistrictTotal sums the settlements of one district.
type DistrictTotal struct {
	District  string
	Operators int
	Amounts
}

// Total sums settlements.
func Total(ss []Settlement) Amounts {
	var t Amounts
	for _, s := range ss {
		t.add(s.Amounts)
	}
	return t
}

// ByDistrict sums settlements per district, in district order.
func ByDistrict(ss []Settlement) []DistrictTotal {
	m := map[string]*DistrictTotal{}
	for _, s := range ss {
		d := m[s.Operator.District]
		if d == nil {
			d = &DistrictTotal{District: s.Operator.District}
			m[s.Operator.District] = d
		}
		d.Operators++
		d.add(s.Amounts)
	}
	out := make([]DistrictTotal, 0, len(m))
	for _, d := range m {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].District < out[j].District })
	return out
}

// Euro writes cents as "16.00": a dot, so spreadsheets in any locale read
// the CSV column as a number.
func Euro(cents int64) string { return fees.Amount(cents, '.', 0) }

// WriteCSV writes the settlement as RFC 4180 CSV: one row per certificate,
// then a totals row. Times are Rome's.
func WriteCSV(w io.Writer, s Settlement) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"operatore", "mese", "certificato", "protocollo", "rilasciato", "tipi", "canale", "stato", "bollo_eur", "diritti_eur", "servizio_eur", "totale_eur"})
	for _, l := range s.Lines {
		types := make([]string, len(l.Types))
		for i, t := range l.Types {
			types[i] = string(t)
		}
		cw.Write([]string{s.Operator.ID, s.Month.String(), l.ID, l.Protocol, l.Issued.In(protocol.Rome).Format(time.RFC3339),
			strings.Join(types, "+"), string(l.Channel), string(l.Status),
			Euro(l.BolloCents), Euro(l.DirittiCents), Euro(l.ServiceCents), Euro(l.CollectedCents)})
	}
	cw.Write([]string{s.Operator.ID, s.Month.String(), "TOTALE", fmt.Sprint(s.Certificates), "", "", "", fmt.Sprintf("%d revocati", s.Revoked),
		Euro(s.BolloCents), Euro(s.DirittiCents), Euro(s.ServiceCents), Euro(s.CollectedCents)})
	cw.Flush()
	return cw.Error()
}

// WriteSummaryCSV writes one row per operator and one per district.
func WriteSummaryCSV(w io.Writer, m Month, ss []Settlement) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"mese", "livello", "operatore", "nome", "zona", "certificati", "revocati", "bollo_eur", "diritti_eur", "servizio_eur", "incassato_eur", "dovuto_al_comune_eur"})
	row := func(level, id, name, district string, a Amounts) {
		cw.Write([]string{m.String(), level, id, name, district, fmt.Sprint(a.Certificates), fmt.Sprint(a.Revoked),
			Euro(a.BolloCents), Euro(a.DirittiCents), Euro(a.ServiceCents), Euro(a.CollectedCents), Euro(a.DueCents())})
	}
	for _, s := range ss {
		row("operatore", s.Operator.ID, s.Operator.Name, s.Operator.District, s.Amounts)
	}
	for _, d := range ByDistrict(ss) {
		row("zona", "", "", d.District, d.Amounts)
	}
	row("totale", "", "", "", Total(ss))
	cw.Flush()
	return cw.Error()
}
