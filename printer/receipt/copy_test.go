package receipt

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/printer/escpos"
)

// TestCopyMark: a reprint's receipt says COPIA under the header, big; an
// original does not.
func TestCopyMark(t *testing.T) {
	p, err := escpos.Lookup("tm-t20", 80)
	if err != nil {
		t.Fatal(err)
	}
	for lang, mark := range map[Lang]string{Italian: "COPIA", English: "COPY (COPIA)"} {
		r := Demo(demoTime, lang)
		orig, err := Encode(r, p)
		if err != nil {
			t.Fatal(err)
		}
		if doc := readBack(t, orig, p, nil, true, r.VerifyURL); strings.Contains(doc.Text(), "COPIA") || strings.Contains(doc.Text(), "COPY") {
			t.Errorf("%s: an original says it is a copy:\n%s", lang, doc.Text())
		}
		r.Copy = true
		got, err := Encode(r, p)
		if err != nil {
			t.Fatal(err)
		}
		doc := readBack(t, got, p, []string{mark}, true, r.VerifyURL)
		if l, ok := doc.Find(mark); !ok || !l.Bold || l.Width != 2 || l.Align != 1 {
			t.Errorf("%s: the copy's mark is %+v, want bold, centred, double", lang, l)
		}
	}
}

// TestClaimCollect: a self-service kiosk's claim receipt says nothing was
// paid, that the Comune confirms the identity first, and that the
// certificate is collected at the kiosk with the code and the CIE.
func TestClaimCollect(t *testing.T) {
	p, err := escpos.Lookup("tm-t20", 80)
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[Lang][]string{
		Italian: {"Non hai pagato nulla", "avrà confermato la tua identità", "ritiralo a questo chiosco con il codice", "la tua CIE"},
		English: {"Nothing has been paid", "confirmed your identity", "collect it at this kiosk with the code", "your CIE"},
	} {
		c := DemoClaim(demoTime, lang)
		c.Collect = true
		got, err := EncodeClaim(c, p)
		if err != nil {
			t.Fatal(err)
		}
		textGolden(t, "paper_claim_collect_"+string(lang), got, p)
		doc := readBack(t, got, p, nil, true, c.Code)
		text := strings.Join(strings.Fields(doc.Text()), " ")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the claim receipt does not say %q:\n%s", lang, w, text)
			}
		}
	}
}

// TestClaimCollectPaid: paid, then the hub went away: the claim receipt
// says it was paid, and where and how it is collected.
func TestClaimCollectPaid(t *testing.T) {
	p, err := escpos.Lookup("tm-t20", 80)
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[Lang][]string{
		Italian: {"Hai già pagato", "ritiralo a questo chiosco con il codice", "la tua CIE"},
		English: {"You have paid", "collect it at this kiosk with the code", "your CIE"},
	} {
		c := DemoClaim(demoTime, lang)
		c.Collect, c.Paid = true, true
		got, err := EncodeClaim(c, p)
		if err != nil {
			t.Fatal(err)
		}
		doc := readBack(t, got, p, nil, true, c.Code)
		text := strings.Join(strings.Fields(doc.Text()), " ")
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the claim receipt does not say %q:\n%s", lang, w, text)
			}
		}
		if strings.Contains(text, "Non hai pagato") || strings.Contains(text, "Nothing has been paid") {
			t.Errorf("%s: a paid claim says nothing was paid:\n%s", lang, text)
		}
	}
}
