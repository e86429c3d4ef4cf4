package certificate

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/places"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

var rome = protocol.Rome

// Opening is the certifying formula that starts every body.
const Opening = "L'UFFICIALE D'ANAGRAFE, visti gli atti d'ufficio, CERTIFICA che"

// Art40Notice must appear on every certificate, on pain of nullity, since
// certificates may no longer be produced to public offices (art. 40, comma
// 02, DPR 445/2000, as amended by L. 183/2011).
const Art40Notice = "Il presente certificato non può essere prodotto agli organi della pubblica amministrazione o ai privati gestori di pubblici servizi."

// Validity notices (art. 41 DPR 445/2000): facts that cannot change are
// certified without a time limit, the others for six months.
const (
	ValidityUnlimited = "Il presente certificato ha validità illimitata (art. 41, comma 1, DPR 445/2000)."
	ValiditySixMonths = "Il presente certificato ha validità sei mesi dalla data di rilascio (art. 41, comma 1, DPR 445/2000)."
)

// PlaceNamer names Belfiore codes as of a date; *places.Table is one.
type PlaceNamer interface {
	Lookup(code string, on time.Time) (places.Place, bool)
}

// Issue is what Compose needs besides the registry data: the identifiers and
// instant of this issuance, the certifying office and the computed fees.
type Issue struct {
	ID        string
	Protocol  string // as shown: "2026/0000123"
	Issued    time.Time
	Issuer    Issuer
	VerifyURL string
	Fees      fees.Breakdown
	// Use is the destination of use declared; its wording replaces the
	// art. 40 sentence (Use.Notice).
	Use Use
	// At is the date a historical type describes (Request.At).
	At registry.Date
}

// Compose builds the Document for types (as returned by Check) from the
// subject's registry data. It reads nothing else: the same inputs give the
// same Document.
func Compose(d *SubjectData, types []Type, names PlaceNamer, in Issue) (*Document, error) {
	types = canonical(types)
	if len(types) == 0 {
		return nil, refuse(ReasonNoType, "no certificate type was requested.")
	}
	if d == nil || d.Person == nil {
		return nil, refuse(ReasonSubjectNotFound, "the subject of the certificate is not in the registry.")
	}
	p := d.Person
	c := composer{d: d, names: names, now: in.Issued, at: in.At}
	bornPrep, bornAt := c.birthPlace(p)
	if bornPrep == "a" {
		bornPrep = "" // the usual case, left out of the sealed JSON
	}
	doc := &Document{
		ID:       in.ID,
		Types:    types,
		Title:    Title(types),
		Issuer:   in.Issuer,
		Issued:   in.Issued,
		Protocol: in.Protocol,
		Subject: Subject{
			Name:       upperName(p),
			CF:         p.CF,
			BirthDate:  p.BirthDate.Italian(),
			BirthPlace: bornAt,
			BirthPrep:  bornPrep,
			Sex:        p.Sex.String(),
		},
		Opening:   Opening,
		Purpose:   in.Fees.Purpose,
		VerifyURL: in.VerifyURL,
		Facts:     []Fact{{"nome", upperName(p)}, {"cf", p.CF}},
	}
	if !in.At.IsZero() {
		// The date a historical certificate describes is sealed with it.
		doc.Facts = append(doc.Facts, Fact{"data_di_riferimento", in.At.Italian()})
	}
	for _, l := range in.Fees.Lines {
		// The shop's service fee is the shop's own charge, not the comune's:
		// it is printed on the shop's receipt (with its VAT treatment) and
		// kept in the record for settlement, never on the certificate.
		if l.Kind == fees.Service {
			continue
		}
		doc.Fees = append(doc.Fees, FeeLine{Label: l.Label, Cents: l.Cents, Note: l.Note})
	}
	for _, t := range types {
		sec, err := c.section(t)
		if err != nil {
			return nil, err
		}
		doc.Sections = append(doc.Sections, sec)
		doc.Facts = append(doc.Facts, Fact{string(t), PrintedFact(sec)})
	}
	doc.Notices = []string{in.Use.Notice(), ValiditySixMonths}
	if UnlimitedValidity(types) {
		doc.Notices[1] = ValidityUnlimited
	}
	return doc, nil
}

// UnlimitedValidity reports whether a certificate of types is valid
// without a time limit: a birth and a death cannot change, and art. 41,
// comma 1, DPR 445/2000 gives such certificates unlimited validity; every
// other is valid six months.
func UnlimitedValidity(types []Type) bool {
	return len(types) == 1 && (types[0] == Nascita || types[0] == Morte)
}

// PrintedFact is what the seal carries for a section: each value exactly
// as the page prints it, in print order, one per line of the fact: every
// line's value, then the first cell of each table row (the member's name,
// the period's start date).
//
// The verifier (internal/seal CompareDocument) must find each sealed value
// in the page text, so that a page whose printed value was altered is
// caught. It can only do so for strings the page prints as one run: a
// value glued from several printed ones ("08/08/1961 CATANIA (CT)" from the
// date line and the place line, the names of a family's table rows joined
// by "; ") is never printed as such, since a label or another cell stands
// between its parts, and such certificates failed verification. Sealing
// the printed strings themselves keeps the check exact. A table's other
// cells stay out of the seal, as before, so that the token keeps the QR
// code readable on paper (seal's TestQRTokenIsCompact: version 20 at most).
func PrintedFact(sec Section) string {
	var out []string
	for _, l := range sec.Lines {
		out = append(out, l.Value)
	}
	if sec.Table != nil {
		for _, row := range sec.Table.Rows {
			if len(row) > 0 {
				out = append(out, row[0])
			}
		}
	}
	return strings.Join(out, "\n")
}

type composer struct {
	d     *SubjectData
	names PlaceNamer
	now   time.Time
	at    registry.Date
}

func upperName(p *registry.Person) string { return strings.ToUpper(p.FullName()) }

// place prints a Belfiore code as "MILANO (MI)" or "FRANCIA", as the place
// was named on date on; an unknown code is printed as it is.
func (c composer) place(code string, on registry.Date) string {
	if code == "" {
		return ""
	}
	at := on.Time()
	if on.IsZero() {
		at = c.now
	}
	if c.names != nil {
		if pl, ok := c.names.Lookup(code, at); ok {
			if pl.Kind == places.Comune && pl.Province != "" {
				return fmt.Sprintf("%s (%s)", strings.ToUpper(pl.Name), pl.Province)
			}
			return strings.ToUpper(pl.Name)
		}
	}
	return code
}

// birthPlace returns where p was born as certificates print it, with the
// preposition that goes before it: "a MILANO (MI)"; for a birth abroad "a
// IL CAIRO (EGITTO)" when the registry keeps the foreign town, else "in
// EGITTO", since Italian puts "in" before a state and "a" before a town.
func (c composer) birthPlace(p *registry.Person) (prep, place string) {
	place = c.place(p.BirthPlace, p.BirthDate)
	if !strings.HasPrefix(p.BirthPlace, "Z") {
		return "a", place
	}
	if loc := strings.TrimSpace(p.BirthLocality); loc != "" {
		return "a", strings.ToUpper(loc) + " (" + place + ")"
	}
	return "in", place
}

func (c composer) today() registry.Date { return registry.DateOf(c.now.In(rome)) }

// address prints "Via Giuseppe Verdi 12, 20121 MILANO (MI)", or for an
// address abroad "12 Rue de Rivoli, 75001 PARIS, FRANCIA".
func (c composer) address(a registry.Address) string {
	parts := []string{a.Line()}
	town := c.place(a.Comune, c.today())
	if strings.HasPrefix(a.Comune, "Z") {
		if a.Locality != "" {
			parts = append(parts, strings.TrimSpace(a.CAP+" "+a.Locality))
		}
		parts = append(parts, town)
	} else {
		if a.Locality != "" {
			parts = append(parts, "località "+a.Locality)
		}
		parts = append(parts, strings.TrimSpace(a.CAP+" "+town))
	}
	return strings.Join(parts, ", ")
}

func (c composer) residence() (registry.Residence, error) {
	r, ok := c.d.Person.CurrentResidence()
	if !ok {
		return r, refuse(ReasonSubjectCancelled, "%s has no current address in the registry.", c.d.Person.FullName())
	}
	return r, nil
}

// personLine describes another person: "BIANCHI ANNA, nata il 03/04/1952 a
// ROMA (RM)".
func (c composer) personLine(o *registry.Person) string {
	born := "nato"
	if o.Sex == registry.Female {
		born = "nata"
	}
	s := fmt.Sprintf("%s, %s %s", upperName(o), born, DatedArticle("il", o.BirthDate.Italian()))
	if prep, pl := c.birthPlace(o); pl != "" {
		s += " " + prep + " " + pl
	}
	return s
}

func (c composer) section(t Type) (Section, error) {
	d, p := c.d, c.d.Person
	switch t {
	case Residenza:
		r, err := c.residence()
		if err != nil {
			return Section{}, err
		}
		a := c.address(r.Address)
		return Section{Heading: "Residenza", Lines: []Line{{"È residente in", a}}}, nil

	case ResidenzaAIRE:
		r, err := c.residence()
		if err != nil {
			return Section{}, err
		}
		a := c.address(r.Address)
		com := c.place(r.AIREComune, c.today())
		return Section{Heading: "Residenza all'estero", Lines: []Line{
			{"È residente all'estero in", a},
			{"Comune di iscrizione AIRE", com},
		}}, nil

	case EsistenzaInVita:
		v := "in vita alla data " + DatedArticle("del", c.today().Italian())
		return Section{Heading: "Esistenza in vita", Lines: []Line{{"Risulta", v}}}, nil

	case Cittadinanza:
		// Check lets a non-Italian through only when the officer forced
		// the certificate (Request.Force): it then says what the registry
		// holds, "apolide" for ANPR's code 999 or the state.
		v := "italiana"
		if !p.Italian() && len(p.Citizenships) > 0 {
			if code := p.Citizenships[0]; code == registry.Stateless {
				v = "apolide"
			} else {
				v = c.place(code, registry.Date{})
			}
		}
		return Section{Heading: "Cittadinanza", Lines: []Line{{"Cittadinanza", v}}}, nil

	case Nascita:
		_, pl := c.birthPlace(p)
		lines := []Line{{"Data di nascita", p.BirthDate.Italian()}, {"Luogo di nascita", pl}}
		if p.BirthAct != "" {
			lines = append(lines, Line{"Atto di nascita", p.BirthAct})
		}
		return Section{Heading: "Nascita", Lines: lines}, nil

	case Matrimonio, UnioneCivile, ContrattoDiConvivenza:
		return c.union(t)

	case StatoCivile:
		st := p.CivilStatus.Italian(p.Sex)
		lines := []Line{{"Stato civile", st}}
		var ev *registry.Event
		switch p.CivilStatus {
		case registry.Married:
			ev = d.lastEvent(registry.Marriage)
		case registry.CivilUnion:
			ev = d.lastEvent(registry.CivilUnionFormed)
		}
		if o := d.otherParty(ev); o != nil {
			lines = append(lines, Line{"Con", c.personLine(o)}, Line{"Dal", ev.Date.Italian()})
		}
		return Section{Heading: "Stato civile", Lines: lines}, nil

	case StatoLibero:
		st := p.CivilStatus.Italian(p.Sex)
		return Section{Heading: "Stato libero", Lines: []Line{{"È di stato libero", st}}}, nil

	case ResidenzaInConvivenza:
		r, err := c.residence()
		if err != nil {
			return Section{}, err
		}
		a := c.address(r.Address)
		role := "convivente"
		if p.Relationship == registry.ConvivenzaHead {
			role = p.Relationship.Italian(p.Sex)
		}
		return Section{Heading: "Residenza in convivenza", Lines: []Line{
			{"Convivenza anagrafica", d.Family.Name},
			{"Indirizzo", a},
			{"In qualità di", role},
		}}, nil

	case StatoDiFamiglia, StatoDiFamigliaEStatoCivile, StatoDiFamigliaConParentela, StatoDiFamigliaAIRE:
		return c.family(t)

	case Morte:
		return c.death()
	case ResidenzaStorica:
		return c.residenceHistory()
	case StatoDiFamigliaStorico:
		return c.pastFamily()
	}
	return Section{}, refuse(ReasonUnknownType, "%q is not a certificate type.", string(t))
}

func (c composer) union(t Type) (Section, error) {
	d := c.d
	var kind registry.EventKind
	var heading, dateLabel, partyLabel, reason string
	switch t {
	case Matrimonio:
		kind, heading, dateLabel, partyLabel, reason = registry.Marriage, "Matrimonio", "Data del matrimonio", "Coniuge", ReasonNoMarriage
	case UnioneCivile:
		kind, heading, dateLabel, partyLabel, reason = registry.CivilUnionFormed, "Unione civile", "Data di costituzione", "Parte dell'unione civile", ReasonNoCivilUnion
	default:
		kind, heading, dateLabel, partyLabel, reason = registry.CohabitationPact, "Contratto di convivenza", "Data di registrazione", "Convivente", ReasonNoCohabitation
	}
	ev := d.lastEvent(kind)
	o := d.otherParty(ev)
	if o == nil {
		return Section{}, refuse(reason, "the registry holds no %s record with the other party for %s.", strings.ToLower(heading), d.Person.FullName())
	}
	lines := []Line{{dateLabel, ev.Date.Italian()}}
	where := c.place(ev.Place, ev.Date)
	if where != "" {
		lines = append(lines, Line{"Luogo", where})
	}
	lines = append(lines, Line{partyLabel, c.personLine(o)})
	if ev.Act != "" {
		lines = append(lines, Line{"Estremi dell'atto", ev.Act})
	}
	if a := ev.Authentication; t == ContrattoDiConvivenza && a != nil {
		v := authentication(a)
		lines = append(lines, Line{"Autenticato da", v})
	}
	if t != ContrattoDiConvivenza {
		if end := c.ending(t, ev, o); end != "" {
			lines = append(lines, Line{"Cessazione", end})
		}
	}
	return Section{Heading: heading, Lines: lines}, nil
}

// authentication prints who authenticated a contratto di convivenza and
// when, as L. 76/2016 art. 1 c. 51 requires it to be: "notaio Mario
// Bianchi, in data 03/02/2020, rep. n. 1234".
func authentication(a *registry.Authentication) string {
	s := strings.TrimSpace(string(a.Professional) + " " + a.Name)
	if !a.Date.IsZero() {
		s += ", in data " + a.Date.Italian()
	}
	if a.Reference != "" {
		s += ", " + a.Reference
	}
	return s
}

// ending says how and when the marriage or civil union ev with o ended, or
// "" while it lasts: "per divorzio il 12/03/2004", "per morte del coniuge
// l'11/08/2019", "per scioglimento dell'unione civile il …". The ways are
// ANPR's (table 31, tipo cessazione matrimonio; table 43, cessazione unione
// civile): the registry records divorce (L. 898/1970: scioglimento or
// cessazione degli effetti civili) and dissolution of a union (L. 76/2016
// art. 1 c. 22-24) as the subject's events, and the other party's death on
// their record; whichever came first after the celebration ended it.
func (c composer) ending(t Type, ev *registry.Event, o *registry.Person) string {
	kind, by := registry.Divorce, "per divorzio"
	if t == UnioneCivile {
		kind, by = registry.UnionDissolved, "per scioglimento dell'unione civile"
	}
	var when registry.Date
	var act string
	for _, e := range c.d.Events {
		if e.Kind == kind && ev.Date.Before(e.Date) && (when.IsZero() || e.Date.Before(when)) {
			when, act = e.Date, e.Act
			if kind == registry.Divorce && e.Note != "" {
				by = "per divorzio (" + e.Note + ")"
			}
		}
	}
	if !o.Alive() && ev.Date.Before(o.DeathDate) && (when.IsZero() || o.DeathDate.Before(when)) {
		when, act = o.DeathDate, ""
		switch {
		case t == UnioneCivile:
			by = "per morte dell'altra parte"
		case o.Sex == registry.Female:
			by = "per morte della coniuge"
		default:
			by = "per morte del coniuge"
		}
	}
	if when.IsZero() {
		return ""
	}
	s := by + " " + DatedArticle("il", when.Italian())
	if act != "" {
		s += ", " + act
	}
	return s
}

// death certifies the death the registry records: date and place from the
// person's record, the act from the death event when the registry holds it.
func (c composer) death() (Section, error) {
	p := c.d.Person
	if p.Alive() {
		return Section{}, refuse(ReasonNotDeceased, "%s is not recorded as deceased, so there is no death to certify.", p.FullName())
	}
	died := "Deceduto"
	if p.Sex == registry.Female {
		died = "Deceduta"
	}
	// Date and place on one line, which the seal carries whole: the
	// verifier finds each sealed value as one run of the page's text.
	v := strings.ToLower(died) + " " + DatedArticle("il", p.DeathDate.Italian())
	if where := c.place(p.DeathPlace, p.DeathDate); where != "" {
		v += " a " + where
	}
	lines := []Line{{"Risulta", v}}
	if ev := c.d.lastEvent(registry.Death); ev != nil && ev.Act != "" {
		lines = append(lines, Line{"Atto di morte", ev.Act})
	}
	return Section{Heading: "Morte", Lines: lines}, nil
}

// residenceHistory lists the residence periods the registry holds up to the
// requested date, oldest first, as the certificato storico di residenza
// gives "la successione dei diversi indirizzi" of the person; a period
// still open on that date is shown without its end, which the certificate
// does not speak of.
func (c composer) residenceHistory() (Section, error) {
	p, at := c.d.Person, c.at
	tab := &Table{Header: []string{"Dal", "Al", "Indirizzo"}}
	var current string
	for _, r := range p.Residences {
		if r.From.IsZero() || at.Before(r.From) {
			continue
		}
		to := ""
		if !r.To.IsZero() && r.To.Before(at) {
			to = r.To.Italian()
		} else {
			current = c.addressOn(r.Address, at)
		}
		a := c.addressOn(r.Address, r.From)
		if r.AIREComune != "" {
			a += " (AIRE, " + c.place(r.AIREComune, r.From) + ")"
		}
		tab.Rows = append(tab.Rows, []string{r.From.Italian(), to, a})
	}
	if len(tab.Rows) == 0 {
		return Section{}, refuse(ReasonDateBeforeRecords, "the registry holds no residence of %s up to %s.", p.FullName(), at.Italian())
	}
	if current == "" {
		current = "nessuna residenza nel Comune"
	}
	lines := []Line{{"Data di riferimento", at.Italian()}, {"Residenza a quella data", current}}
	return Section{Heading: "Residenze risultanti all'anagrafe fino alla data di riferimento", Lines: lines, Table: tab}, nil
}

// addressOn is address with the comune named as on day.
func (c composer) addressOn(a registry.Address, day registry.Date) string {
	cc := c
	cc.now = day.Time()
	return cc.address(a)
}

// pastFamily prints the famiglia anagrafica as it was on the requested date
// (LoadPast), each member with the relationship to the head they had then.
func (c composer) pastFamily() (Section, error) {
	d, at := c.d, c.at
	past := d.Past
	if past == nil || past.At != at || len(past.Members) == 0 {
		return Section{}, refuse(ReasonNoFamilyOnDate, "on %s %s belonged to no famiglia anagrafica in this registry.", at.Italian(), d.Person.FullName())
	}
	tab := &Table{Header: []string{"Cognome e nome", "Data di nascita", "Luogo di nascita", "Codice fiscale", "Rapporto con l'intestatario"}}
	head := ""
	for _, m := range past.Members {
		rel := m.Relationship
		if rel == registry.Adopted {
			rel = registry.Child // adoption is never certified (see certifiedRelationship)
		}
		_, bornAt := c.birthPlace(m.Person)
		tab.Rows = append(tab.Rows, []string{upperName(m.Person), m.Person.BirthDate.Italian(), bornAt, m.Person.CF, rel.Italian(m.Person.Sex)})
		if m.Relationship == registry.Head && head == "" {
			head = upperName(m.Person)
		}
	}
	if head == "" {
		return Section{}, refuse(ReasonNoFamily, "on %s the family of %s had no intestatario scheda in the registry, so it cannot be certified.", at.Italian(), d.Person.FullName())
	}
	lines := []Line{{"Data di riferimento", at.Italian()}, {"Intestatario della scheda di famiglia", head}}
	for _, r := range d.Person.Residences {
		if !r.From.IsZero() && !at.Before(r.From) && (r.To.IsZero() || !r.To.Before(at)) {
			lines = append(lines, Line{"Residente in", c.addressOn(r.Address, at)})
			break
		}
	}
	return Section{Heading: "Alla data di riferimento la famiglia anagrafica era così composta", Lines: lines, Table: tab}, nil
}

// certifiedRelationship is the relationship as it may be printed: adoption
// is never certified (art. 28 L. 184/1983, art. 35 DPR 223/1989), so an
// adopted child appears as a child.
func certifiedRelationship(m *registry.Person) string {
	r := m.Relationship
	if r == registry.Adopted {
		r = registry.Child
	}
	return r.Italian(m.Sex)
}

func (c composer) family(t Type) (Section, error) {
	d := c.d
	r, err := c.residence()
	if err != nil {
		return Section{}, err
	}
	header := []string{"Cognome e nome", "Data di nascita", "Luogo di nascita", "Codice fiscale"}
	switch t {
	case StatoDiFamigliaEStatoCivile:
		header = append(header, "Stato civile")
	case StatoDiFamigliaConParentela:
		header = append(header, "Rapporto con l'intestatario")
	}
	tab := &Table{Header: header}
	for _, m := range d.Members {
		if !m.Alive() {
			continue
		}
		_, bornAt := c.birthPlace(m)
		row := []string{upperName(m), m.BirthDate.Italian(), bornAt, m.CF}
		switch t {
		case StatoDiFamigliaEStatoCivile:
			row = append(row, m.CivilStatus.Italian(m.Sex))
		case StatoDiFamigliaConParentela:
			row = append(row, certifiedRelationship(m))
		}
		tab.Rows = append(tab.Rows, row)
	}
	head := d.head()
	a := c.address(r.Address)
	label := "Residente in"
	if t == StatoDiFamigliaAIRE {
		label = "Residente all'estero in"
	}
	lines := []Line{
		{"Intestatario della scheda di famiglia", upperName(head)},
		{label, a},
	}
	if t == StatoDiFamigliaAIRE && r.AIREComune != "" {
		lines = append(lines, Line{"Comune di iscrizione AIRE", c.place(r.AIREComune, c.today())})
	}
	return Section{Heading: "La famiglia anagrafica è così composta", Lines: lines, Table: tab}, nil
}

// idEncoding is lower-case base32 without padding: URL-safe, readable aloud,
// no ambiguous case.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a fresh certificate id of 16 characters (80 random bits),
// reading randomness from r (crypto/rand when nil).
func NewID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [10]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("cannot draw a certificate id: %w", err)
	}
	return idEncoding.EncodeToString(b[:]), nil
}
