// Package receipt lays out the counter receipt a citizen takes home: who
// issued what, what it cost, and a QR to check it. It knows nothing of fees
// or certificates beyond the plain values the kiosk copies in.
package receipt

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Rome's rules on a machine without a zone database
	"unicode/utf8"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/printer/escpos"
)

// Lang is a receipt language.
type Lang string

const (
	Italian Lang = "it"
	English Lang = "en"
)

// FeeKind says what a fee line is, so its label can be translated.
type FeeKind int

const (
	Bollo     FeeKind = iota + 1 // imposta di bollo (stamp duty)
	Exemption                    // bollo exemption: Code names the legal ground
	Diritti                      // diritti di segreteria (municipal fee)
	Service                      // the shop's service fee
	Other                        // Label says what it is
)

// Fee is one line of the bill, in euro cents.
type Fee struct {
	Kind  FeeKind
	Cents int64
	Code  string // for Exemption: the exemption's code or short text
	// Contrassegno is, on a Bollo line, the 14-digit identifier of the
	// marca da bollo applied (art. 15 DPR 642/1972: how the bollo was
	// paid), printed under it so the receipt matches the certificate.
	Contrassegno string
	Label        string // for Other; overrides the standard label when set
}

// Certificate is one certificate issued in this transaction.
type Certificate struct {
	Type     string // DESIGN.md identifier: "residenza", "stato_di_famiglia", …
	Protocol string // protocol register number, e.g. "2026/000123"
}

// Receipt is everything printed on one receipt.
type Receipt struct {
	Shop    string
	Address string // optional second header line
	// LegalName and PartitaIVA are the shop's operator as the city's
	// agreement registered it (api.DeviceShop): a receipt for a service
	// fee names who charged it and their VAT number (art. 21 DPR
	// 633/1972 asks both of an invoice; a receipt of the shop's own fee
	// carries the same, so the citizen knows whom they paid). Printed
	// when set; LegalName only when it differs from Shop.
	LegalName  string
	PartitaIVA string
	OperatorID string
	// Time is printed in Rome's time (Europe/Rome), whatever its own
	// location and the machine's zone: the citizen reads the shop's
	// clock, and the hub answers in UTC.
	Time         time.Time
	Certificates []Certificate
	Fees         []Fee
	// TotalCents, when not zero, must equal the sum of Fees: a guard
	// against a mapping that drops a line.
	TotalCents int64
	VerifyURL  string // encoded in the QR
	Lang       Lang
	// Copy marks a reprint: "COPIA" under the header, as on the copy of
	// the certificate a self-service kiosk reprints (never a second
	// original, issue 15 item 4).
	Copy bool
}

// Total is the sum of the fee lines.
func (r Receipt) Total() int64 { return sum(r.Fees) }

// Validate reports the first thing that would make a misleading receipt.
func (r Receipt) Validate() error {
	switch {
	case r.Lang != Italian && r.Lang != English:
		return fmt.Errorf("receipt language %q is neither it nor en", r.Lang)
	case strings.TrimSpace(r.Shop) == "":
		return fmt.Errorf("receipt has no shop name")
	case r.Time.IsZero():
		return fmt.Errorf("receipt has no date and time")
	case len(r.Certificates) == 0:
		return fmt.Errorf("receipt lists no certificate")
	case r.VerifyURL == "":
		return fmt.Errorf("receipt has no verification URL for its QR code")
	}
	for _, c := range r.Certificates {
		if c.Type == "" || c.Protocol == "" {
			return fmt.Errorf("certificate line %+v lacks a type or a protocol number", c)
		}
	}
	return validFees("receipt", r.Fees, r.TotalCents)
}

// Encode renders the receipt as ESC/POS for a printer profile.
func Encode(r Receipt, p escpos.Profile) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	t := texts[r.Lang]
	cols := p.Paper.Columns
	cp := p.CodePage
	e := escpos.NewEncoder(p)

	header(e, t, issuer{r.Shop, r.LegalName, r.Address, r.PartitaIVA}, r.OperatorID, r.Time)
	if r.Copy {
		e.Align(escpos.Center).Bold(true).Size(2, 2).Line(t.copy).Size(1, 1).Bold(false).Align(escpos.Left)
	}

	for _, c := range r.Certificates {
		e.Bold(true)
		for _, l := range wrap(t.certificate(c.Type), cols, cp) {
			e.Line(l)
		}
		// A number with its register's codes, "c_f205.A1B2C3D.CERT.2026/0000123",
		// fills a 58 mm line alone: beside its label it would break where
		// the printer runs out of paper, so it goes on a line of its own,
		// whole, as the certificate prints it.
		line := "  " + t.protocol + " " + c.Protocol
		if len([]rune(line)) > cols {
			e.Bold(false).Line("  " + t.protocol)
			line = c.Protocol
		}
		e.Bold(false).Line(line)
	}
	e.Line(strings.Repeat("-", cols))

	feeLines(e, t, r.Fees, r.Lang)
	e.Feed(1)

	e.Align(escpos.Center)
	e.QR(r.VerifyURL, qrModule(p), escpos.ECCMedium)
	for _, l := range wrap(t.verify, cols, cp) {
		e.Line(l)
	}
	for _, l := range wrap(r.VerifyURL, cols, cp) {
		e.Line(l)
	}
	e.Feed(1).Align(escpos.Left)
	footer(e, t)
	return e.Bytes()
}

// issuer is who a receipt comes from: the shop's sign, and the operator
// as the agreement registered it.
type issuer struct {
	shop, legalName, address, partitaIVA string
}

// rome is the zone every receipt's time is printed in; time/tzdata keeps
// it there on a machine without a zone database.
var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return l
}()

// header is the shop, the operator and the time, as every receipt begins.
func header(e *escpos.Encoder, t strs, is issuer, operatorID string, at time.Time) {
	cols, cp := e.Profile().Paper.Columns, e.Profile().CodePage
	e.Align(escpos.Center).Bold(true).Size(1, 2)
	for _, l := range wrap(is.shop, cols, cp) {
		e.Line(l)
	}
	e.Size(1, 1).Bold(false)
	if n := strings.TrimSpace(is.legalName); n != "" && !strings.EqualFold(n, strings.TrimSpace(is.shop)) {
		for _, l := range wrap(n, cols, cp) {
			e.Line(l)
		}
	}
	if is.address != "" {
		for _, l := range wrap(is.address, cols, cp) {
			e.Line(l)
		}
	}
	if is.partitaIVA != "" {
		e.Line(t.partitaIVA + " " + is.partitaIVA)
	}
	e.Line(t.operator + ": " + operatorID)
	e.Line(at.In(rome).Format(t.timeLayout))
	e.Align(escpos.Left).Line(strings.Repeat("-", cols))
}

// feeLines prints the bill and its bold total.
func feeLines(e *escpos.Encoder, t strs, fs []Fee, lang Lang) {
	cols, cp := e.Profile().Paper.Columns, e.Profile().CodePage
	for _, f := range fs {
		label := f.Label
		if label == "" {
			label = t.fees[f.Kind]
		}
		if f.Kind == Exemption {
			e.Line(columns(label, t.exempt, cols, cp))
			for _, l := range wrap(f.Code, cols-2, cp) {
				e.Line("  " + l)
			}
			continue
		}
		e.Line(columns(label, money(f.Cents, lang), cols, cp))
		if f.Kind == Bollo && f.Contrassegno != "" {
			e.Line("  " + t.contrassegno + " " + f.Contrassegno)
		}
	}
	e.Bold(true).Line(columns(t.total, money(sum(fs), lang), cols, cp)).Bold(false)
}

// footer is the privacy notice and the cut.
func footer(e *escpos.Encoder, t strs) {
	for _, l := range wrap(t.privacy, e.Profile().Paper.Columns, e.Profile().CodePage) {
		e.Line(l)
	}
	e.Feed(3).Cut()
}

func sum(fs []Fee) int64 {
	var t int64
	for _, f := range fs {
		t += f.Cents
	}
	return t
}

// validFees checks the fee lines of the receipt called what, and that total,
// when not zero, is their sum.
func validFees(what string, fs []Fee, total int64) error {
	for _, f := range fs {
		if f.Cents < 0 {
			return fmt.Errorf("fee line %v of %d cents is negative", f.Kind, f.Cents)
		}
		if f.Kind < Bollo || f.Kind > Other {
			return fmt.Errorf("fee line kind %d is unknown", f.Kind)
		}
		if f.Kind == Exemption && f.Code == "" {
			return fmt.Errorf("bollo exemption line has no exemption code")
		}
		if f.Kind == Other && f.Label == "" {
			return fmt.Errorf("fee line of kind Other has no label")
		}
	}
	if s := sum(fs); total != 0 && total != s {
		return fmt.Errorf("%s total %d cents differs from the sum of its fee lines, %d cents", what, total, s)
	}
	return nil
}

// qrModule picks the largest module that keeps a typical verification URL
// (QR version 4-5, 33-37 modules) within about half the paper, where phones
// read it easily.
func qrModule(p escpos.Profile) int {
	return max(3, min(8, p.Paper.Dots/2/37))
}

// money formats cents the way each language writes euro amounts, without
// grouping thousands, as the golden receipts in testdata hold.
func money(cents int64, l Lang) string {
	if l == Italian {
		return fees.Amount(cents, ',', 0) + " €"
	}
	return "€" + fees.Amount(cents, '.', 0)
}

// columns puts left and right on one line of n characters, the left part
// shortened if they do not fit.
func columns(left, right string, n int, cp escpos.CodePage) string {
	lw, rw := cp.Width(left), cp.Width(right)
	if lw+1+rw > n {
		left = truncate(left, max(0, n-1-rw))
		lw = cp.Width(left)
	}
	return left + strings.Repeat(" ", max(1, n-lw-rw)) + right
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// wrap breaks text into lines of at most n printed characters at spaces,
// splitting words longer than a line (URLs) where they must.
func wrap(s string, n int, cp escpos.CodePage) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		for cp.Width(w) > n {
			if cur != "" {
				lines, cur = append(lines, cur), ""
			}
			lines = append(lines, truncate(w, n))
			w = string([]rune(w)[n:])
		}
		switch {
		case cur == "":
			cur = w
		case cp.Width(cur)+1+cp.Width(w) <= n:
			cur += " " + w
		default:
			lines, cur = append(lines, cur), w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
