package certificate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/registry"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var testIssuer = Issuer{Comune: "Comune di Milano", Belfiore: "F205", Office: "Servizi Civici — Ufficio Anagrafe",
	Address: "Via Larga 12, 20122 Milano", Officer: "L'Ufficiale d'Anagrafe", Place: "Milano"}

func compose(t testing.TB, d *SubjectData, types ...Type) *Document {
	t.Helper()
	b, err := Fees(FeeRequest{Types: types, Exemption: fees.Exemption{}, ServiceCents: 200, Channel: Counter}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Compose(d, types, places.Default(), Issue{ID: "abcdefghijklmnop", Protocol: "2026/0000123",
		Issued: testNow, Issuer: testIssuer, VerifyURL: "https://hub.example/v/abcdefghijklmnop", Fees: b})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestComposeGolden(t *testing.T) {
	cases := []struct {
		name  string
		setup func(h *household) *SubjectData
		types []Type
	}{
		{"residenza", func(h *household) *SubjectData { return h.data(h.mario) }, []Type{Residenza}},
		{"contestuale", func(h *household) *SubjectData { return h.data(h.mario) }, []Type{StatoDiFamiglia, Residenza, Cittadinanza}},
		{"parentela", func(h *household) *SubjectData { return h.data(h.mario) }, []Type{StatoDiFamigliaConParentela}},
		{"famiglia_stato_civile", func(h *household) *SubjectData { return h.data(h.anna) }, []Type{StatoDiFamigliaEStatoCivile}},
		{"matrimonio", func(h *household) *SubjectData { return h.data(h.anna) }, []Type{Matrimonio}},
		{"nascita", func(h *household) *SubjectData { return h.data(h.mario) }, []Type{Nascita}},
		{"stato_civile", func(h *household) *SubjectData { return h.data(h.mario) }, []Type{StatoCivile, EsistenzaInVita}},
		{"stato_libero", func(h *household) *SubjectData { return h.data(h.giulia) }, []Type{StatoLibero}},
		{"aire", func(h *household) *SubjectData {
			toAIRE(h, h.mario)
			return h.data(h.mario)
		}, []Type{ResidenzaAIRE, StatoDiFamigliaAIRE}},
		{"convivenza", func(h *household) *SubjectData {
			h.family.Kind, h.family.Name = registry.Convivenza, "Istituto San Giuseppe"
			h.mario.Relationship = registry.ConvivenzaHead
			return h.data(h.mario)
		}, []Type{ResidenzaInConvivenza}},
		{"unione_civile", func(h *household) *SubjectData {
			h.mario.CivilStatus = registry.CivilUnion
			h.marriage.Kind = registry.CivilUnionFormed
			return h.data(h.mario)
		}, []Type{UnioneCivile}},
		{"contratto", func(h *household) *SubjectData {
			h.marriage.Kind, h.marriage.Act = registry.CohabitationPact, "prot. 4567/2019"
			return h.data(h.mario)
		}, []Type{ContrattoDiConvivenza}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.setup(newHousehold())
			if _, err := Check(d, counterBy(d.Person, c.types...)); err != nil {
				t.Fatalf("the golden case is not eligible: %v", err)
			}
			doc := compose(t, d, c.types...)
			got, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", c.name+".golden.json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("document differs from %s (go test -update to accept):\n%s", path, got)
			}
		})
	}
}

func TestComposeInvariants(t *testing.T) {
	h := newHousehold()
	d := h.data(h.mario)
	for _, types := range [][]Type{{Residenza}, {StatoDiFamiglia, Residenza}, {StatoDiFamigliaConParentela}, {Nascita}, {Matrimonio}} {
		doc := compose(t, d, types...)
		if doc.Notices[0] != Art40Notice {
			t.Errorf("%v: notices %q lack the art. 40 sentence", types, doc.Notices)
		}
		if len(doc.Facts) != 2+len(types) || doc.Facts[0].Value != "ROSSI MARIO" || doc.Facts[1].Value != h.mario.CF {
			t.Errorf("%v: facts %v", types, doc.Facts)
		}
		text, _ := json.Marshal(doc)
		for _, never := range []string{"adottat", "profession", "titolo di studio"} {
			if strings.Contains(strings.ToLower(string(text)), never) {
				t.Errorf("%v: the document mentions %q", types, never)
			}
		}
		if doc.Subject.BirthPlace != "MILANO (MI)" || doc.Purpose == "" || len(doc.Fees) != 2 {
			t.Errorf("%v: subject %+v purpose %q fees %v", types, doc.Subject, doc.Purpose, doc.Fees)
		}
	}
	if got := compose(t, d, StatoDiFamiglia, Residenza).Title; got != "CERTIFICATO CONTESTUALE DI RESIDENZA E STATO DI FAMIGLIA" {
		t.Errorf("title %q", got)
	}
	if got := Title([]Type{Nascita, Cittadinanza, Residenza}); got != "CERTIFICATO CONTESTUALE DI NASCITA, CITTADINANZA E RESIDENZA" {
		t.Errorf("title %q", got)
	}
	if f := compose(t, d, Residenza).Facts[2]; f.Key != "residenza" || f.Value != "Via Giuseppe Verdi 12, 20121 MILANO (MI)" {
		t.Errorf("residenza fact %v", f)
	}
}

func TestFeesByType(t *testing.T) {
	cases := []struct {
		types []Type
		pol   Policy
		bollo int64
	}{
		{[]Type{Residenza}, Policy{}, fees.BolloCents},
		// ANPR issues them in bollo: the exemption is the city's choice.
		{[]Type{Nascita}, Policy{}, fees.BolloCents},
		{[]Type{Matrimonio}, Policy{}, fees.BolloCents},
		{[]Type{UnioneCivile}, Policy{}, fees.BolloCents},
		{[]Type{Nascita}, Policy{LawExemption: true}, 0},
		{[]Type{Matrimonio, Nascita}, Policy{LawExemption: true}, 0},
		{[]Type{UnioneCivile}, Policy{LawExemption: true}, 0},
		{[]Type{Nascita, Residenza}, Policy{LawExemption: true}, fees.BolloCents}, // an anagrafe part brings the bollo back
		{[]Type{StatoCivile}, Policy{}, fees.BolloCents},
	}
	for _, c := range cases {
		b, err := Fees(FeeRequest{Types: c.types, Exemption: fees.Exemption{}, ServiceCents: 0, Channel: Counter}, c.pol)
		if err != nil || b.Lines[0].Cents != c.bollo {
			t.Errorf("%v %+v: bollo %v, want %d (%v)", c.types, c.pol, b.Lines, c.bollo, err)
		}
	}
	if _, err := Fees(FeeRequest{Types: []Type{Residenza}, Exemption: fees.Exemption{Code: 99}, ServiceCents: 0, Channel: Counter}, Policy{}); !isRefusal(err, fees.ReasonExemptionTextEmpty) {
		t.Errorf("missing reason: %v", err)
	}
	if _, err := Fees(FeeRequest{Types: []Type{Residenza}, Exemption: fees.Exemption{}, ServiceCents: 300, Channel: Counter}, Policy{ServiceCapCents: 250}); !isRefusal(err, fees.ReasonServiceFeeAboveCap) {
		t.Errorf("fee above cap: %v", err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := NewID(nil)
		if err != nil || len(id) != 16 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz234567") != "" || seen[id] {
			t.Fatalf("id %q %v", id, err)
		}
		seen[id] = true
	}
	id, _ := NewID(bytes.NewReader(make([]byte, 10)))
	if id != "aaaaaaaaaaaaaaaa" {
		t.Errorf("zero bytes gave %q", id)
	}
}

func BenchmarkRulesFeesCompose(b *testing.B) {
	h := newHousehold()
	d := h.data(h.mario)
	names := places.Default()
	req := counterBy(h.stranger, Residenza, StatoDiFamiglia)
	b.ReportAllocs()
	for b.Loop() {
		types, err := Check(d, req)
		if err != nil {
			b.Fatal(err)
		}
		br, err := Fees(FeeRequest{Types: types, Exemption: fees.Exemption{}, ServiceCents: 200, Channel: Counter}, Policy{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compose(d, types, names, Issue{ID: "abcdefghijklmnop", Protocol: "2026/0000123", Issued: testNow, Issuer: testIssuer, Fees: br}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestShopFeeNotOnCertificate: the shop's service fee is the shop's charge,
// printed on its receipt; the comune's certificate lists only the comune's
// bollo and diritti, and its total is theirs alone.
func TestShopFeeNotOnCertificate(t *testing.T) {
	h := newHousehold()
	b, err := Fees(FeeRequest{Types: []Type{Residenza}, Exemption: fees.Exemption{}, ServiceCents: 200, Channel: Counter}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	var service int64
	for _, l := range b.Lines {
		if l.Kind == fees.Service {
			service += l.Cents
		}
	}
	if service != 200 {
		t.Fatalf("the breakdown carries a service fee of %d cents, want 200: the test needs one", service)
	}
	doc := compose(t, h.data(h.mario), Residenza)
	var total int64
	for _, f := range doc.Fees {
		total += f.Cents
		if strings.Contains(strings.ToLower(f.Label), "servizio") || strings.Contains(strings.ToLower(f.Label), "esercente") {
			t.Errorf("the certificate prints the shop's fee line %+v", f)
		}
	}
	if total != fees.BolloCents+fees.DirittiCents {
		t.Errorf("the certificate's fees add up to %d cents, want bollo and diritti only (%d)", total, fees.BolloCents+fees.DirittiCents)
	}
}
