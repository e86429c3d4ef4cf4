package certificate

import (
	"errors"
	"github.com/sportello/sportello/internal/fees"
	"strconv"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/places/anprtest"
	"github.com/sportello/sportello/internal/registry"
)

func TestTypesMatchANPR(t *testing.T) {
	byCode := map[int]string{}
	for _, r := range anprtest.Rows(t, "tipo_certificato.csv") {
		code, _ := strconv.Atoi(r[0])
		byCode[code] = strings.ToUpper(r[1])
	}
	anpr := 0
	for _, s := range Specs() {
		if !s.Type.ANPR() {
			// Sportello's own types must keep clear of every ANPR code.
			if _, taken := byCode[s.Code]; taken || s.Code < LocalCodeBase {
				t.Errorf("%s: code %d may collide with ANPR's table", s.Type, s.Code)
			}
			continue
		}
		anpr++
		if got := byCode[s.Code]; got != s.Subject {
			t.Errorf("%s: code %d is %q in ANPR's table, we print %q", s.Type, s.Code, got, s.Subject)
		}
		if pt, err := ParseType(string(s.Type)); err != nil || pt != s.Type {
			t.Errorf("ParseType(%q) = %q, %v", s.Type, pt, err)
		}
	}
	if anpr != 15 {
		t.Errorf("%d ANPR types, want 15", anpr)
	}
	for _, local := range []Type{Morte, ResidenzaStorica, StatoDiFamigliaStorico} {
		if pt, err := ParseType(string(local)); err != nil || pt != local || local.ANPR() {
			t.Errorf("ParseType(%s) = %q, %v", local, pt, err)
		}
	}
	if _, err := ParseType("morte_presunta"); !isRefusal(err, ReasonUnknownType) {
		t.Errorf("ParseType(morte_presunta): %v", err)
	}
}

func isRefusal(err error, reason string) bool {
	r, ok := AsRefusal(err)
	return ok && r.Reason == reason
}

type ruleCase struct {
	name  string
	setup func(h *household) (*SubjectData, Request)
	want  string // refusal reason; "" when the certificate may be issued
}

// simple is the common case: subject chosen and changed, requested at a
// counter by the subject.
func simple(name string, want string, pick func(h *household) *registry.Person, types ...Type) ruleCase {
	return ruleCase{name, func(h *household) (*SubjectData, Request) {
		p := pick(h)
		return h.data(p), counterBy(p, types...)
	}, want}
}

func mario(h *household) *registry.Person  { return h.mario }
func giulia(h *household) *registry.Person { return h.giulia }

func with(pick func(*household) *registry.Person, change func(*household, *registry.Person)) func(*household) *registry.Person {
	return func(h *household) *registry.Person {
		p := pick(h)
		change(h, p)
		return p
	}
}

func deceased(_ *household, p *registry.Person) { p.DeathDate = date("2026-01-10") }
func toAIRE(_ *household, p *registry.Person) {
	p.AIRE = true
	p.Residences = append(p.Residences[:len(p.Residences):len(p.Residences)], registry.Residence{
		Address: registry.Address{Street: "Rue de Rivoli", Number: "12", CAP: "75001", Comune: "Z110", Locality: "Paris"},
		From:    date("2020-01-01"), AIREComune: "F205"})
	p.Residences[len(p.Residences)-2].To = date("2019-12-31")
}

// pastAIRE puts an AIRE period from..to before p's current residence in
// Milan.
func pastAIRE(p *registry.Person, from, to string) {
	cur := p.Residences[len(p.Residences)-1]
	p.Residences = []registry.Residence{{
		Address: registry.Address{Street: "Rue de Rivoli", Number: "12", CAP: "75001", Comune: "Z110", Locality: "Paris"},
		From:    date(from), To: date(to), AIREComune: "F205"}, cur}
}
func openProcedure(_ *household, p *registry.Person) { p.ProcedureOpen = date("2026-11-02") }
func partly(_ *household, p *registry.Person)        { p.PartlyCertifiable = true }
func status(s registry.CivilStatus) func(*household, *registry.Person) {
	return func(_ *household, p *registry.Person) { p.CivilStatus = s }
}
func cancelled(_ *household, p *registry.Person) {
	p.Residences[len(p.Residences)-1].To = date("2025-01-01")
}

func TestRules(t *testing.T) {
	h0 := newHousehold()
	_ = h0
	cases := []ruleCase{
		// nascita
		simple("nascita", "", mario, Nascita),
		simple("nascita deceased", ReasonSubjectDeceased, with(mario, deceased), Nascita),
		simple("nascita partly certifiable", ReasonPartlyCertifiable, with(mario, partly), Nascita),
		simple("nascita AIRE born in Italy", "", with(mario, toAIRE), Nascita),
		simple("nascita AIRE born abroad", ReasonBornAbroadAIRE, with(giulia, toAIRE), Nascita),
		// matrimonio
		simple("matrimonio", "", mario, Matrimonio),
		simple("matrimonio divorced", "", with(mario, status(registry.Divorced)), Matrimonio),
		simple("matrimonio single", ReasonNoMarriage, giulia, Matrimonio),
		simple("matrimonio civil union", ReasonNoMarriage, with(mario, status(registry.CivilUnion)), Matrimonio),
		{"matrimonio without record", func(h *household) (*SubjectData, Request) {
			d := h.data(h.mario)
			d.Events = nil
			return d, counterBy(h.mario, Matrimonio)
		}, ReasonNoMarriage},
		{"matrimonio spouse missing", func(h *household) (*SubjectData, Request) {
			d := h.data(h.mario)
			d.Others = nil
			return d, counterBy(h.mario, Matrimonio)
		}, ReasonNoMarriage},
		// open procedure (ANPR: no certificate while one is open)
		simple("residenza with an open procedure", ReasonOpenProcedure, with(mario, openProcedure), Residenza),
		simple("cittadinanza with an open procedure", ReasonOpenProcedure, with(mario, openProcedure), Cittadinanza),
		{"open procedure of a stranger at a counter", func(h *household) (*SubjectData, Request) {
			openProcedure(h, h.mario)
			return h.data(h.mario), counterBy(h.minorStranger, StatoDiFamigliaConParentela)
		}, ReasonRequesterNotAllowed},
		// matrimonio and AIRE (ANPR: refused when the marriage happened
		// while the person was already in AIRE)
		simple("matrimonio AIRE married before leaving", "", with(mario, toAIRE), Matrimonio),
		{"matrimonio while in AIRE", func(h *household) (*SubjectData, Request) {
			toAIRE(h, h.mario)
			h.marriage.Date = date("2021-03-06")
			return h.data(h.mario), counterBy(h.mario, Matrimonio)
		}, ReasonEventDuringAIRE},
		{"matrimonio during a past AIRE period", func(h *household) (*SubjectData, Request) {
			pastAIRE(h.mario, "1977-01-01", "1979-12-31")
			return h.data(h.mario), counterBy(h.mario, Matrimonio)
		}, ReasonEventDuringAIRE},
		{"matrimonio the day after a past AIRE period", func(h *household) (*SubjectData, Request) {
			pastAIRE(h.mario, "1975-01-01", "1978-06-09")
			return h.data(h.mario), counterBy(h.mario, Matrimonio)
		}, ""},
		// cittadinanza
		simple("cittadinanza", "", mario, Cittadinanza),
		simple("cittadinanza AIRE", "", with(mario, toAIRE), Cittadinanza),
		simple("cittadinanza foreigner", ReasonNotItalian, with(mario, func(_ *household, p *registry.Person) { p.Citizenships = []string{"Z110"} }), Cittadinanza),
		simple("cittadinanza two citizenships", ReasonSeveralCitizenships, with(mario, func(_ *household, p *registry.Person) { p.Citizenships = []string{registry.Italy, "Z110"} }), Cittadinanza),
		simple("cittadinanza Italy recorded twice", "", with(mario, func(_ *household, p *registry.Person) { p.Citizenships = []string{registry.Italy, registry.Italy} }), Cittadinanza),
		// ANPR: not issued "se i dati della cittadinanza sono integralmente
		// assenti", a condition of its own (CERTIFICATO_cittadinanza.rst).
		simple("cittadinanza unknown", ReasonCitizenshipUndetermined, with(mario, func(_ *household, p *registry.Person) { p.Citizenships = nil }), Cittadinanza),
		// esistenza in vita
		simple("esistenza in vita", "", mario, EsistenzaInVita),
		simple("esistenza in vita deceased", ReasonSubjectDeceased, with(mario, deceased), EsistenzaInVita),
		simple("esistenza in vita AIRE", ReasonNotResident, with(mario, toAIRE), EsistenzaInVita),
		// residenza
		simple("residenza", "", mario, Residenza),
		simple("residenza partly certifiable", "", with(mario, partly), Residenza),
		simple("residenza AIRE", ReasonNotResident, with(mario, toAIRE), Residenza),
		simple("residenza cancelled", ReasonSubjectCancelled, with(mario, cancelled), Residenza),
		simple("residenza deceased", ReasonSubjectDeceased, with(mario, deceased), Residenza),
		// residenza AIRE
		simple("residenza aire", "", with(mario, toAIRE), ResidenzaAIRE),
		simple("residenza aire for a resident", ReasonNotAIRE, mario, ResidenzaAIRE),
		simple("residenza aire partly certifiable", ReasonPartlyCertifiable, with(with(mario, toAIRE), partly), ResidenzaAIRE),
		// stato civile
		simple("stato civile", "", mario, StatoCivile),
		simple("stato civile undocumented", ReasonNoCivilStatus, with(mario, status(registry.CivilStatusUnknown)), StatoCivile),
		simple("stato civile AIRE", ReasonNotResident, with(mario, toAIRE), StatoCivile),
		// stato di famiglia
		simple("stato di famiglia", "", mario, StatoDiFamiglia),
		simple("stato di famiglia partly certifiable", "", with(mario, partly), StatoDiFamiglia),
		{"stato di famiglia no family", func(h *household) (*SubjectData, Request) {
			d := h.data(h.mario)
			d.Family, d.Members = nil, nil
			return d, counterBy(h.mario, StatoDiFamiglia)
		}, ReasonNoFamily},
		{"stato di famiglia without head", func(h *household) (*SubjectData, Request) {
			d := h.data(h.mario)
			d.Members = d.Members[1:]
			return d, counterBy(h.mario, StatoDiFamiglia)
		}, ReasonNoFamily},
		{"stato di famiglia in convivenza", func(h *household) (*SubjectData, Request) {
			h.family.Kind, h.family.Name = registry.Convivenza, "Istituto San Giuseppe"
			return h.data(h.mario), counterBy(h.mario, StatoDiFamiglia)
		}, ReasonInConvivenza},
		// stato di famiglia e stato civile
		simple("stato di famiglia e stato civile", "", mario, StatoDiFamigliaEStatoCivile),
		{"stato di famiglia e stato civile alone", func(h *household) (*SubjectData, Request) {
			d := h.data(h.mario)
			d.Members = d.Members[:1]
			return d, counterBy(h.mario, StatoDiFamigliaEStatoCivile)
		}, ReasonSingleMember},
		// residenza in convivenza
		{"residenza in convivenza", func(h *household) (*SubjectData, Request) {
			h.family.Kind, h.family.Name = registry.Convivenza, "Istituto San Giuseppe"
			return h.data(h.mario), counterBy(h.mario, ResidenzaInConvivenza)
		}, ""},
		{"residenza in convivenza partly certifiable", func(h *household) (*SubjectData, Request) {
			h.family.Kind, h.family.Name = registry.Convivenza, "Istituto San Giuseppe"
			h.mario.PartlyCertifiable = true
			return h.data(h.mario), counterBy(h.mario, ResidenzaInConvivenza)
		}, ""},
		simple("residenza in convivenza in a famiglia", ReasonNotInConvivenza, mario, ResidenzaInConvivenza),
		// stato di famiglia AIRE
		simple("stato di famiglia aire", "", with(mario, toAIRE), StatoDiFamigliaAIRE),
		simple("stato di famiglia aire for a resident", ReasonNotAIRE, mario, StatoDiFamigliaAIRE),
		// con parentela
		simple("stato di famiglia con parentela", "", mario, StatoDiFamigliaConParentela),
		{"con parentela to an adult stranger", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.stranger, StatoDiFamigliaConParentela)
			return h.data(h.mario), r
		}, ""},
		{"con parentela to a minor stranger", func(h *household) (*SubjectData, Request) {
			return h.data(h.mario), counterBy(h.minorStranger, StatoDiFamigliaConParentela)
		}, ReasonRequesterNotAllowed},
		{"con parentela to a minor of the family", func(h *household) (*SubjectData, Request) {
			return h.data(h.mario), counterBy(h.giulia, StatoDiFamigliaConParentela)
		}, ""},
		// stato libero
		simple("stato libero single", "", giulia, StatoLibero),
		simple("stato libero widowed", "", with(mario, status(registry.Widowed)), StatoLibero),
		simple("stato libero after union dissolved", "", with(mario, status(registry.FreeAfterUnionDissolved)), StatoLibero),
		simple("stato libero married", ReasonNotFree, mario, StatoLibero),
		simple("stato libero civil union", ReasonNotFree, with(mario, status(registry.CivilUnion)), StatoLibero),
		simple("stato libero AIRE", ReasonNotResident, with(giulia, toAIRE), StatoLibero),
		// unione civile
		{"unione civile", func(h *household) (*SubjectData, Request) {
			h.mario.CivilStatus, h.anna.CivilStatus = registry.CivilUnion, registry.CivilUnion
			h.marriage.Kind = registry.CivilUnionFormed
			return h.data(h.mario), counterBy(h.mario, UnioneCivile)
		}, ""},
		{"unione civile while in AIRE", func(h *household) (*SubjectData, Request) {
			toAIRE(h, h.mario)
			h.mario.CivilStatus, h.anna.CivilStatus = registry.CivilUnion, registry.CivilUnion
			h.marriage.Kind, h.marriage.Date = registry.CivilUnionFormed, date("2020-01-01")
			return h.data(h.mario), counterBy(h.mario, UnioneCivile)
		}, ReasonEventDuringAIRE},
		{"unione civile before AIRE", func(h *household) (*SubjectData, Request) {
			toAIRE(h, h.mario)
			h.mario.CivilStatus, h.anna.CivilStatus = registry.CivilUnion, registry.CivilUnion
			h.marriage.Kind, h.marriage.Date = registry.CivilUnionFormed, date("2019-12-31")
			return h.data(h.mario), counterBy(h.mario, UnioneCivile)
		}, ""},
		simple("unione civile married", ReasonNoCivilUnion, mario, UnioneCivile),
		simple("unione civile status without record", ReasonNoCivilUnion, with(mario, status(registry.CivilUnion)), UnioneCivile),
		// contratto di convivenza
		{"contratto di convivenza", func(h *household) (*SubjectData, Request) {
			h.marriage.Kind = registry.CohabitationPact
			return h.data(h.mario), counterBy(h.mario, ContrattoDiConvivenza)
		}, ""},
		{"contratto di convivenza registered after the move abroad", func(h *household) (*SubjectData, Request) {
			toAIRE(h, h.mario)
			h.marriage.Kind, h.marriage.Date = registry.CohabitationPact, date("2022-05-02")
			return h.data(h.mario), counterBy(h.mario, ContrattoDiConvivenza)
		}, ReasonEventDuringAIRE},
		{"contratto di convivenza registered before the move abroad", func(h *household) (*SubjectData, Request) {
			toAIRE(h, h.mario)
			h.marriage.Kind, h.marriage.Date = registry.CohabitationPact, date("2018-05-02")
			return h.data(h.mario), counterBy(h.mario, ContrattoDiConvivenza)
		}, ""},
		{"contratto di convivenza asked by the other party", func(h *household) (*SubjectData, Request) {
			h.marriage.Kind = registry.CohabitationPact
			return h.data(h.mario), counterBy(h.anna, ContrattoDiConvivenza)
		}, ""},
		{"contratto di convivenza asked by a third person", func(h *household) (*SubjectData, Request) {
			h.marriage.Kind = registry.CohabitationPact
			return h.data(h.mario), counterBy(h.stranger, ContrattoDiConvivenza)
		}, ReasonRequesterNotAllowed},
		simple("contratto di convivenza without one", ReasonNoCohabitation, mario, ContrattoDiConvivenza),

		// contestuali
		simple("residenza e stato di famiglia", "", mario, StatoDiFamiglia, Residenza),
		simple("residenza, cittadinanza, esistenza in vita, nascita", "", mario, Residenza, Cittadinanza, EsistenzaInVita, Nascita),
		simple("residenza aire and residenza", ReasonIncompatibleTypes, with(mario, toAIRE), ResidenzaAIRE, Residenza),
		simple("two household tables", ReasonIncompatibleTypes, mario, StatoDiFamiglia, StatoDiFamigliaConParentela),
		simple("stato civile and stato di famiglia", ReasonIncompatibleTypes, mario, StatoCivile, StatoDiFamiglia),
		simple("stato libero and matrimonio", ReasonIncompatibleTypes, giulia, StatoLibero, Matrimonio),
		simple("matrimonio and unione civile", ReasonIncompatibleTypes, mario, Matrimonio, UnioneCivile),
		simple("a type twice", ReasonIncompatibleTypes, mario, Residenza, Residenza),
		simple("unknown type", ReasonUnknownType, mario, Type("morte_presunta")),
		// Sportello's own types (see newtypes_test.go for the household
		// and date rules)
		simple("morte", "", with(mario, deceased), Morte),
		simple("morte of a living person", ReasonNotDeceased, mario, Morte),
		{"residenza storica", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.mario, ResidenzaStorica)
			r.At = date("2012-01-01")
			return h.data(h.mario), r
		}, ""},
		simple("residenza storica without a date", ReasonDateRequired, mario, ResidenzaStorica),
		{"stato di famiglia storico", func(h *household) (*SubjectData, Request) {
			at := date("2013-01-01")
			h.mario.Memberships = []registry.Membership{{Family: 1, Relationship: registry.Head, From: date("2010-05-01")}}
			d := h.data(h.mario)
			d.Past = &PastFamily{At: at, Family: h.family, Members: []PastMember{{h.mario, registry.Head}, {h.anna, registry.Spouse}}}
			r := counterBy(h.mario, StatoDiFamigliaStorico)
			r.At = at
			return d, r
		}, ""},
		{"stato di famiglia storico before the history", func(h *household) (*SubjectData, Request) {
			h.mario.Memberships = []registry.Membership{{Family: 1, Relationship: registry.Head, From: date("2010-05-01")}}
			r := counterBy(h.mario, StatoDiFamigliaStorico)
			r.At = date("2009-01-01")
			return h.data(h.mario), r
		}, ReasonDateBeforeRecords},
		simple("no type", ReasonNoType, mario),
		simple("contestuale with one ineligible part", ReasonNotFree, mario, Residenza, StatoLibero),
		simple("partly certifiable contestuale allowed", "", with(mario, partly), Residenza, StatoDiFamiglia),

		// requesters and channels
		{"counter, any identified person", func(h *household) (*SubjectData, Request) {
			return h.data(h.mario), counterBy(h.stranger, Residenza, StatoCivile)
		}, ""},
		{"counter, unidentified requester", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.mario, Residenza)
			r.Requester = Requester{}
			return h.data(h.mario), r
		}, ReasonRequesterUnknown},
		{"counter, requester known by CF only", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.mario, Residenza)
			r.Requester = Requester{CF: "ZZZZZZ80A01F205X"}
			return h.data(h.mario), r
		}, ""},
		{"self-service for oneself", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.mario, Residenza)
			r.Channel = SelfService
			return h.data(h.mario), r
		}, ""},
		{"self-service for one's family", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.anna, StatoDiFamiglia)
			r.Channel = SelfService
			return h.data(h.mario), r
		}, ""},
		{"self-service for a stranger", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.stranger, Residenza)
			r.Channel = SelfService
			return h.data(h.mario), r
		}, ReasonRequesterNotAllowed},
		{"self-service for a stranger who is deceased", func(h *household) (*SubjectData, Request) {
			deceased(h, h.mario)
			r := counterBy(h.stranger, Residenza)
			r.Channel = SelfService
			return h.data(h.mario), r // requester refused before anything about the subject shows
		}, ReasonRequesterNotAllowed},
		{"self-service within a convivenza", func(h *household) (*SubjectData, Request) {
			h.family.Kind, h.family.Name = registry.Convivenza, "Istituto San Giuseppe"
			r := counterBy(h.anna, ResidenzaInConvivenza)
			r.Channel = SelfService
			return h.data(h.mario), r
		}, ReasonRequesterNotAllowed},
		{"public administration at the office", func(h *household) (*SubjectData, Request) {
			r := Request{Types: []Type{Residenza}, Channel: Office, Now: testNow,
				Requester: Requester{Administration: "Tribunale di Milano, prot. 123/2026"}}
			return h.data(h.mario), r
		}, ""},
		{"public administration at a counter", func(h *household) (*SubjectData, Request) {
			r := Request{Types: []Type{Residenza}, Channel: Counter, Now: testNow,
				Requester: Requester{CF: "80000000000", Administration: "INPS"}}
			return h.data(h.mario), r
		}, ReasonRequesterNotAllowed},
		{"unknown channel", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.mario, Residenza)
			r.Channel = "fax"
			return h.data(h.mario), r
		}, ReasonInvalidChannel},
		{"operator agreement covers the type", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.mario, Residenza, StatoDiFamiglia)
			r.Allowed = map[Type]bool{Residenza: true, StatoDiFamiglia: true}
			return h.data(h.mario), r
		}, ""},
		{"operator agreement excludes a type", func(h *household) (*SubjectData, Request) {
			r := counterBy(h.mario, Residenza, StatoCivile)
			r.Allowed = map[Type]bool{Residenza: true, StatoDiFamiglia: true}
			return h.data(h.mario), r
		}, ReasonOperatorNotAllowed},
	}
	// A deceased person gets none of the 15; the death certificate and the
	// history up to the death are Sportello's own types, tested above.
	for _, ty := range Types() {
		if afterDeath[ty] {
			continue
		}
		cases = append(cases, simple(string(ty)+" deceased", ReasonSubjectDeceased, with(mario, deceased), ty))
	}

	covered := map[Type][2]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, req := c.setup(newHousehold())
			types, err := Check(d, req)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(types) != len(req.Types) {
					t.Errorf("types %v, asked %v", types, req.Types)
				}
				for i := 1; i < len(types); i++ {
					if types[i-1].Code() >= types[i].Code() {
						t.Errorf("types not in ANPR order: %v", types)
					}
				}
				if len(req.Types) == 1 {
					v := covered[req.Types[0]]
					v[0] = true
					covered[req.Types[0]] = v
				}
				return
			}
			r, ok := AsRefusal(err)
			if !ok || r.Reason != c.want {
				t.Fatalf("got %v (%T), want refusal %s", err, err, c.want)
			}
			if !strings.HasSuffix(r.Message, ".") || strings.Contains(r.Message, "%!") {
				t.Errorf("message %q is not one clean sentence", r.Message)
			}
			if len(req.Types) == 1 {
				v := covered[req.Types[0]]
				v[1] = true
				covered[req.Types[0]] = v
			}
		})
	}
	for _, ty := range Types() {
		if v := covered[ty]; !v[0] || !v[1] {
			t.Errorf("type %s lacks an eligible (%v) or a refused (%v) case", ty, v[0], v[1])
		}
	}
}

func TestLoad(t *testing.T) {
	h := newHousehold()
	r := &fakeReader{h: h}
	d, err := Load(r, h.mario.CF)
	if err != nil {
		t.Fatal(err)
	}
	if d.Family == nil || len(d.Members) != 3 || len(d.Events) != 1 || d.Others[2] != h.anna {
		t.Errorf("loaded %+v", d)
	}
	if _, err := Load(r, "XXXXXX00A00X000X"); !isRefusal(err, ReasonSubjectNotFound) || !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("missing subject: %v", err)
	}
}

// fakeReader serves a household through registry.Reader.
type fakeReader struct {
	registry.Reader
	h *household
}

func (f *fakeReader) all() []*registry.Person {
	return []*registry.Person{f.h.mario, f.h.anna, f.h.giulia, f.h.stranger, f.h.minorStranger}
}

func (f *fakeReader) PersonByCF(cf string) (*registry.Person, error) {
	for _, p := range f.all() {
		if p.CF == cf {
			return p, nil
		}
	}
	return nil, registry.ErrNotFound
}

func (f *fakeReader) Person(id registry.PersonID) (*registry.Person, error) {
	for _, p := range f.all() {
		if p.ID == id {
			return p, nil
		}
	}
	return nil, registry.ErrNotFound
}

func (f *fakeReader) Family(id registry.FamilyID) (*registry.Family, error) {
	if id == 1 {
		return f.h.family, nil
	}
	return &registry.Family{ID: id, Kind: registry.Famiglia}, nil
}

func (f *fakeReader) Members(id registry.FamilyID) ([]*registry.Person, error) {
	var out []*registry.Person
	for _, p := range f.all() {
		if p.Family == id {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeReader) EventsOf(id registry.PersonID) ([]*registry.Event, error) {
	if id == 1 || id == 2 {
		return []*registry.Event{f.h.marriage}, nil
	}
	return nil, nil
}

// TestCheckExemption: code 10 only for a public administration at the
// registry office, 1 and 2 only at the office (the entity asks), 4 only
// for the court's appointee at the office; the others on any channel.
func TestCheckExemption(t *testing.T) {
	for _, c := range []struct {
		code int
		ch   Channel
		kind RequesterKind
		ok   bool
	}{
		{10, Office, RequesterPA, true},
		{10, Office, RequesterSubject, false},
		{10, Counter, RequesterSubject, false},
		{10, Counter, RequesterPA, false},
		{10, SelfService, RequesterSubject, false},
		{7, Counter, RequesterSubject, true},
		{0, SelfService, RequesterOther, true},
		// Codes 1 and 2: the ONLUS or club asks, at the office.
		{1, Office, RequesterOther, true},
		{1, Counter, RequesterSubject, false},
		{2, SelfService, RequesterSubject, false},
		{2, Office, RequesterPA, true},
		// Code 4: the court's appointee, someone other than the subject.
		{4, Office, RequesterOther, true},
		{4, Office, RequesterSubject, false},
		{4, Counter, RequesterOther, false},
		// Codes the person concerned declares on any channel.
		{3, Counter, RequesterSubject, true},
		{5, SelfService, RequesterOther, true},
		{6, Counter, RequesterOther, true},
		{8, SelfService, RequesterSubject, true},
		{9, SelfService, RequesterSubject, true},
		{99, Counter, RequesterSubject, true},
	} {
		err := CheckExemption(fees.Exemption{Code: c.code}, c.ch, c.kind)
		if r, refused := AsRefusal(err); refused != !c.ok || (refused && r.Reason != ReasonExemptionNotAllowed) {
			t.Errorf("code %d on %s by %v: %v", c.code, c.ch, c.kind, err)
		}
	}
}
