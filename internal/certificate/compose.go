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
	c := composer{d: d, names: names, now: in.Issued}
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
			BirthPlace: c.place(p.BirthPlace, p.BirthDate),
			Sex:        p.Sex.String(),
		},
		Opening:   Opening,
		Purpose:   in.Fees.Purpose,
		VerifyURL: in.VerifyURL,
		Facts:     []Fact{{"nome", upperName(p)}, {"cf", p.CF}},
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
		sec, fact, err := c.section(t)
		if err != nil {
			return nil, err
		}
		doc.Sections = append(doc.Sections, sec)
		doc.Facts = append(doc.Facts, Fact{string(t), fact})
	}
	doc.Notices = []string{Art40Notice, ValiditySixMonths}
	if len(types) == 1 && types[0] == Nascita {
		doc.Notices[1] = ValidityUnlimited
	}
	return doc, nil
}

type composer struct {
	d     *SubjectData
	names PlaceNamer
	now   time.Time
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
	if pl := c.place(o.BirthPlace, o.BirthDate); pl != "" {
		s += " a " + pl
	}
	return s
}

func (c composer) section(t Type) (Section, string, error) {
	d, p := c.d, c.d.Person
	switch t {
	case Residenza:
		r, err := c.residence()
		if err != nil {
			return Section{}, "", err
		}
		a := c.address(r.Address)
		return Section{Heading: "Residenza", Lines: []Line{{"È residente in", a}}}, a, nil

	case ResidenzaAIRE:
		r, err := c.residence()
		if err != nil {
			return Section{}, "", err
		}
		a := c.address(r.Address)
		com := c.place(r.AIREComune, c.today())
		return Section{Heading: "Residenza all'estero", Lines: []Line{
			{"È residente all'estero in", a},
			{"Comune di iscrizione AIRE", com},
		}}, a + "; AIRE " + com, nil

	case EsistenzaInVita:
		v := "in vita alla data " + DatedArticle("del", c.today().Italian())
		return Section{Heading: "Esistenza in vita", Lines: []Line{{"Risulta", v}}}, v, nil

	case Cittadinanza:
		return Section{Heading: "Cittadinanza", Lines: []Line{{"Cittadinanza", "italiana"}}}, "italiana", nil

	case Nascita:
		pl := c.place(p.BirthPlace, p.BirthDate)
		lines := []Line{{"Data di nascita", p.BirthDate.Italian()}, {"Luogo di nascita", pl}}
		if p.BirthAct != "" {
			lines = append(lines, Line{"Atto di nascita", p.BirthAct})
		}
		return Section{Heading: "Nascita", Lines: lines}, p.BirthDate.Italian() + " " + pl, nil

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
		return Section{Heading: "Stato civile", Lines: lines}, st, nil

	case StatoLibero:
		st := p.CivilStatus.Italian(p.Sex)
		return Section{Heading: "Stato libero", Lines: []Line{{"È di stato libero", st}}}, "libero (" + st + ")", nil

	case ResidenzaInConvivenza:
		r, err := c.residence()
		if err != nil {
			return Section{}, "", err
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
		}}, d.Family.Name + ", " + a, nil

	case StatoDiFamiglia, StatoDiFamigliaEStatoCivile, StatoDiFamigliaConParentela, StatoDiFamigliaAIRE:
		return c.family(t)
	}
	return Section{}, "", refuse(ReasonUnknownType, "%q is not a certificate type.", string(t))
}

func (c composer) union(t Type) (Section, string, error) {
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
		return Section{}, "", refuse(reason, "the registry holds no %s record with the other party for %s.", strings.ToLower(heading), d.Person.FullName())
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
	fact := strings.TrimSpace(ev.Date.Italian()+" "+where) + ", con " + upperName(o)
	return Section{Heading: heading, Lines: lines}, fact, nil
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

func (c composer) family(t Type) (Section, string, error) {
	d := c.d
	r, err := c.residence()
	if err != nil {
		return Section{}, "", err
	}
	header := []string{"Cognome e nome", "Data di nascita", "Luogo di nascita", "Codice fiscale"}
	switch t {
	case StatoDiFamigliaEStatoCivile:
		header = append(header, "Stato civile")
	case StatoDiFamigliaConParentela:
		header = append(header, "Rapporto con l'intestatario")
	}
	tab := &Table{Header: header}
	var names []string
	for _, m := range d.Members {
		if !m.Alive() {
			continue
		}
		row := []string{upperName(m), m.BirthDate.Italian(), c.place(m.BirthPlace, m.BirthDate), m.CF}
		switch t {
		case StatoDiFamigliaEStatoCivile:
			row = append(row, m.CivilStatus.Italian(m.Sex))
		case StatoDiFamigliaConParentela:
			row = append(row, certifiedRelationship(m))
		}
		tab.Rows = append(tab.Rows, row)
		names = append(names, upperName(m))
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
	return Section{Heading: "La famiglia anagrafica è così composta", Lines: lines, Table: tab}, strings.Join(names, "; "), nil
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
