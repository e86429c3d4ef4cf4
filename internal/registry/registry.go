// Package registry is the civil registry (anagrafe) domain: persons, families
// and convivenze, addresses and residence history, identity documents and civil
// events, and the Store interface every storage back end implements.
//
// The model follows ANPR's data model (github.com/italia/anpr, src/tab/*.rst):
// civil status and family relationship use ANPR's code tables so records can be
// exchanged with ANPR without translation. Nothing here knows about HTTP or a
// particular database.
package registry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/codicefiscale"
)

// Sentinel errors. Store implementations wrap them so callers can use errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrAmbiguous = errors.New("ambiguous: several persons share this codice fiscale's base form")
	ErrConflict  = errors.New("conflict with an existing record")
	ErrInvalid   = errors.New("invalid record")
)

// PersonID, FamilyID and EventID are store-assigned, stable identifiers.
// A codice fiscale is not used as the key because it can be corrected.
type (
	PersonID uint64
	FamilyID uint64
	EventID  uint64
)

// Sex as recorded in the registry and encoded in the codice fiscale.
type Sex byte

const (
	Male   Sex = 'M'
	Female Sex = 'F'
)

func (s Sex) String() string { return string(s) }

// Valid reports whether s is one of the two values the registry records.
func (s Sex) Valid() bool { return s == Male || s == Female }

// CivilStatus is ANPR table 6 (stato civile).
type CivilStatus uint8

const (
	Single                  CivilStatus = 1 // celibe/nubile
	Married                 CivilStatus = 2 // coniugato/a
	Widowed                 CivilStatus = 3 // vedovo/a
	Divorced                CivilStatus = 4 // divorziato/a
	CivilUnion              CivilStatus = 6 // unito civilmente
	FreeAfterPartnerDeath   CivilStatus = 7 // stato libero a seguito di decesso della parte unita civilmente
	FreeAfterUnionDissolved CivilStatus = 8 // stato libero a seguito di scioglimento dell'unione
	CivilStatusUnknown      CivilStatus = 9 // non classificabile/ignoto/n.c.
)

var civilStatusText = map[CivilStatus][2]string{ // masculine, feminine (Italian)
	Single:                  {"celibe", "nubile"},
	Married:                 {"coniugato", "coniugata"},
	Widowed:                 {"vedovo", "vedova"},
	Divorced:                {"divorziato", "divorziata"},
	CivilUnion:              {"unito civilmente", "unita civilmente"},
	FreeAfterPartnerDeath:   {"stato libero a seguito di decesso della parte unita civilmente", "stato libero a seguito di decesso della parte unita civilmente"},
	FreeAfterUnionDissolved: {"stato libero a seguito di scioglimento dell'unione", "stato libero a seguito di scioglimento dell'unione"},
	CivilStatusUnknown:      {"non classificabile", "non classificabile"},
}

// Valid reports whether c is a code of ANPR table 6.
func (c CivilStatus) Valid() bool { _, ok := civilStatusText[c]; return ok }

// Italian returns the wording used on certificates, agreed with sex.
func (c CivilStatus) Italian(s Sex) string { return agreed(civilStatusText, c, s, "stato civile %d") }

// agreed returns the masculine or feminine wording of code, as s asks, or
// unknown filled in with the code when words has none.
func agreed[K ~uint8](words map[K][2]string, code K, s Sex, unknown string) string {
	t, ok := words[code]
	if !ok {
		return fmt.Sprintf(unknown, code)
	}
	if s == Female {
		return t[1]
	}
	return t[0]
}

// Free reports whether the status allows a stato libero certificate:
// neither married nor in a civil union.
func (c CivilStatus) Free() bool {
	switch c {
	case Single, Widowed, Divorced, FreeAfterPartnerDeath, FreeAfterUnionDissolved:
		return true
	}
	return false
}

// Relationship is ANPR table 5 (relazione di parentela): a member's
// relationship to the head of the famiglia anagrafica (intestatario scheda).
type Relationship uint8

const (
	Head                Relationship = 1  // intestatario scheda
	Spouse              Relationship = 2  // marito / moglie
	Child               Relationship = 3  // figlio / figlia
	Grandchild          Relationship = 4  // nipote (discendente)
	GreatGrandchild     Relationship = 5  // pronipote (discendente)
	Parent              Relationship = 6  // padre / madre
	Grandparent         Relationship = 7  // nonno / nonna
	GreatGrandparent    Relationship = 8  // bisnonno / bisnonna
	Sibling             Relationship = 9  // fratello / sorella
	NephewNiece         Relationship = 10 // nipote (collaterale)
	UncleAunt           Relationship = 11 // zio / zia (collaterale)
	Cousin              Relationship = 12 // cugino / cugina
	OtherRelative       Relationship = 13 // altro parente
	Stepchild           Relationship = 14 // figliastro / figliastra
	StepParent          Relationship = 15 // patrigno / matrigna
	ChildInLaw          Relationship = 16 // genero / nuora
	ParentInLaw         Relationship = 17 // suocero / suocera
	SiblingInLaw        Relationship = 18 // cognato / cognata
	HalfSibling         Relationship = 19 // fratellastro / sorellastra
	NephewNieceInLaw    Relationship = 20 // nipote (affine)
	UncleAuntInLaw      Relationship = 21 // zio / zia (affine)
	OtherInLaw          Relationship = 22 // altro affine
	Cohabitant          Relationship = 23 // convivente (con vincoli di adozione o affettivi)
	ConvivenzaHead      Relationship = 24 // responsabile della convivenza non affettiva
	ConvivenzaMember    Relationship = 25 // convivente in convivenza non affettiva
	Guardian            Relationship = 26 // tutore
	CivilPartner        Relationship = 28 // unito civilmente
	Adopted             Relationship = 80 // adottato
	Nephew              Relationship = 81 // nipote
	RelationshipUnknown Relationship = 99 // non definito/comunicato
)

// relationshipText words each code of table 5 as ANPR's own description
// does (italia/anpr src/tab/tabelle.rst, table 5 "relazione di
// parentela"; shared/data/anpr/relazione_parentela.csv), agreed with sex,
// so that no two codes print alike: the four kinds of "nipote" keep ANPR's
// qualifier (discendente: a child's child; collaterale: a sibling's child;
// affine: by marriage; code 81 is ANPR's unqualified "Nipote"), and so do
// the two kinds of "zio" and of "convivente".
var relationshipText = map[Relationship][2]string{
	Head: {"intestatario scheda", "intestataria scheda"}, Spouse: {"marito", "moglie"},
	Child: {"figlio", "figlia"}, Grandchild: {"nipote (discendente)", "nipote (discendente)"},
	GreatGrandchild: {"pronipote (discendente)", "pronipote (discendente)"},
	Parent:          {"padre", "madre"}, Grandparent: {"nonno", "nonna"}, GreatGrandparent: {"bisnonno", "bisnonna"},
	Sibling: {"fratello", "sorella"}, NephewNiece: {"nipote (collaterale)", "nipote (collaterale)"},
	UncleAunt: {"zio (collaterale)", "zia (collaterale)"},
	Cousin:    {"cugino", "cugina"}, OtherRelative: {"altro parente", "altra parente"},
	Stepchild: {"figliastro", "figliastra"}, StepParent: {"patrigno", "matrigna"},
	ChildInLaw: {"genero", "nuora"}, ParentInLaw: {"suocero", "suocera"}, SiblingInLaw: {"cognato", "cognata"},
	HalfSibling: {"fratellastro", "sorellastra"}, NephewNieceInLaw: {"nipote (affine)", "nipote (affine)"},
	UncleAuntInLaw: {"zio (affine)", "zia (affine)"}, OtherInLaw: {"altro affine", "altra affine"},
	Cohabitant:       {"convivente (con vincoli di adozione o affettivi)", "convivente (con vincoli di adozione o affettivi)"},
	ConvivenzaHead:   {"responsabile della convivenza", "responsabile della convivenza"},
	ConvivenzaMember: {"convivente in convivenza non affettiva", "convivente in convivenza non affettiva"},
	Guardian:         {"tutore", "tutrice"},
	CivilPartner:     {"unito civilmente", "unita civilmente"}, Adopted: {"adottato", "adottata"},
	Nephew: {"nipote", "nipote"}, RelationshipUnknown: {"non definito/comunicato", "non definito/comunicato"},
}

// Valid reports whether r is a code of ANPR table 5.
func (r Relationship) Valid() bool { _, ok := relationshipText[r]; return ok }

// Italian returns the wording used on a stato di famiglia, agreed with sex.
func (r Relationship) Italian(s Sex) string { return agreed(relationshipText, r, s, "relazione %d") }

// Date is a calendar date with no time zone: birth dates and the like must not
// shift by a day when a server runs in another zone.
type Date struct {
	Year  int        `json:"y"`
	Month time.Month `json:"m"`
	Day   int        `json:"d"`
}

// NewDate returns the date, or an error if it does not exist (30 February).
func NewDate(y int, m time.Month, d int) (Date, error) {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || t.Month() != m || t.Day() != d {
		return Date{}, fmt.Errorf("%04d-%02d-%02d is not a calendar date", y, m, d)
	}
	return Date{y, m, d}, nil
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date { return Date{t.Year(), t.Month(), t.Day()} }

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.Year == 0 && d.Month == 0 && d.Day == 0 }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Italian formats d as on Italian documents: 02/01/2006.
func (d Date) Italian() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%02d/%02d/%04d", d.Day, int(d.Month), d.Year)
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// AgeAt returns the age in completed years on day at.
func (d Date) AgeAt(at Date) int {
	age := at.Year - d.Year
	if at.Month < d.Month || (at.Month == d.Month && at.Day < d.Day) {
		age--
	}
	return age
}

// Address is a dwelling. Comune is a Belfiore code; its name comes from the
// places table so that a renamed comune is shown correctly.
type Address struct {
	Street   string `json:"street"`             // "Via Giuseppe Verdi" (DUG + denomination)
	Number   string `json:"number"`             // civic number with any suffix: "12", "12/A", "12 bis"
	Internal string `json:"internal,omitempty"` // staircase/flat: "scala B int. 4"
	CAP      string `json:"cap"`
	Comune   string `json:"comune"` // Belfiore code, e.g. F205
	Locality string `json:"locality,omitempty"`
}

// Line formats the street part as it appears on certificates.
func (a Address) Line() string {
	s := a.Street
	if a.Number != "" {
		s += " " + a.Number
	}
	if a.Internal != "" {
		s += ", " + a.Internal
	}
	return s
}

// Residence is one period of a person's residence history. To is zero for the
// current residence. AIRE residences are abroad: Address.Comune is then the
// Z-code of the foreign state and AIREComune the Italian comune of registration.
type Residence struct {
	Address    Address `json:"address"`
	From       Date    `json:"from"`
	To         Date    `json:"to,omitzero"`
	AIREComune string  `json:"aire_comune,omitempty"`
}

// DocumentKind names an identity document type.
type DocumentKind string

const (
	CIE      DocumentKind = "CIE"      // carta d'identità elettronica
	Passport DocumentKind = "PASSPORT" // passaporto
	Paper    DocumentKind = "CI"       // carta d'identità cartacea
)

// Document is an identity document. For a CIE, Number is the card number
// printed on the front (e.g. CA12345AB) and NIS the 12-digit identification
// number held in the chip's EF.ID_Servizi, read by kiosks without a PIN.
type Document struct {
	Kind    DocumentKind `json:"kind"`
	Number  string       `json:"number"`
	NIS     string       `json:"nis,omitempty"`
	Issued  Date         `json:"issued"`
	Expires Date         `json:"expires"`
	Issuer  string       `json:"issuer,omitempty"` // Belfiore code of the issuing comune
	Revoked bool         `json:"revoked,omitempty"`
}

// ValidOn reports whether the document may be used for identification on day d.
func (doc Document) ValidOn(d Date) bool {
	return !doc.Revoked && !d.Before(doc.Issued) && !doc.Expires.Before(d)
}

// Person is one individual in the registry.
type Person struct {
	ID           PersonID    `json:"id"`
	CF           string      `json:"cf"`
	Surname      string      `json:"surname"`
	GivenNames   string      `json:"given_names"`
	Sex          Sex         `json:"sex"`
	BirthDate    Date        `json:"birth_date"`
	BirthPlace   string      `json:"birth_place"`         // Belfiore code (Z### abroad)
	BirthAct     string      `json:"birth_act,omitempty"` // atto di nascita reference: "anno 1985 parte I serie A n. 123"
	Citizenships []string    `json:"citizenships"`        // Belfiore codes of states; "Z000" is Italy
	CivilStatus  CivilStatus `json:"civil_status"`
	DeathDate    Date        `json:"death_date,omitzero"`
	DeathPlace   string      `json:"death_place,omitempty"`
	AIRE         bool        `json:"aire,omitempty"` // registered in the Anagrafe degli Italiani Residenti all'Estero
	// PartlyCertifiable marks a record whose data are only partly verified
	// (ANPR "scheda parzialmente certificabile"): only residenza and stato di
	// famiglia may be certified from it.
	PartlyCertifiable bool         `json:"partly_certifiable,omitempty"`
	Family            FamilyID     `json:"family,omitempty"`
	Relationship      Relationship `json:"relationship,omitempty"`
	Residences        []Residence  `json:"residences,omitempty"` // oldest first; last is current when its To is zero
	Documents         []Document   `json:"documents,omitempty"`
	// Email is a contact address the person gave the registry office, for
	// notices such as a certificate issued about them; not certified data.
	Email string `json:"email,omitempty"`
	// ProcedureOpen is the start of an administrative procedure open on
	// the person (a residence change being examined, say); zero when none
	// is open. ANPR issues no certificate while one is open.
	ProcedureOpen Date `json:"procedure_open,omitzero"`
	// BirthLocality is the town of a birth abroad as the foreign act (or
	// its transcription) names it, "IL CAIRO"; empty for a birth in Italy,
	// where BirthPlace's comune says it all, or when the act names only
	// the state. ANPR keeps it beside the state (luogoNascita:
	// localitaEstera) and certificates print "nata a IL CAIRO (EGITTO)".
	BirthLocality string `json:"birth_locality,omitempty"`
	// Memberships is the person's history in families and convivenze,
	// oldest first: the current one (To zero) agrees with Family and
	// Relationship; earlier ones are kept after a move, a marriage or a
	// death, as the registry office keeps the past composition of each
	// famiglia (DPR 223/1989 art. 21 c. 4-5: persons who join are entered
	// in the scheda di famiglia, those who leave struck off, and the
	// scheda is archived, not destroyed) for historical certificates.
	// Empty on records written before the history was kept.
	Memberships []Membership `json:"memberships,omitempty"`
}

// Membership is one period in which a person belonged to a family or a
// convivenza with one relationship to its head. To is the last day of the
// period (a death's date, the day before a move); zero while it lasts.
type Membership struct {
	Family       FamilyID     `json:"family"`
	Relationship Relationship `json:"relationship"`
	From         Date         `json:"from"`
	To           Date         `json:"to,omitzero"`
}

// Covers reports whether day falls within the period, both ends included.
func (m Membership) Covers(day Date) bool {
	return !m.From.IsZero() && !day.Before(m.From) && (m.To.IsZero() || !m.To.Before(day))
}

// MembershipOn returns the membership period covering day, if the history
// records one.
func (p *Person) MembershipOn(day Date) (Membership, bool) {
	for i := len(p.Memberships) - 1; i >= 0; i-- {
		if m := p.Memberships[i]; m.Covers(day) {
			return m, true
		}
	}
	return Membership{}, false
}

// Join records that p belongs from day on to family with relationship rel:
// an open membership in another family, or with another relationship, is
// closed the day before, and Family and Relationship are set. Registry
// writes that move a person between families call it so the history
// stays whole.
func (p *Person) Join(family FamilyID, rel Relationship, day Date) {
	if n := len(p.Memberships); n > 0 {
		last := &p.Memberships[n-1]
		switch {
		case !last.To.IsZero():
		case last.Family == family && last.Relationship == rel:
			p.Family, p.Relationship = family, rel
			return
		case !last.From.Before(day):
			// Corrected on the day it began: the earlier entry never held.
			p.Memberships = p.Memberships[:n-1]
		default:
			last.To = DateOf(day.Time().AddDate(0, 0, -1))
		}
	}
	p.Family, p.Relationship = family, rel
	if family != 0 {
		p.Memberships = append(p.Memberships, Membership{Family: family, Relationship: rel, From: day})
	}
}

// LeaveOn closes p's open membership on day (a death, an emigration): p
// belongs to no family after it.
func (p *Person) LeaveOn(day Date) {
	if n := len(p.Memberships); n > 0 && p.Memberships[n-1].To.IsZero() {
		p.Memberships[n-1].To = day
	}
	p.Family, p.Relationship = 0, 0
}

// FirstRecord returns the earliest date from which the registry holds
// p's residence or family history; zero when it holds none.
func (p *Person) FirstRecord() Date {
	var first Date
	for _, r := range p.Residences {
		if !r.From.IsZero() && (first.IsZero() || r.From.Before(first)) {
			first = r.From
		}
	}
	for _, m := range p.Memberships {
		if !m.From.IsZero() && (first.IsZero() || m.From.Before(first)) {
			first = m.From
		}
	}
	return first
}

// Italy is the Belfiore-style code ANPR uses for Italian citizenship.
const Italy = "Z000"

// ANPR's citizenship codes that name no state (stati_esteri.csv, CODISTAT
// 997, 998, 999, with no Belfiore code): the registry records them in
// Person.Citizenships as they are.
const (
	CitizenshipPending      = "997" // in corso di definizione
	CitizenshipUnassignable = "998" // non attribuibile
	Stateless               = "999" // apolide
)

// Alive reports whether no death is recorded.
func (p *Person) Alive() bool { return p.DeathDate.IsZero() }

// FullName is "Surname Given names" as on Italian registry documents.
func (p *Person) FullName() string { return p.Surname + " " + p.GivenNames }

// CurrentResidence returns the open residence period, if any.
func (p *Person) CurrentResidence() (Residence, bool) {
	if n := len(p.Residences); n > 0 && p.Residences[n-1].To.IsZero() {
		return p.Residences[n-1], true
	}
	return Residence{}, false
}

// Italian reports whether the person holds Italian citizenship.
func (p *Person) Italian() bool {
	for _, c := range p.Citizenships {
		if c == Italy {
			return true
		}
	}
	return false
}

// ValidDocument returns a valid CIE if there is one, else any valid document.
func (p *Person) ValidDocument(on Date) (Document, bool) {
	var found *Document
	for i := range p.Documents {
		d := &p.Documents[i]
		if !d.ValidOn(on) {
			continue
		}
		if d.Kind == CIE {
			return *d, true
		}
		if found == nil {
			found = d
		}
	}
	if found == nil {
		return Document{}, false
	}
	return *found, true
}

// Validate checks what any store must refuse to save.
func (p *Person) Validate() error {
	switch {
	case len(p.CF) != 16:
		return fmt.Errorf("%w: codice fiscale %q must have 16 characters", ErrInvalid, p.CF)
	case p.Surname == "" || p.GivenNames == "":
		return fmt.Errorf("%w: person %s has no surname or given names", ErrInvalid, p.CF)
	case !p.Sex.Valid():
		return fmt.Errorf("%w: person %s has sex %q, want M or F", ErrInvalid, p.CF, p.Sex)
	case p.BirthDate.IsZero():
		return fmt.Errorf("%w: person %s has no birth date", ErrInvalid, p.CF)
	case !p.CivilStatus.Valid():
		return fmt.Errorf("%w: person %s has civil status %d, not in ANPR table 6", ErrInvalid, p.CF, p.CivilStatus)
	case p.Family != 0 && !p.Relationship.Valid():
		return fmt.Errorf("%w: person %s has relationship %d, not in ANPR table 5", ErrInvalid, p.CF, p.Relationship)
	}
	for i, m := range p.Memberships {
		switch {
		case m.From.IsZero():
			// The family itself is the store's to check: it must hold it.
			return fmt.Errorf("%w: person %s has a family membership with no start date", ErrInvalid, p.CF)
		case !m.Relationship.Valid():
			return fmt.Errorf("%w: person %s has relationship %d in family %d, not in ANPR table 5", ErrInvalid, p.CF, m.Relationship, m.Family)
		case !m.To.IsZero() && m.To.Before(m.From):
			return fmt.Errorf("%w: person %s has a membership of family %d ending %s before it starts %s", ErrInvalid, p.CF, m.Family, m.To, m.From)
		case i > 0 && (p.Memberships[i-1].To.IsZero() || !p.Memberships[i-1].To.Before(m.From)):
			return fmt.Errorf("%w: person %s has overlapping family memberships (family %d from %s)", ErrInvalid, p.CF, m.Family, m.From)
		}
	}
	return nil
}

// ValidateStored checks what a store must refuse of a person it is asked
// to put (none at all, what Validate refuses, a membership naming no
// family) and returns the codice fiscale as stored and its omocodia base
// (NormalizeCF). Validate allows a membership with no family because a
// record being built (the synthetic city, an import) names its families
// before the store has given them IDs.
func (p *Person) ValidateStored() (code, base string, err error) {
	if p == nil {
		return "", "", fmt.Errorf("%w: no person given", ErrInvalid)
	}
	if err := p.Validate(); err != nil {
		return "", "", err
	}
	for _, m := range p.Memberships {
		if m.Family == 0 {
			return "", "", fmt.Errorf("%w: person %s has a family membership naming no family", ErrInvalid, p.CF)
		}
	}
	code, base, err = NormalizeCF(p.CF)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return code, base, nil
}

// Families is every family p is a member of, now or in its history
// (Memberships), once each, the current one first: the families a store
// must hold before it holds p, and indexes p under.
func (p *Person) Families() []FamilyID {
	var out []FamilyID
	if p.Family != 0 {
		out = append(out, p.Family)
	}
	for _, m := range p.Memberships {
		if m.Family != 0 && !slices.Contains(out, m.Family) {
			out = append(out, m.Family)
		}
	}
	return out
}

// CIENIS is the distinct NIS of p's CIE documents: only a CIE's chip
// carries one a kiosk can read, so only these identify p by card.
func (p *Person) CIENIS() []string {
	var out []string
	for _, d := range p.Documents {
		nis := strings.TrimSpace(d.NIS)
		if d.Kind == CIE && nis != "" && !slices.Contains(out, nis) {
			out = append(out, nis)
		}
	}
	return out
}

// NormalizeCF returns a codice fiscale as every store keeps and looks it up
// (upper case, no surrounding spaces) and its omocodia base form, or why it
// is not one.
func NormalizeCF(cf string) (code, base string, err error) {
	base, err = codicefiscale.Base(cf)
	if err != nil {
		return "", "", err
	}
	return strings.ToUpper(strings.TrimSpace(cf)), base, nil
}

// Validate checks what any store must refuse to save of a family.
func (f *Family) Validate() error {
	if f == nil {
		return fmt.Errorf("%w: no family given", ErrInvalid)
	}
	if f.Kind != Famiglia && f.Kind != Convivenza {
		return fmt.Errorf("%w: family kind %d is neither a famiglia (1) nor a convivenza (2)", ErrInvalid, f.Kind)
	}
	return nil
}

// Validate checks what any store must refuse to save of an event; that
// the persons it names exist is the store's to check.
func (e *Event) Validate() error {
	switch {
	case e == nil:
		return fmt.Errorf("%w: no event given", ErrInvalid)
	case e.Kind == "":
		return fmt.Errorf("%w: the event has no kind", ErrInvalid)
	case e.Date.IsZero():
		return fmt.Errorf("%w: the %s event has no date", ErrInvalid, e.Kind)
	case len(e.Persons) == 0:
		return fmt.Errorf("%w: the %s event of %s involves nobody", ErrInvalid, e.Kind, e.Date)
	}
	return nil
}

// FamilyKind distinguishes a famiglia anagrafica from a convivenza anagrafica
// (a religious community, barracks, care home: DPR 223/1989 art. 5).
type FamilyKind uint8

const (
	Famiglia   FamilyKind = 1
	Convivenza FamilyKind = 2
)

// Family is a famiglia anagrafica or a convivenza. Its address is its
// members' current residence; it is not stored twice. Members are listed in
// Person.Family and Person.Relationship, so membership has a single source.
type Family struct {
	ID   FamilyID   `json:"id"`
	Kind FamilyKind `json:"kind"`
	Name string     `json:"name,omitempty"` // a convivenza's name ("Istituto San Giuseppe")
}

// EventKind names a civil event.
type EventKind string

const (
	Birth            EventKind = "nascita"
	Marriage         EventKind = "matrimonio"
	CivilUnionFormed EventKind = "unione_civile"
	Divorce          EventKind = "divorzio"
	UnionDissolved   EventKind = "scioglimento_unione_civile"
	Death            EventKind = "morte"
	ResidenceChange  EventKind = "cambio_residenza"
	CohabitationPact EventKind = "contratto_di_convivenza" // L. 76/2016, art. 1 c. 50
)

// Event is a civil event involving one or more persons: a marriage has two,
// a birth one (parents are recorded as Related).
type Event struct {
	ID      EventID    `json:"id"`
	Kind    EventKind  `json:"kind"`
	Date    Date       `json:"date"`
	Place   string     `json:"place,omitempty"` // Belfiore code
	Persons []PersonID `json:"persons"`
	Related []PersonID `json:"related,omitempty"`
	Act     string     `json:"act,omitempty"` // reference to the civil-status act or practice
	Note    string     `json:"note,omitempty"`
	// Authentication is who authenticated a contratto di convivenza and
	// when: L. 76/2016 art. 1 c. 51 requires a public act or a private deed
	// whose signatures a notaio or an avvocato authenticates, and c. 52 has
	// that professional send it to the comune for registration. Nil for
	// other events.
	Authentication *Authentication `json:"authentication,omitempty"`
}

// Professional is who may authenticate a contratto di convivenza (L.
// 76/2016 art. 1 c. 51).
type Professional string

const (
	Notary Professional = "notaio"
	Lawyer Professional = "avvocato"
)

// Authentication is the authentication of a contratto di convivenza: the
// professional, their name, the date of the act and its reference (the
// notary's repertorio number, say).
type Authentication struct {
	Professional Professional `json:"professional"`
	Name         string       `json:"name"`
	Date         Date         `json:"date"`
	Reference    string       `json:"reference,omitempty"`
}
