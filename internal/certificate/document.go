package certificate

import (
	"strings"
	"time"
)

// Document is a certificate ready to render: every word and number that will
// appear on the page, already decided by the domain rules. Renderers (PDF,
// screen preview, the verification page) only lay it out; they never look at
// the registry. The same Document is what the QR seal signs.
type Document struct {
	ID       string    // certificate id: short, URL-safe, unique (shown and in the QR)
	Types    []Type    // one, or several for a contestuale
	Title    string    // "CERTIFICATO CONTESTUALE DI RESIDENZA E STATO DI FAMIGLIA"
	Issuer   Issuer    // the comune and office that certifies
	Issued   time.Time // issue instant; rendered in Europe/Rome
	Protocol string    // protocol register number as shown: "2026/0000123"

	Subject Subject // whom the certificate is about

	// Body is the certifying text: an opening ("L'UFFICIALE D'ANAGRAFE, visti
	// gli atti d'ufficio, CERTIFICA che"), then labelled facts and tables.
	Opening  string
	Sections []Section

	Purpose string    // "Uso consentito ..." or the exemption sentence with its legal reference
	Fees    []FeeLine // the comune's charges as printed (bollo, diritti), integer cents; never the shop's fee
	Notices []string  // the art. 40 DPR 445/2000 sentence (or the use's, Use.Notice) and any other mandatory text

	// Facts are the key facts the QR seal carries, in order, so a verifier
	// can compare the paper with the signed token: e.g. "residenza" →
	// "Via Giuseppe Verdi 12, 20121 Milano (MI)".
	Facts []Fact

	VerifyURL string // public page for this certificate: https://hub.example/v/{id}
}

// Issuer identifies the certifying comune.
type Issuer struct {
	Comune   string // "Comune di Milano"
	Belfiore string // "F205"
	Office   string // "Servizi Civici — Ufficio Anagrafe"
	Address  string // office address line
	Officer  string // "L'Ufficiale d'Anagrafe" (delegated officer's name when known)
	Place    string // place of issue as printed: "Milano"
	// OfficerName is the delegated registry officer ("Mario Rossi") and
	// Delegation the act delegating them; SealRule is the rule under which
	// the comune's electronic seal replaces the signature. City settings;
	// empty when the city has set none.
	OfficerName string
	Delegation  string
	SealRule    string
}

// DefaultSealRule is printed under the officer when the city names no rule
// of its own. The seal of a legal person is the eIDAS electronic seal (art.
// 35 Regolamento UE 910/2014: it may not be denied legal effect, and a
// qualified one is presumed to ensure the data's origin and integrity); the
// PDF is an informatic document whose probative value art. 20 c. 1-bis D.Lgs.
// 82/2005 (CAD) sets. It says "sigillo elettronico", not "qualificato", since
// the demo seal is not qualified: a city sealing with a qualified seal from
// its trust service names that in its own rule.
const DefaultSealRule = "Firma autografa sostituita dal sigillo elettronico del Comune ai sensi dell'art. 35 del Regolamento UE 910/2014 (eIDAS) e dell'art. 20 del D.Lgs. 82/2005 (CAD)."

// Officer is the registry officer's role as printed when the city names
// none: the mayor is ufficiale d'anagrafe as officer of the government
// (art. 14 D.Lgs. 267/2000, art. 2 DPR 223/1989).
const Officer = "L'Ufficiale d'Anagrafe"

// Signatory is the closing block under the place and date: who certifies
// and how the signature is replaced.
type Signatory struct {
	Role       string // "L'Ufficiale d'Anagrafe delegato", or the role alone
	Name       string // "Mario Rossi"; empty when the city names no officer
	Delegation string // "(delega: decreto sindacale n. 12 del 03/02/2025)"; empty without one
	SealRule   string // the sentence replacing the handwritten signature
}

// Signs is the signatory in one line: the role and the name.
func (s Signatory) Signs() string { return strings.TrimSpace(s.Role + " " + s.Name) }

// Signatory words the closing block from the city's settings. The mayor
// may delegate the functions of ufficiale d'anagrafe to an assessore, the
// segretario comunale or the comune's staff (art. 2 DPR 223/1989), and the delegated officer signs as such, naming
// the act; with no officer named the certificate keeps the role alone.
func (i Issuer) Signatory() Signatory {
	s := Signatory{Role: i.Officer, Name: strings.TrimSpace(i.OfficerName), SealRule: strings.TrimSpace(i.SealRule)}
	if s.Role == "" {
		s.Role = Officer
	}
	if s.Name != "" {
		if d := strings.TrimSpace(i.Delegation); d != "" {
			s.Role = strings.TrimSuffix(s.Role, " delegato") + " delegato"
			s.Delegation = "(delega: " + d + ")"
		}
	}
	if s.SealRule == "" {
		s.SealRule = DefaultSealRule
	}
	return s
}

// Subject is the person certified, as printed.
type Subject struct {
	Name       string // "ROSSI MARIO"
	CF         string
	BirthDate  string // as printed: 17/02/1950
	BirthPlace string // as printed: "MILANO (MI)", "IL CAIRO (EGITTO)", "EGITTO"
	// BirthPrep is the preposition before BirthPlace when it is not "a":
	// "in" before a foreign state named alone ("nata in EGITTO"); empty
	// before a town ("nata a MILANO (MI)").
	BirthPrep string `json:",omitempty"`
	Sex       string // "M" or "F"
}

// Section is a labelled block of the body: label/value lines, or a table
// (the members of a family).
type Section struct {
	Heading string
	Lines   []Line
	Table   *Table
}

// Line is one labelled fact: "Residenza" — "Via Giuseppe Verdi 12 …".
type Line struct {
	Label, Value string
}

// Table is a small table with a header row.
type Table struct {
	Header []string
	Rows   [][]string
}

// FeeLine is one fee component as printed on the certificate.
type FeeLine struct {
	Label string // "Imposta di bollo", "Diritti di segreteria"
	Cents int64  // 0 when exempt
	Note  string // "esente ai sensi dell'art. 16 tab. B DPR 642/1972"
}

// Fact is one key/value pair sealed in the QR.
type Fact struct {
	Key, Value string
}
