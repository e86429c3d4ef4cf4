package fees

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/places/anprtest"
)

// TestReasonsMatchANPR checks the embedded table against ANPR's table 39:
// same codes, and each legal reference names the same law numbers.
func TestReasonsMatchANPR(t *testing.T) {
	seen := map[int]bool{}
	for _, row := range anprtest.Rows(t, "esenzione_bollo.csv") {
		code, err := strconv.Atoi(row[0])
		if err != nil {
			t.Fatalf("bad code %q", row[0])
		}
		seen[code] = true
		r, ok := LookupReason(code)
		if !ok {
			t.Errorf("ANPR code %d (%s) missing from the table", code, row[1])
			continue
		}
		for _, law := range []string{"642", "115", "184", "74", "537"} {
			if strings.Contains(row[1], law+"/") && !strings.Contains(r.Legal, law) {
				t.Errorf("code %d: ANPR cites %s, our reference %q does not", code, law, r.Legal)
			}
		}
	}
	for _, r := range Reasons() {
		if !seen[r.Code] {
			t.Errorf("code %d is not in ANPR's table", r.Code)
		}
	}
}

func TestCompute(t *testing.T) {
	type want struct {
		bollo, diritti, service, total int64
		reason                         string // refusal reason; "" when computed
	}
	cases := []struct {
		name string
		req  Request
		want want
	}{
		{"in bollo", Request{}, want{1600, 52, -1, 1652, ""}},
		{"in bollo with operator fee", Request{ServiceCents: 200}, want{1600, 52, 200, 1852, ""}},
		{"operator fee under a city's own cap", Request{ServiceCents: 250, ServiceCapCents: 300}, want{1600, 52, 250, 1902, ""}},
		{"operator fee above default cap", Request{ServiceCents: 201}, want{reason: ReasonServiceFeeAboveCap}},
		{"operator fee above city cap", Request{ServiceCents: 150, ServiceCapCents: 100}, want{reason: ReasonServiceFeeAboveCap}},
		{"negative fee", Request{ServiceCents: -1}, want{reason: ReasonNegativeFee}},
		{"exempt by law", Request{ExemptByLaw: true}, want{0, 0, -1, 0, ""}},
		{"exempt by law with operator fee", Request{ExemptByLaw: true, ServiceCents: 200}, want{0, 0, 200, 200, ""}},
		{"exempt by law and +diritti code", Request{ExemptByLaw: true, Exemption: Exemption{Code: 7}}, want{0, 0, -1, 0, ""}},
		{"code 99 with reason", Request{Exemption: Exemption{Code: 99, Text: "art. 80 Reg. CE 883/2004"}}, want{0, 26, -1, 26, ""}},
		{"code 99 without reason", Request{Exemption: Exemption{Code: 99, Text: "  "}}, want{reason: ReasonExemptionTextEmpty}},
		{"code 99 reason too long", Request{Exemption: Exemption{Code: 99, Text: strings.Repeat("à", MaxExemptionText+1)}}, want{reason: ReasonExemptionTextLong}},
		{"code 99 reason with a NUL", Request{Exemption: Exemption{Code: 99, Text: "a\x00b"}}, want{reason: ReasonExemptionTextInvalid}},
		{"code 99 reason on two lines", Request{Exemption: Exemption{Code: 99, Text: "art. 80\nReg. CE"}}, want{reason: ReasonExemptionTextInvalid}},
		{"code 99 reason turned right to left", Request{Exemption: Exemption{Code: 99, Text: "art. \u202e08"}}, want{reason: ReasonExemptionTextInvalid}},
		{"code 99 reason not UTF-8", Request{Exemption: Exemption{Code: 99, Text: "art. \xff"}}, want{reason: ReasonExemptionTextInvalid}},
		{"code 99 reason with accents", Request{Exemption: Exemption{Code: 99, Text: "attività sportiva dilettantistica"}}, want{0, 26, -1, 26, ""}},
		{"code 99 reason at limit", Request{Exemption: Exemption{Code: 99, Text: strings.Repeat("à", MaxExemptionText)}}, want{0, 26, -1, 26, ""}},
		{"text without code 99", Request{Exemption: Exemption{Code: 1, Text: "x"}}, want{reason: ReasonExemptionTextStray}},
		{"text without code", Request{Exemption: Exemption{Text: "x"}}, want{reason: ReasonExemptionTextStray}},
		{"unknown code 11", Request{Exemption: Exemption{Code: 11}}, want{reason: ReasonUnknownExemption}},
		{"unknown code -1", Request{Exemption: Exemption{Code: -1}}, want{reason: ReasonUnknownExemption}},
	}
	// Every code of table 39 but 99: bollo waived; diritti waived only for
	// the +diritti codes, which DESIGN.md lists as 4, 6, 7 and 10.
	plusDiritti := map[int]bool{4: true, 6: true, 7: true, 10: true}
	for code := 1; code <= 10; code++ {
		w := want{0, 26, -1, 26, ""}
		if plusDiritti[code] {
			w = want{0, 0, -1, 0, ""}
		}
		cases = append(cases, struct {
			name string
			req  Request
			want want
		}{"code " + strconv.Itoa(code), Request{Exemption: Exemption{Code: code}}, w})
		w.service, w.total = 200, w.total+200
		cases = append(cases, struct {
			name string
			req  Request
			want want
		}{"code " + strconv.Itoa(code) + " with operator fee", Request{Exemption: Exemption{Code: code}, ServiceCents: 200}, w})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Compute(c.req)
			if c.want.reason != "" {
				var fe *Error
				if !errors.As(err, &fe) || fe.Reason != c.want.reason {
					t.Fatalf("got %v (%#v), want refusal %s", b, err, c.want.reason)
				}
				if fe.Message == "" || !strings.HasSuffix(fe.Message, ".") {
					t.Errorf("message %q is not a sentence", fe.Message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[Kind]int64{Service: -1}
			var sum int64
			for _, l := range b.Lines {
				if _, dup := got[l.Kind]; dup && l.Kind != Service {
					t.Errorf("two %s lines", l.Kind)
				}
				got[l.Kind] = l.Cents
				sum += l.Cents
				if l.Label == "" {
					t.Errorf("line %s has no label", l.Kind)
				}
				if l.Cents == 0 && !strings.Contains(l.Note, "esente") {
					t.Errorf("waived %s line says no exemption: %q", l.Kind, l.Note)
				}
			}
			if got[Bollo] != c.want.bollo || got[Diritti] != c.want.diritti || got[Service] != c.want.service {
				t.Errorf("bollo %d diritti %d service %d, want %d %d %d", got[Bollo], got[Diritti], got[Service], c.want.bollo, c.want.diritti, c.want.service)
			}
			if b.TotalCents != c.want.total || sum != b.TotalCents {
				t.Errorf("total %d (lines sum %d), want %d", b.TotalCents, sum, c.want.total)
			}
			if code := c.req.Exemption.Code; code != 0 && code != OtherReason && !c.req.ExemptByLaw {
				r, _ := LookupReason(code)
				if !strings.Contains(b.Purpose, r.Legal) {
					t.Errorf("purpose %q lacks legal reference %q", b.Purpose, r.Legal)
				}
			}
			if c.req.Exemption.Code == OtherReason && !strings.Contains(b.Purpose, strings.TrimSpace(c.req.Exemption.Text)) {
				t.Errorf("purpose %q lacks the declared reason", b.Purpose)
			}
			if c.req.ExemptByLaw && !strings.Contains(b.Purpose, "405/1990") {
				t.Errorf("purpose %q lacks the legal exemption", b.Purpose)
			}
		})
	}
}

func TestEuro(t *testing.T) {
	for cents, want := range map[int64]string{0: "0,00 EUR", 5: "0,05 EUR", 1652: "16,52 EUR", -26: "-0,26 EUR"} {
		if got := Euro(cents); got != want {
			t.Errorf("Euro(%d) = %q, want %q", cents, got, want)
		}
	}
}

func TestAmount(t *testing.T) {
	for _, c := range []struct {
		cents              int64
		decimal, thousands byte
		want               string
	}{
		{0, ',', '.', "0,00"},
		{7, '.', 0, "0.07"},
		{-250, '.', 0, "-2.50"},
		{99999, ',', '.', "999,99"},
		{100000, ',', '.', "1.000,00"},
		{123456, ',', 0, "1234,56"},
		{-123456789, ',', '.', "-1.234.567,89"},
	} {
		if got := Amount(c.cents, c.decimal, c.thousands); got != c.want {
			t.Errorf("Amount(%d, %q, %q) = %q, want %q", c.cents, c.decimal, c.thousands, got, c.want)
		}
	}
}

func TestShares(t *testing.T) {
	tests := []struct {
		lines []Line
		want  Shares
		bad   int // index of the line Add refuses, -1 for none
	}{
		{[]Line{{Kind: Bollo, Cents: 1600}, {Kind: Diritti, Cents: 52}, {Kind: Service, Cents: 200}}, Shares{1600, 52, 200, 0}, -1},
		{[]Line{{Kind: Bollo}, {Kind: Diritti, Cents: 26}}, Shares{0, 26, 0, 0}, -1},
		{[]Line{{Kind: Bollo, Cents: 1600}, {Kind: "mancia", Cents: 100}}, Shares{1600, 0, 0, 0}, 1},
		{[]Line{{Kind: Diritti, Cents: -52}}, Shares{}, 0},
	}
	for _, tt := range tests {
		var s Shares
		bad := -1
		for i, l := range tt.lines {
			if err := s.Add(l); err != nil && bad < 0 {
				bad = i
			}
		}
		if s != tt.want || bad != tt.bad {
			t.Errorf("%v: shares %+v refused %d, want %+v refused %d", tt.lines, s, bad, tt.want, tt.bad)
		}
	}
}

// TestVirtualBolloWording: a certificate in bollo names the authorisation
// to pay it virtually (art. 15 DPR 642/1972); an exempt one prints its
// exemption as before and no payment.
func TestVirtualBolloWording(t *testing.T) {
	const auth = "n. 123/2019 del 15/01/2019"
	want := "Imposta di bollo assolta in modo virtuale – autorizzazione Agenzia delle Entrate n. 123/2019 del 15/01/2019."
	b, err := Compute(Request{BolloAuthorisation: auth})
	if err != nil || !strings.Contains(b.Purpose, want) {
		t.Errorf("in bollo: %q %v", b.Purpose, err)
	}
	for _, r := range []Request{{BolloAuthorisation: auth, Exemption: Exemption{Code: 7}}, {BolloAuthorisation: auth, ExemptByLaw: true}} {
		b, err := Compute(r)
		if err != nil || strings.Contains(b.Purpose, "virtuale") || !strings.Contains(b.Purpose, "esenzione") && !strings.Contains(b.Purpose, "Esente") {
			t.Errorf("exempt %+v: %q %v", r, b.Purpose, err)
		}
	}
}

// TestContrassegno: a contrassegno telematico is 14 digits, pays the
// bollo in full, is printed as the payment mode in place of the virtual
// bollo sentence, and is refused on a certificate exempt from bollo.
func TestContrassegno(t *testing.T) {
	const auth = "n. 123/2019 del 15/01/2019"
	const id = "01234567890123"
	b, err := Compute(Request{BolloAuthorisation: auth, Contrassegno: " " + id + " ", ServiceCents: 200})
	if err != nil {
		t.Fatal(err)
	}
	if b.Lines[0].Kind != Bollo || b.Lines[0].Cents != BolloCents || b.Lines[0].Contrassegno != id || !strings.Contains(b.Lines[0].Note, id) {
		t.Errorf("bollo line %+v", b.Lines[0])
	}
	if b.Contrassegno != id || b.TotalCents != BolloCents+DirittiCents+200 {
		t.Errorf("breakdown %+v", b)
	}
	if !strings.Contains(b.Purpose, "Imposta di bollo assolta mediante contrassegno telematico n. 01234567890123.") || strings.Contains(b.Purpose, "virtuale") {
		t.Errorf("purpose %q", b.Purpose)
	}
	for _, bad := range []string{"0123456789012", "012345678901234", "0123456789012a", "０１２３４５６７８９０１２３", "01234 567890123"} {
		_, err := Compute(Request{Contrassegno: bad})
		var fe *Error
		if !errors.As(err, &fe) || fe.Reason != ReasonContrassegnoInvalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for _, r := range []Request{{Contrassegno: id, Exemption: Exemption{Code: 9}}, {Contrassegno: id, ExemptByLaw: true}} {
		_, err := Compute(r)
		var fe *Error
		if !errors.As(err, &fe) || fe.Reason != ReasonContrassegnoExempt {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

// TestSharesContrassegno: the bollo paid by a contrassegno the shop sold
// is not owed to the State through the city (it was paid when the marca
// was printed); the diritti still are owed to the city.
func TestSharesContrassegno(t *testing.T) {
	b, err := Compute(Request{Contrassegno: "01234567890123", ServiceCents: 150})
	if err != nil {
		t.Fatal(err)
	}
	var s Shares
	for _, l := range b.Lines {
		if err := s.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	if s != (Shares{State: 0, City: DirittiCents, Operator: 150, Contrassegno: BolloCents}) {
		t.Errorf("shares %+v", s)
	}
}

// TestDirittiExempt: ANPR's esenzioneDiritti flag rides only on code 99,
// waives the diritti and is printed with the reason.
func TestDirittiExempt(t *testing.T) {
	b, err := Compute(Request{Exemption: Exemption{Code: 99, Text: "art. 80 Reg. CE 883/2004", DirittiExempt: true}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Lines[1].Kind != Diritti || b.Lines[1].Cents != 0 || b.TotalCents != 0 || !strings.Contains(b.Lines[1].Note, "883/2004") {
		t.Errorf("lines %+v", b.Lines)
	}
	if !b.Exemption.DirittiExempt || !strings.Contains(b.Purpose, "dai diritti di segreteria") || !strings.Contains(b.Purpose, "883/2004") {
		t.Errorf("breakdown %+v", b)
	}
	for _, code := range []int{0, 3, 9} {
		_, err := Compute(Request{Exemption: Exemption{Code: code, DirittiExempt: true}})
		var fe *Error
		if !errors.As(err, &fe) || fe.Reason != ReasonDirittiExemptNot99 {
			t.Errorf("code %d: %v", code, err)
		}
	}
	// Without the flag, code 99 keeps the halved diritti.
	if b, _ := Compute(Request{Exemption: Exemption{Code: 99, Text: "x"}}); b.Lines[1].Cents != DirittiExemptCents {
		t.Errorf("code 99 without the flag: %+v", b.Lines)
	}
}
