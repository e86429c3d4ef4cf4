package certificate

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/registry"
)

// lineOf returns the value of the first line labelled label in doc's
// sections, and whether there is one.
func lineOf(doc *Document, label string) (string, bool) {
	for _, s := range doc.Sections {
		for _, l := range s.Lines {
			if l.Label == label {
				return l.Value, true
			}
		}
	}
	return "", false
}

// TestForeignBirthPlace: a birth abroad reads "nata in EGITTO" when the
// registry keeps only the state, and "nata a IL CAIRO (EGITTO)" when it
// keeps the foreign town (issue 14 item 7; Italian puts "in" before a
// state, "a" before a town); a birth in Italy still reads "a MILANO (MI)".
func TestForeignBirthPlace(t *testing.T) {
	h := newHousehold()
	h.anna.BirthPlace = "Z336" // EGITTO
	doc := compose(t, h.data(h.anna), Nascita)
	if doc.Subject.BirthPrep != "in" || doc.Subject.BirthPlace != "EGITTO" {
		t.Errorf("subject born in Egypt, no town: got %q %q, want \"in\" \"EGITTO\"", doc.Subject.BirthPrep, doc.Subject.BirthPlace)
	}
	if v, _ := lineOf(doc, "Luogo di nascita"); v != "EGITTO" {
		t.Errorf("Luogo di nascita = %q, want EGITTO", v)
	}
	h.anna.BirthLocality = "Il Cairo"
	doc = compose(t, h.data(h.anna), Nascita)
	if doc.Subject.BirthPrep != "" || doc.Subject.BirthPlace != "IL CAIRO (EGITTO)" {
		t.Errorf("subject born in Cairo: got %q %q, want no preposition (\"a\") and \"IL CAIRO (EGITTO)\"", doc.Subject.BirthPrep, doc.Subject.BirthPlace)
	}
	// The spouse line on Mario's marriage certificate names Anna's birth
	// the same way.
	doc = compose(t, h.data(h.mario), Matrimonio)
	if v, _ := lineOf(doc, "Coniuge"); !strings.Contains(v, "nata il 03/04/1952 a IL CAIRO (EGITTO)") {
		t.Errorf("spouse line %q lacks \"nata il 03/04/1952 a IL CAIRO (EGITTO)\"", v)
	}
	h.anna.BirthLocality = ""
	doc = compose(t, h.data(h.mario), Matrimonio)
	if v, _ := lineOf(doc, "Coniuge"); !strings.Contains(v, "nata il 03/04/1952 in EGITTO") {
		t.Errorf("spouse line %q lacks \"nata il 03/04/1952 in EGITTO\"", v)
	}
	doc = compose(t, h.data(h.mario), Nascita)
	if doc.Subject.BirthPrep != "" || doc.Subject.BirthPlace != "MILANO (MI)" {
		t.Errorf("subject born in Milan: got %q %q", doc.Subject.BirthPrep, doc.Subject.BirthPlace)
	}
}

// TestMarriageEnding: a marriage or civil union certificate says how and
// when it ended, from the registry's events (divorce, dissolution) and the
// other party's death, whichever came first after the celebration (ANPR
// tables 31 and 43); a divorce before a later marriage does not end it;
// a lasting marriage has no such line.
func TestMarriageEnding(t *testing.T) {
	cases := []struct {
		name  string
		setup func(h *household)
		t     Type
		want  string // "" for no Cessazione line
	}{
		{"lasting", func(h *household) {}, Matrimonio, ""},
		{"divorce", func(h *household) {
			h.mario.CivilStatus = registry.Divorced
			h.extra = append(h.extra, &registry.Event{Kind: registry.Divorce, Date: date("2004-03-12"), Persons: []registry.PersonID{1},
				Note: "cessazione degli effetti civili del matrimonio", Act: "sentenza Tribunale di Milano n. 321/2004"})
		}, Matrimonio, "per divorzio (cessazione degli effetti civili del matrimonio) il 12/03/2004, sentenza Tribunale di Milano n. 321/2004"},
		{"wife's death, elided date", func(h *household) {
			h.mario.CivilStatus = registry.Widowed
			h.anna.DeathDate = date("2019-08-11")
		}, Matrimonio, "per morte della coniuge l'11/08/2019"},
		{"death after divorce", func(h *household) {
			h.mario.CivilStatus = registry.Divorced
			h.anna.DeathDate = date("2019-08-11")
			h.extra = append(h.extra, &registry.Event{Kind: registry.Divorce, Date: date("2004-03-08"), Persons: []registry.PersonID{1}})
		}, Matrimonio, "per divorzio l'08/03/2004"},
		{"divorce before this marriage", func(h *household) {
			h.extra = append(h.extra, &registry.Event{Kind: registry.Divorce, Date: date("1975-01-20"), Persons: []registry.PersonID{1}})
		}, Matrimonio, ""},
		{"union dissolved", func(h *household) {
			h.mario.CivilStatus = registry.CivilUnion // the rules want it; the record is what is certified
			h.marriage.Kind, h.marriage.Date = registry.CivilUnionFormed, date("2017-02-01")
			h.extra = append(h.extra, &registry.Event{Kind: registry.UnionDissolved, Date: date("2021-05-04"), Persons: []registry.PersonID{1}})
		}, UnioneCivile, "per scioglimento dell'unione civile il 04/05/2021"},
		{"partner's death", func(h *household) {
			h.mario.CivilStatus = registry.CivilUnion
			h.marriage.Kind, h.marriage.Date = registry.CivilUnionFormed, date("2017-02-01")
			h.anna.DeathDate = date("2023-11-08")
		}, UnioneCivile, "per morte dell'altra parte l'08/11/2023"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHousehold()
			c.setup(h)
			d := h.data(h.mario)
			doc := compose(t, d, c.t)
			got, ok := lineOf(doc, "Cessazione")
			if got != c.want || ok != (c.want != "") {
				t.Errorf("Cessazione = %q (present %v), want %q", got, ok, c.want)
			}
			if c.want != "" && !strings.Contains(doc.Facts[len(doc.Facts)-1].Value, c.want) {
				t.Errorf("the sealed fact %q does not say how it ended", doc.Facts[len(doc.Facts)-1].Value)
			}
		})
	}
}

// TestConvivenzaAuthentication: the contratto di convivenza certificate
// names the notaio or avvocato who authenticated the contract and the date
// (L. 76/2016 art. 1 c. 51-52).
func TestConvivenzaAuthentication(t *testing.T) {
	for _, a := range []registry.Authentication{
		{Professional: registry.Notary, Name: "Carla Ferri", Date: date("2019-10-03"), Reference: "rep. n. 18234"},
		{Professional: registry.Lawyer, Name: "Luca Riva", Date: date("2020-08-11")},
	} {
		h := newHousehold()
		h.marriage.Kind, h.marriage.Date = registry.CohabitationPact, date("2019-10-10")
		h.marriage.Authentication = &a
		doc := compose(t, h.data(h.mario), ContrattoDiConvivenza)
		got, _ := lineOf(doc, "Autenticato da")
		want := string(a.Professional) + " " + a.Name + ", in data " + a.Date.Italian()
		if a.Reference != "" {
			want += ", " + a.Reference
		}
		if got != want {
			t.Errorf("Autenticato da = %q, want %q", got, want)
		}
		if _, ok := lineOf(doc, "Cessazione"); ok {
			t.Error("a contratto di convivenza got a marriage's Cessazione line")
		}
	}
}

// TestKinshipWordsDistinct: on a stato di famiglia con rapporti di
// parentela, each ANPR table 5 code has its own words, so a family with
// a grandchild, a sibling's child, an in-law's child and a "nipote" of
// ANPR's unqualified code 81 shows four different words.
func TestKinshipWordsDistinct(t *testing.T) {
	h := newHousehold()
	rels := []registry.Relationship{registry.Grandchild, registry.NephewNiece, registry.NephewNieceInLaw, registry.Nephew,
		registry.UncleAunt, registry.UncleAuntInLaw}
	d := h.data(h.mario)
	for i, r := range rels {
		p := *h.giulia
		p.ID = registry.PersonID(10 + i)
		p.GivenNames = "Nipote" + string(rune('A'+i))
		p.Relationship = r
		d.Members = append(d.Members, &p)
	}
	doc := compose(t, d, StatoDiFamigliaConParentela)
	seen := map[string]string{}
	for _, row := range doc.Sections[0].Table.Rows[3:] {
		w := row[len(row)-1]
		if prev, ok := seen[w]; ok {
			t.Errorf("%s and %s are both printed %q", prev, row[0], w)
		}
		seen[w] = row[0]
	}
	for _, want := range []string{"nipote (discendente)", "nipote (collaterale)", "nipote (affine)", "nipote", "zia (collaterale)", "zia (affine)"} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no row reads %q: %v", want, seen)
		}
	}
}

func officeBy(p *registry.Person, force bool, types ...Type) Request {
	return Request{Types: types, Requester: Requester{CF: p.CF, Person: p}, Channel: Office, Now: testNow, Force: force}
}

// TestCittadinanzaSpecialCodes: ANPR's citizenship codes that name no
// state (stati_esteri.csv CODISTAT 997 "in corso di definizione", 998 "non
// attribuibile", 999 "apolide") on the cittadinanza certificate, per ANPR's
// controls (italia/anpr src/controllo-certificati/CERTIFICATO_cittadinanza.rst):
// 997 and 998 are refused even when forced; 999 is a subject who "non è
// cittadino italiano", refused unless the officer forces it
// (forzaCertificazione), and then the certificate says "apolide"; a forced
// certificate for a foreigner names the state.
func TestCittadinanzaSpecialCodes(t *testing.T) {
	cases := []struct {
		name   string
		cs     []string
		force  bool
		reason string
		words  string
	}{
		{"in definizione", []string{registry.CitizenshipPending}, false, ReasonCitizenshipUndetermined, ""},
		{"in definizione, forced", []string{registry.CitizenshipPending}, true, ReasonCitizenshipUndetermined, ""},
		{"non attribuibile, forced", []string{registry.CitizenshipUnassignable}, true, ReasonCitizenshipUndetermined, ""},
		{"Italian and in definizione", []string{registry.Italy, registry.CitizenshipPending}, true, ReasonCitizenshipUndetermined, ""},
		{"no data, forced", nil, true, ReasonCitizenshipUndetermined, ""},
		{"apolide", []string{registry.Stateless}, false, ReasonNotItalian, ""},
		{"apolide, forced", []string{registry.Stateless}, true, "", "apolide"},
		{"foreigner", []string{"Z336"}, false, ReasonNotItalian, ""},
		{"foreigner, forced", []string{"Z336"}, true, "", "EGITTO"},
		{"two foreign, forced", []string{"Z336", "Z110"}, true, ReasonSeveralCitizenships, ""},
		{"Italian", []string{registry.Italy}, false, "", "italiana"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHousehold()
			h.mario.Citizenships = c.cs
			d := h.data(h.mario)
			_, err := Check(d, officeBy(h.mario, c.force, Cittadinanza))
			if c.reason != "" {
				if r, ok := AsRefusal(err); !ok || r.Reason != c.reason {
					t.Fatalf("got %v, want refusal %s", err, c.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := lineOf(compose(t, d, Cittadinanza), "Cittadinanza"); v != c.words {
				t.Errorf("Cittadinanza = %q, want %q", v, c.words)
			}
		})
	}
}

// TestForzaCertificazione: ANPR's forzaCertificazione lets the registry
// officer issue despite the conditions ANPR marks "forzaCertificazione
// assente o uguale a 0" (a partly certifiable record, an open procedure),
// only at the office; a shop counter or a kiosk asking to force is refused
// before anything else, and conditions ANPR never forces (a deceased
// subject) stay refused.
func TestForzaCertificazione(t *testing.T) {
	partly := func(p *registry.Person) { p.PartlyCertifiable = true }
	open := func(p *registry.Person) { p.ProcedureOpen = date("2026-10-01") }
	dead := func(p *registry.Person) { p.DeathDate = date("2026-10-01") }
	cases := []struct {
		name   string
		set    func(*registry.Person)
		ch     Channel
		force  bool
		reason string
	}{
		{"partly certifiable", partly, Office, false, ReasonPartlyCertifiable},
		{"partly certifiable, forced", partly, Office, true, ""},
		{"open procedure", open, Office, false, ReasonOpenProcedure},
		{"open procedure, forced", open, Office, true, ""},
		{"deceased, forced", dead, Office, true, ReasonSubjectDeceased},
		{"forced at a shop", partly, Counter, true, ReasonForceNotAllowed},
		{"forced at a kiosk", func(*registry.Person) {}, SelfService, true, ReasonForceNotAllowed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHousehold()
			c.set(h.mario)
			req := officeBy(h.mario, c.force, StatoCivile)
			req.Channel = c.ch
			_, err := Check(h.data(h.mario), req)
			if c.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if r, ok := AsRefusal(err); !ok || r.Reason != c.reason {
				t.Fatalf("got %v, want refusal %s", err, c.reason)
			}
		})
	}
}
