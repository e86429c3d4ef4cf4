package certificate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/fees"
)

func TestDatedArticle(t *testing.T) {
	for _, c := range []struct{ prep, date, want string }{
		{"il", "17/02/1950", "il 17/02/1950"},
		{"il", "11/08/1985", "l'11/08/1985"},
		{"il", "08/03/1990", "l'08/03/1990"},
		{"il", "01/08/1990", "il 01/08/1990"},
		{"del", "11/08/2026", "dell'11/08/2026"},
		{"del", "18/08/2026", "del 18/08/2026"},
		{"dal", "08/11/2026", "dall'08/11/2026"},
	} {
		if got := DatedArticle(c.prep, c.date); got != c.want {
			t.Errorf("DatedArticle(%q, %q) = %q, want %q", c.prep, c.date, got, c.want)
		}
	}
}

// TestItalianTypography: a spouse born on the 11th is "nata l'11/...", a
// certificate issued on the 11th is "alla data dell'11/...", and no
// exemption prints "uso uso" or "ai sensi di art." for "dell'art.".
func TestItalianTypography(t *testing.T) {
	h := newHousehold()
	h.anna.BirthDate = date("1952-08-11")
	doc := compose(t, h.data(h.mario), Matrimonio)
	text, _ := json.Marshal(doc)
	if !strings.Contains(string(text), "nata l'11/08/1952") || strings.Contains(string(text), "il 11/") {
		t.Errorf("the spouse's birth date is not elided: %s", text)
	}
	b, err := Fees(FeeRequest{Types: []Type{EsistenzaInVita}, Exemption: fees.Exemption{}, ServiceCents: 0, Channel: Counter}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	issued := testNow.AddDate(0, 0, 11-testNow.Day())
	doc, err = Compose(h.data(h.mario), []Type{EsistenzaInVita}, nil, Issue{ID: "x", Issued: issued, Issuer: testIssuer, Fees: b})
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.Sections[0].Lines[0].Value; !strings.HasPrefix(v, "in vita alla data dell'11/") {
		t.Errorf("esistenza in vita on the 11th reads %q", v)
	}
	for _, r := range fees.Reasons() {
		if r.Code == fees.OtherReason {
			continue
		}
		b, err := Fees(FeeRequest{Types: []Type{Residenza}, Exemption: fees.Exemption{Code: r.Code}, ServiceCents: 0, Channel: Counter}, Policy{})
		if err != nil {
			continue // a code this request may not use is another test's business
		}
		doc, err := Compose(h.data(h.mario), []Type{Residenza}, nil, Issue{ID: "x", Issued: testNow, Issuer: testIssuer, Fees: b})
		if err != nil {
			t.Fatal(err)
		}
		words := []string{doc.Purpose}
		for _, f := range doc.Fees {
			words = append(words, f.Note)
		}
		all := strings.Join(words, " | ")
		for _, bad := range []string{"uso uso", "di art.", "del art.", "il 11/", "il 08/"} {
			if strings.Contains(all, bad) {
				t.Errorf("exemption %d prints %q: %s", r.Code, bad, all)
			}
		}
		if !strings.Contains(all, "dell'art.") {
			t.Errorf("exemption %d: no \"dell'art.\" in %s", r.Code, all)
		}
	}
}
