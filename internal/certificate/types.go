package certificate

import (
	"fmt"
	"sort"
	"strings"
)

// The 15 certificate types ANPR issues online (DM Interno 3.11.2021), by the
// identifiers of the hub's API.
const (
	Nascita                     Type = "nascita"
	Matrimonio                  Type = "matrimonio"
	Cittadinanza                Type = "cittadinanza"
	EsistenzaInVita             Type = "esistenza_in_vita"
	Residenza                   Type = "residenza"
	ResidenzaAIRE               Type = "residenza_aire"
	StatoCivile                 Type = "stato_civile"
	StatoDiFamiglia             Type = "stato_di_famiglia"
	StatoDiFamigliaEStatoCivile Type = "stato_di_famiglia_e_stato_civile"
	ResidenzaInConvivenza       Type = "residenza_in_convivenza"
	StatoDiFamigliaAIRE         Type = "stato_di_famiglia_aire"
	StatoDiFamigliaConParentela Type = "stato_di_famiglia_con_parentela"
	StatoLibero                 Type = "stato_libero"
	UnioneCivile                Type = "unione_civile"
	ContrattoDiConvivenza       Type = "contratto_di_convivenza"
)

// Types beyond ANPR's online catalogue that Milan's shops issued and every
// registry office does: the death certificate, from the death the registry
// records, and the two historical certificates, which describe the
// residence and the family as they were on a date the requester gives.
const (
	Morte                  Type = "morte"
	ResidenzaStorica       Type = "residenza_storica"
	StatoDiFamigliaStorico Type = "stato_di_famiglia_storico"
)

// LocalCodeBase is where Sportello numbers its own types. ANPR's
// tipo_certificato table numbers its types from 1 to 19 (italia/anpr
// src/tab/tipo_certificato), and has no code for these three, which it
// does not issue online; codes from 900 up cannot collide with it, and a
// record or seal carrying one is plainly not an ANPR certificate code.
const LocalCodeBase = 900

// scope says whose records a type certifies: residents (APR), Italians
// abroad (AIRE), or either.
type scope uint8

const (
	residents scope = iota + 1
	aire
	either
)

// Spec describes one type.
type Spec struct {
	Type Type
	// Code is ANPR's tipo_certificato code; LocalCodeBase and up for the
	// types ANPR does not issue.
	Code int
	// Subject is the phrase after "CERTIFICATO ": "DI RESIDENZA",
	// "ANAGRAFICO DI NASCITA".
	Subject string
	// Part is the phrase a contestuale's title lists: "RESIDENZA".
	Part  string
	scope scope
	// ExemptByLaw marks the certificates about stato civile events
	// (births, marriages, civil unions), exempt from bollo under art. 7,
	// comma 5, L. 405/1990. See ExemptByLaw for the caveat.
	ExemptByLaw bool
	// family is the group of types that each describe the whole household
	// in one table; a document carries at most one of them.
	family bool
}

var specs = []Spec{
	{Nascita, 1, "ANAGRAFICO DI NASCITA", "NASCITA", either, true, false},
	{Matrimonio, 3, "ANAGRAFICO DI MATRIMONIO", "MATRIMONIO", either, true, false},
	{Cittadinanza, 5, "DI CITTADINANZA", "CITTADINANZA", either, false, false},
	{EsistenzaInVita, 7, "DI ESISTENZA IN VITA", "ESISTENZA IN VITA", residents, false, false},
	{Residenza, 8, "DI RESIDENZA", "RESIDENZA", residents, false, false},
	{ResidenzaAIRE, 10, "DI RESIDENZA AIRE", "RESIDENZA AIRE", aire, false, false},
	{StatoCivile, 11, "DI STATO CIVILE", "STATO CIVILE", residents, false, false},
	{StatoDiFamiglia, 12, "DI STATO DI FAMIGLIA", "STATO DI FAMIGLIA", residents, false, true},
	{StatoDiFamigliaEStatoCivile, 13, "DI STATO DI FAMIGLIA E DI STATO CIVILE", "STATO DI FAMIGLIA E DI STATO CIVILE", residents, false, true},
	{ResidenzaInConvivenza, 14, "DI RESIDENZA IN CONVIVENZA", "RESIDENZA IN CONVIVENZA", residents, false, true},
	{StatoDiFamigliaAIRE, 15, "DI STATO DI FAMIGLIA AIRE", "STATO DI FAMIGLIA AIRE", aire, false, true},
	{StatoDiFamigliaConParentela, 16, "DI STATO DI FAMIGLIA CON RAPPORTI DI PARENTELA", "STATO DI FAMIGLIA CON RAPPORTI DI PARENTELA", residents, false, true},
	{StatoLibero, 17, "DI STATO LIBERO", "STATO LIBERO", residents, false, false},
	{UnioneCivile, 18, "ANAGRAFICO DI UNIONE CIVILE", "UNIONE CIVILE", either, true, false},
	{ContrattoDiConvivenza, 19, "DI CONTRATTO DI CONVIVENZA", "CONTRATTO DI CONVIVENZA", either, false, false},
	// The death certificate is a stato civile certificate (art. 7, comma
	// 5, L. 405/1990), issued in bollo unless the city turns the
	// exemption on, as for nascita and matrimonio.
	{Morte, LocalCodeBase + 1, "DI MORTE", "MORTE", either, true, false},
	{ResidenzaStorica, LocalCodeBase + 2, "STORICO DI RESIDENZA", "RESIDENZA STORICA", either, false, false},
	{StatoDiFamigliaStorico, LocalCodeBase + 3, "STORICO DI STATO DI FAMIGLIA", "STATO DI FAMIGLIA STORICO", either, false, true},
}

// historical types describe the subject on a date the request gives
// (Request.At) rather than today.
var historical = map[Type]bool{ResidenzaStorica: true, StatoDiFamigliaStorico: true}

// Historical reports whether t describes the subject on a given date, which
// the request must then carry.
func (t Type) Historical() bool { return historical[t] }

// standalone types go on a certificate of their own: a death certificate
// is about a person no other type certifies any more, and a historical one
// speaks of another date than the current types beside it would.
var standalone = map[Type]bool{Morte: true, ResidenzaStorica: true, StatoDiFamigliaStorico: true}

// afterDeath are the types issued about a deceased person: the death
// itself, and the history up to it, which heirs need for a succession.
var afterDeath = map[Type]bool{Morte: true, ResidenzaStorica: true, StatoDiFamigliaStorico: true}

// ANPR reports whether t is one of ANPR's 15 online types.
func (t Type) ANPR() bool { return t.Valid() && t.Code() < LocalCodeBase }

var specByType = func() map[Type]*Spec {
	m := make(map[Type]*Spec, len(specs))
	for i := range specs {
		m[specs[i].Type] = &specs[i]
	}
	return m
}()

// Types returns every type: ANPR's 15 in its code order, then Sportello's
// own (Morte, ResidenzaStorica, StatoDiFamigliaStorico).
func Types() []Type {
	out := make([]Type, len(specs))
	for i, s := range specs {
		out[i] = s.Type
	}
	return out
}

// Specs returns the descriptions of all types in code order.
func Specs() []Spec { return append([]Spec(nil), specs...) }

// Lookup returns the description of t.
func Lookup(t Type) (Spec, bool) {
	s, ok := specByType[t]
	if !ok {
		return Spec{}, false
	}
	return *s, true
}

// ParseType reads an API identifier; an unknown one is a *Refusal.
func ParseType(s string) (Type, error) {
	t := Type(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := specByType[t]; !ok {
		return "", refuse(ReasonUnknownType, "%q is not a certificate type; the types are %s.", s, typeList())
	}
	return t, nil
}

func typeList() string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = string(s.Type)
	}
	return strings.Join(names, ", ")
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { _, ok := specByType[t]; return ok }

// Code returns ANPR's tipo_certificato code, or for Sportello's own types a
// code from LocalCodeBase up; 0 for an unknown type.
func (t Type) Code() int {
	if s, ok := specByType[t]; ok {
		return s.Code
	}
	return 0
}

// Title is the heading of a single-type certificate.
func (t Type) Title() string {
	if s, ok := specByType[t]; ok {
		return "CERTIFICATO " + s.Subject
	}
	return fmt.Sprintf("CERTIFICATO %q", string(t))
}

// Title returns the heading for a document of the given types: the type's own
// title, or for several a contestuale's: "CERTIFICATO CONTESTUALE DI
// RESIDENZA E STATO DI FAMIGLIA". Types are listed in ANPR code order.
func Title(types []Type) string {
	ts := canonical(types)
	if len(ts) == 1 {
		return ts[0].Title()
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = specByType[t].Part
	}
	return "CERTIFICATO CONTESTUALE DI " + strings.Join(parts[:len(parts)-1], ", ") + " E " + parts[len(parts)-1]
}

// canonical returns the known types in ANPR code order, once each.
func canonical(types []Type) []Type {
	out := make([]Type, 0, len(types))
	seen := map[Type]bool{}
	for _, t := range types {
		if t.Valid() && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code() < out[j].Code() })
	return out
}

// ExemptByLaw reports whether a document of these types is exempt from bollo
// whatever its use: only if every type in it is (one anagrafe type in a
// contestuale brings the bollo back).
//
// Art. 7, comma 5, L. 405/1990 exempts the certificates, extracts and copies
// of stato civile acts; comuni apply it to the birth, marriage and civil
// union certificates. ANPR charges bollo on its "anagrafico" versions of
// these, which are drawn from the anagrafe rather than the stato civile
// registers, so the exemption applies only where the city turns it on
// (Policy.LawExemption).
func ExemptByLaw(types []Type) bool {
	if len(types) == 0 {
		return false
	}
	for _, t := range types {
		s, ok := specByType[t]
		if !ok || !s.ExemptByLaw {
			return false
		}
	}
	return true
}
