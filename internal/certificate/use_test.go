package certificate

import (
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/places"
)

// TestUseReplacesArt40: a certificate for a court, for an immigration
// procedure or for abroad carries ANPR's wording of that use in place of
// the art. 40 sentence; the ordinary use keeps it.
func TestUseReplacesArt40(t *testing.T) {
	h := newHousehold()
	d := h.data(h.mario)
	for _, c := range []struct {
		use  Use
		ex   fees.Exemption
		want string
	}{
		{UseOrdinary, fees.Exemption{}, Art40Notice},
		{UseGiudiziario, fees.Exemption{Code: 3}, "Ai sensi dell'art. 40 DPR 445/2000 il presente certificato è rilasciato per cause giudiziarie."},
		{UseImmigrazione, fees.Exemption{Code: 99, Text: "art. 5 D.Lgs. 286/1998"}, "Certificato rilasciato per procedimenti disciplinati dalle norme sull'immigrazione."},
		{UseEstero, fees.Exemption{}, "Certificato rilasciato per l'estero."},
	} {
		b, err := Fees(FeeRequest{Types: []Type{Residenza}, Exemption: c.ex, Channel: Counter, Use: string(c.use)}, Policy{})
		if err != nil {
			t.Fatalf("%s: %v", c.use, err)
		}
		doc, err := Compose(d, []Type{Residenza}, places.Default(), Issue{ID: "x", Protocol: "2026/0000001", Issued: testNow, Issuer: testIssuer, Fees: b, Use: c.use})
		if err != nil {
			t.Fatal(err)
		}
		if doc.Notices[0] != c.want {
			t.Errorf("%s: notices %q", c.use, doc.Notices)
		}
		if c.use != UseOrdinary && slices.Contains(doc.Notices, Art40Notice) {
			t.Errorf("%s: the art. 40 sentence is still printed", c.use)
		}
	}
}

// TestUseConstraints: ANPR refuses a certificate for a court or an
// immigration procedure that is not exempt from bollo; a table 39 code of
// another purpose conflicts with the use; an unknown use is refused.
func TestUseConstraints(t *testing.T) {
	for _, c := range []struct {
		use    string
		ex     fees.Exemption
		marca  string
		law    bool
		reason string
	}{
		{"giudiziario", fees.Exemption{}, "", false, ReasonUseConflictsExemption},               // in bollo
		{"giudiziario", fees.Exemption{}, "01234567890123", false, ReasonUseConflictsExemption}, // paid by marca
		{"giudiziario", fees.Exemption{Code: 9}, "", false, ReasonUseConflictsExemption},        // foreign pension
		{"giudiziario", fees.Exemption{Code: 8}, "", false, ReasonUseConflictsExemption},        // street renaming
		{"giudiziario", fees.Exemption{Code: 3}, "", false, ""},                                 // uso processuale
		{"giudiziario", fees.Exemption{Code: 5}, "", false, ""},                                 // amministrazione di sostegno
		{"giudiziario", fees.Exemption{Code: 7}, "", false, ""},                                 // divorce
		{"giudiziario", fees.Exemption{Code: 99, Text: "art. 10 L. 533/1973"}, "", false, ""},   // another law
		{"immigrazione", fees.Exemption{}, "", false, ReasonUseConflictsExemption},              // in bollo
		{"immigrazione", fees.Exemption{Code: 3}, "", false, ReasonUseConflictsExemption},       // a court's
		{"immigrazione", fees.Exemption{Code: 6}, "", false, ""},                                // minors
		{"estero", fees.Exemption{}, "", false, ""},                                             // in bollo abroad
		{"estero", fees.Exemption{Code: 9}, "", false, ""},                                      // foreign pension
		{"estero", fees.Exemption{Code: 3}, "", false, ReasonUseConflictsExemption},             // an Italian court's
		{"estero", fees.Exemption{Code: 10}, "", false, ReasonUseConflictsExemption},            // between Italian PAs
		{"ordinario", fees.Exemption{Code: 9}, "", false, ""},                                   // ordinary use, any code
		{" GIUDIZIARIO ", fees.Exemption{Code: 4}, "", false, ""},                               // spelled loosely
		{"processuale", fees.Exemption{Code: 3}, "", false, ReasonUnknownUse},                   // not ANPR's
		{"giudiziario", fees.Exemption{}, "", true, ""},                                         // nascita exempt by the city's law choice
	} {
		_, err := Fees(FeeRequest{Types: []Type{Nascita}, Exemption: c.ex, Channel: Counter, Use: c.use, Contrassegno: c.marca}, Policy{LawExemption: c.law})
		if c.reason == "" {
			if err != nil {
				t.Errorf("%q %+v: %v", c.use, c.ex, err)
			}
			continue
		}
		if r, ok := AsRefusal(err); !ok || r.Reason != c.reason || !strings.HasSuffix(r.Message, ".") {
			t.Errorf("%q %+v marca %q: %v, want %s", c.use, c.ex, c.marca, err, c.reason)
		}
	}
}

// TestContrassegnoOnlyAtCounter: a marca da bollo is applied by the shop
// that sold it; self-service and the registry office pay virtually.
func TestContrassegnoOnlyAtCounter(t *testing.T) {
	const id = "01234567890123"
	for _, ch := range []Channel{SelfService, Office} {
		_, err := Fees(FeeRequest{Types: []Type{Residenza}, Channel: ch, Contrassegno: id}, Policy{})
		if !isRefusal(err, ReasonContrassegnoNotAtCounter) {
			t.Errorf("%s: %v", ch, err)
		}
	}
	b, err := Fees(FeeRequest{Types: []Type{Residenza}, Channel: Counter, Contrassegno: id}, Policy{BolloAuthorisation: "n. 1/2020 del 02/01/2020"})
	if err != nil || b.Contrassegno != id || !strings.Contains(b.Purpose, "contrassegno telematico n. "+id) || strings.Contains(b.Purpose, "virtuale") {
		t.Errorf("counter: %+v %v", b, err)
	}
	if _, err := Fees(FeeRequest{Types: []Type{Residenza}, Channel: Counter, Contrassegno: "1234"}, Policy{}); !isRefusal(err, fees.ReasonContrassegnoInvalid) {
		t.Errorf("short id: %v", err)
	}
}
