// Package protocol is the comune's protocol register (registro di protocollo,
// DPR 445/2000 artt. 53-57): every outgoing certificate and, later, every
// incoming filed request gets a progressive number of at least seven digits
// that restarts on 1 January, and its date, correspondent, subject and the
// SHA-256 of the document are fixed when the number is assigned. A daily
// register lists one day's entries in number order.
//
// This package holds the types, the year and day rules, the daily export,
// and the interfaces of the register's stores (Tx, Numbering, store.go);
// the stores live under internal/store (bolt/protobolt, postgres), with
// their conformance suite in protocol/protocoltest.
package protocol

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the register's year and day are Rome's, whatever the host's zone database
)

// Rome is the zone that decides an entry's year and day: a certificate
// issued at 00:30 on 1 January in Rome belongs to the new year even though
// it is still 31 December in UTC.
var Rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("protocol: " + err.Error())
	}
	return loc
}

// Digits is the minimum width of the progressive number (art. 57: "almeno
// sette cifre numeriche").
const Digits = 7

// Register identifies the register a number belongs to. Certificates go
// into a register of their own (registrazione particolare, art. 53 c. 5 DPR
// 445/2000), and the segnatura of a document registered in any register
// carries, in this order, the administration's code, the code of its area
// organizzativa omogenea, the register's code, the date and the progressive
// (DPCM 3.12.2013 art. 9 c. 1 lett. a-e; the same elements as the
// CodiceAmministrazione, CodiceAOO and CodiceRegistro of the segnatura in
// AgID's Linee guida sul documento informatico, allegato 6). The three
// codes are city settings (city.Config IPACode, AOOCode, RegisterCode).
//
// A register whose codes are all empty is that of a hub whose city has not
// set them, and of every entry made before they existed: its numbers read
// as the bare year and progressive, "2026/0000123", as they always did.
type Register struct {
	IPA  string `json:"ipa,omitempty"`  // codice IPA dell'amministrazione: "c_f205"
	AOO  string `json:"aoo,omitempty"`  // codice dell'area organizzativa omogenea
	Code string `json:"code,omitempty"` // codice identificativo del registro
}

// IsZero reports whether no code is set.
func (r Register) IsZero() bool { return r == Register{} }

// MaxCodeLen bounds each code: IPA's administration codes are a few
// characters ("c_f205", "m_pi"), its AOO codes seven, and a register code
// is a short label; more is a typing error.
const MaxCodeLen = 32

// ErrRegister is wrapped by Register.Check's errors.
var ErrRegister = errors.New("invalid register codes")

// Check refuses codes a number cannot carry: all three are set or none
// (a segnatura without one of them does not identify the register, DPCM
// 3.12.2013 art. 9), and each is made of letters, digits, "_" and "-", as
// IPA's codes are, so the dot that separates them in a number is never
// part of one.
func (r Register) Check() error {
	if r.IsZero() {
		return nil
	}
	for _, c := range []struct{ name, v string }{{"IPA code of the administration", r.IPA}, {"AOO code", r.AOO}, {"register code", r.Code}} {
		if c.v == "" {
			return fmt.Errorf("%w: the %s is not set, and a certificate number carries the IPA, AOO and register codes together (DPCM 3.12.2013 art. 9); set all three or none", ErrRegister, c.name)
		}
		if len(c.v) > MaxCodeLen || strings.ContainsFunc(c.v, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
		}) {
			return fmt.Errorf("%w: the %s %q must be 1 to %d letters, digits, \"_\" or \"-\"", ErrRegister, c.name, c.v, MaxCodeLen)
		}
	}
	return nil
}

// String is the register's codes as they lead a number: "c_f205.A1B2C3.CERT".
func (r Register) String() string {
	if r.IsZero() {
		return ""
	}
	return r.IPA + "." + r.AOO + "." + r.Code
}

// Number identifies an entry: the register, the year and the progressive
// within it.
//
// The register is the hub's one certificate register, whatever its codes
// say: the progressive runs through the year (art. 57 DPR 445/2000) across
// a change of the codes, which takes effect from the next number. A city
// that changes its register code mid-year renames its register (the codes
// identify it, DPCM 3.12.2013 art. 9; they do not make another one), so
// starting again at 1 would put two registers' entries in one file, one
// daily register and one year, and give two documents the same progressive
// within one year. Numbers already given keep the codes they were given
// with: the entry and the record store the whole number. Seq alone is
// therefore unique within a year; Same compares numbers that way.
type Number struct {
	Register Register `json:"register,omitzero"`
	Year     int
	Seq      uint64
}

// String formats n as shown on documents: the register's codes, dot
// separated, then year and progressive, "c_f205.A1B2C3.CERT.2026/0000123";
// a number of a register without codes is "2026/0000123". The date of
// registration (the segnatura's fourth element) is printed beside it
// wherever the number is shown ("del 05/12/2026").
func (n Number) String() string {
	if n.Register.IsZero() {
		return n.Short()
	}
	return n.Register.String() + "." + n.Short()
}

// Short is the year and progressive alone, 2026/0000123: the number as the
// register's own rows and its day index know it.
func (n Number) Short() string { return fmt.Sprintf("%04d/%0*d", n.Year, Digits, n.Seq) }

// IsZero reports whether n is unset.
func (n Number) IsZero() bool { return n.Year == 0 && n.Seq == 0 }

// Same reports whether n and o are the same registration: the same year
// and progressive, whatever codes the register had when each was read.
func (n Number) Same(o Number) bool { return n.Year == o.Year && n.Seq == o.Seq }

// ParseNumber reads a number as String writes it, "c_f205.A1B2C3.CERT.2026/0000123",
// or as numbers were written before registers had codes, "2026/0000123", so
// older records and audit entries still read.
func ParseNumber(s string) (Number, error) {
	bad := fmt.Errorf("%q is not a protocol number of the form IPA.AOO.REGISTRO.YYYY/NNNNNNN or YYYY/NNNNNNN", s)
	var reg Register
	num := s
	if parts := strings.Split(s, "."); len(parts) == 4 {
		reg, num = Register{IPA: parts[0], AOO: parts[1], Code: parts[2]}, parts[3]
		if reg.IsZero() || reg.Check() != nil {
			return Number{}, bad
		}
	} else if len(parts) != 1 {
		return Number{}, bad
	}
	y, q, ok := strings.Cut(num, "/")
	year, err1 := strconv.Atoi(y)
	seq, err2 := strconv.ParseUint(q, 10, 64)
	if !ok || err1 != nil || err2 != nil || len(y) != 4 || len(q) < Digits || seq == 0 || y[0] == '+' || y[0] == '-' || q[0] == '+' {
		return Number{}, bad
	}
	return Number{Register: reg, Year: year, Seq: seq}, nil
}

// Direction is whether a document leaves or reaches the comune.
type Direction string

const (
	Outgoing Direction = "out" // in uscita: certificates
	Incoming Direction = "in"  // in entrata: filed requests
	// Annulled marks a number that was assigned but never carried a
	// document (a rendering or storage failure, a crash before the
	// document was registered). The register may have no holes, and art.
	// 54 DPR 445/2000 lets a registration be annulled only by recording
	// the annulment with its reason, date, time and author, so the number
	// gets an entry of its own rather than being skipped or reused.
	Annulled Direction = "annulled"
)

// AnnulmentDocType is the document type of an annulment entry.
const AnnulmentDocType = "annullamento di registrazione (art. 54 DPR 445/2000)"

// annulledPrefix starts the subject of an annulment, so the word
// "ANNULLATO" the article asks for is on the line whatever the reason.
const annulledPrefix = "ANNULLATO: "

// RuleUnregistered is the written rule under which the hub annuls a number
// with no person deciding: a number handed out to a document that was then
// never registered (its rendering or storage failed, the hub stopped
// before the commit, a duplicate request took it) carries nothing, and the
// register may neither reuse it nor leave it empty. The number is
// information the system assigned (art. 53 c. 1 lett. a DPR 445/2000), and
// annulling it annuls the whole registration at once (DPCM 3.12.2013 art.
// 8 c. 1); the annulment stays readable with its date, author and the
// details of what authorised it (art. 54 c. 2 DPR 445/2000), which for
// these is this rule. Its text is what the register prints.
const RuleUnregistered = "annullamento automatico della procedura: numero assegnato a un documento mai registrato (art. 54 DPR 445/2000; DPCM 3.12.2013 art. 8 c. 1)"

// Annulment returns the entry that annuls number n at time at: by is the
// author (the operator, a person or the procedure that annulled it), auth
// the details of what authorised it, reason why (art. 54 c. 2 DPR
// 445/2000: the annulment shows its date, the operator and "gli estremi del
// provvedimento d'autorizzazione"). A person's annulment names the staff
// member or act that authorised it; an automatic one names the written
// rule it follows (RuleUnregistered). ref names the document the number
// was meant for, if it has an identifier. The entry's SHA-256 is that of
// its statement (AnnulmentStatement), so the annulment, like any
// registration, is fixed by a digest a verifier can recompute from the
// register alone.
func Annulment(n Number, at time.Time, by, auth, reason, ref string) Entry {
	e := Entry{Number: n, Time: at, Direction: Annulled, Correspondent: strings.TrimSpace(by),
		Subject: annulledPrefix + strings.TrimSpace(reason), DocType: AnnulmentDocType, Ref: ref,
		Authorisation: strings.TrimSpace(auth)}
	e.DocSHA256 = sha256.Sum256([]byte(e.AnnulmentStatement()))
	return e
}

// AnnulmentStatement is the text an annulment entry's SHA-256 covers: the
// number, the time, the author, what authorised it and the reason, as one
// line. Annulments registered before the authorisation was kept have none,
// and their statement, without it, still matches their digest.
func (e *Entry) AnnulmentStatement() string {
	auth := ""
	if e.Authorisation != "" {
		auth = ", autorizzazione: " + e.Authorisation
	}
	return fmt.Sprintf("Registrazione di protocollo n. %s annullata il %s da %s%s. Motivo: %s", e.Number,
		e.Time.In(Rome).Format(time.RFC3339Nano), e.Correspondent, auth, strings.TrimPrefix(e.Subject, annulledPrefix))
}

// Reason returns the reason of an annulment entry, empty for others.
func (e *Entry) Reason() string {
	if e.Direction != Annulled {
		return ""
	}
	return strings.TrimPrefix(e.Subject, annulledPrefix)
}

// Entry is one registration. Once written it is never changed.
type Entry struct {
	Number    Number    `json:"number"`
	Time      time.Time `json:"time"`
	Direction Direction `json:"direction"`
	// Correspondent is the sender of an incoming document or the recipient
	// of an outgoing one.
	Correspondent string   `json:"correspondent"`
	Subject       string   `json:"subject"`  // oggetto
	DocType       string   `json:"doc_type"` // "certificato anagrafico"
	DocSHA256     [32]byte `json:"doc_sha256"`
	// Ref is the document's own identifier (a certificate id), so the
	// entry leads back to the document.
	Ref string `json:"ref,omitempty"`
	// Authorisation, on an annulment, is the details of what authorised
	// it (art. 54 c. 2 DPR 445/2000): the staff member or act, or the
	// written rule of an automatic annulment (RuleUnregistered). Empty on
	// annulments registered before it was kept.
	Authorisation string `json:"authorisation,omitempty"`
}

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid protocol entry")

// Errors of a registration refused for the register's sake, not the
// document's: the same request succeeds once the clock is right again (or,
// for a day closed under an issuance in flight, at once with a new date).
var (
	ErrClockBehind = errors.New("the clock is behind the protocol register")
	ErrDayClosed   = errors.New("that day's protocol register is closed")
)

// MaxStepBack is how far behind the register's latest time the clock may
// read and the register still take entries (see Stamp).
const MaxStepBack = 2 * time.Minute

// Stamp returns the registration time of an entry made when the clock reads
// now, in a register whose entries so far reach floor (the latest time of
// an entry, or the first instant after the last closed day).
//
// The date of registration is assigned by the system and cannot be changed
// afterwards (art. 53 c. 1 lett. b DPR 445/2000), and the numbering is
// progressive (art. 57): a later number dated before an earlier one would
// make the register contradict itself about which document came first.
// So when the clock reads before floor (an NTP correction, a virtual
// machine resumed) the entry takes floor itself, as long as the clock is
// less than MaxStepBack behind: the date is then off by less than that
// from any reading of the truth, and order is kept. Further back, the hub
// cannot tell which reading is true (the entries before may carry a date
// from a clock that was fast), and stamping every document with one frozen
// instant would fix a false date in a public record; so registration stops
// with ErrClockBehind until the clock is put right or catches up.
func Stamp(now, floor time.Time) (time.Time, error) {
	if !now.Before(floor) {
		return now, nil
	}
	if behind := floor.Sub(now); behind > MaxStepBack {
		return time.Time{}, fmt.Errorf("%w: the clock reads %s, %s before the register's latest entry (%s); entries are not registered out of date order, so the hub registers none until its clock is right",
			ErrClockBehind, now.In(Rome).Format(time.RFC3339), behind.Round(time.Second), floor.In(Rome).Format(time.RFC3339))
	}
	return floor, nil
}

// Closing is the record of a closed daily register: once the day's
// register is exported after the day is over, it is closed (its content
// is what went to the conservation system, DPCM 3.12.2013 art. 7 c. 5,
// and must not change), and no entry is filed into that day or any day
// before it.
type Closing struct {
	Day     Day       `json:"day"`
	Closed  time.Time `json:"closed"`
	Entries int       `json:"entries"`
	// SHA256 is that of the CSV WriteCSV writes for the day: a later
	// export of the closed day must give the same bytes.
	SHA256 [32]byte `json:"sha256"`
	// Format is the CSV layout the day was closed with (CSVFormat); zero
	// is CSVFormat1, the layout of every day closed before it was kept.
	// A closed day is always exported in its own layout, so its bytes,
	// and their SHA-256, never change.
	Format int `json:"format,omitempty"`
}

// CSVLayout is the layout c was closed with.
func (c Closing) CSVLayout() int {
	if c.Format == 0 {
		return CSVFormat1
	}
	return c.Format
}

// Validate checks what must be present before a number is assigned.
func (e *Entry) Validate() error {
	var missing string
	switch {
	case e.Time.IsZero():
		missing = "time"
	case e.Direction != Outgoing && e.Direction != Incoming && e.Direction != Annulled:
		return fmt.Errorf("%w: direction %q is none of %q, %q and %q", ErrInvalid, e.Direction, Outgoing, Incoming, Annulled)
	case e.Direction == Annulled && strings.TrimSpace(e.Correspondent) == "":
		missing = "author of the annulment"
	case e.Direction == Annulled && strings.TrimSpace(e.Reason()) == "":
		missing = "reason for the annulment"
	case e.Direction == Annulled && strings.TrimSpace(e.Authorisation) == "":
		missing = "authorisation of the annulment (the staff member or act that authorised it, or the rule it follows)"
	case strings.TrimSpace(e.Correspondent) == "":
		missing = "sender or recipient"
	case strings.TrimSpace(e.Subject) == "":
		missing = "subject (oggetto)"
	case strings.TrimSpace(e.DocType) == "":
		missing = "document type"
	case e.DocSHA256 == [32]byte{}:
		missing = "document SHA-256"
	}
	if missing != "" {
		return fmt.Errorf("%w: the entry has no %s, which the register must fix at registration", ErrInvalid, missing)
	}
	if err := e.Number.Register.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if e.Direction == Annulled {
		if e.DocType != AnnulmentDocType {
			return fmt.Errorf("%w: an annulment has document type %q, not %q", ErrInvalid, AnnulmentDocType, e.DocType)
		}
		if e.DocSHA256 != sha256.Sum256([]byte(e.AnnulmentStatement())) {
			return fmt.Errorf("%w: the SHA-256 of annulment %s is not that of its statement; build it with protocol.Annulment", ErrInvalid, e.Number)
		}
	}
	return nil
}

// YearOf is the register year of instant t.
func YearOf(t time.Time) int { return t.In(Rome).Year() }

// Day is a calendar day of the register, in Rome.
type Day struct {
	Year  int
	Month time.Month
	Day   int
}

// DayOf returns the Rome day of instant t.
func DayOf(t time.Time) Day {
	r := t.In(Rome)
	return Day{r.Year(), r.Month(), r.Day()}
}

// ParseDay reads YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.ParseInLocation("2006-01-02", s, Rome)
	if err != nil {
		return Day{}, fmt.Errorf("%q is not a day in the form YYYY-MM-DD", s)
	}
	return DayOf(t), nil
}

func (d Day) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Key is the day as eight ASCII digits, YYYYMMDD, which sort in day order.
func (d Day) Key() []byte { return fmt.Appendf(nil, "%04d%02d%02d", d.Year, int(d.Month), d.Day) }

// Start returns the first instant of d in Rome.
func (d Day) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Rome) }

// End returns the first instant after d in Rome (days are 23 to 25 hours
// long there).
func (d Day) End() time.Time { return time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, Rome) }

// Before reports whether d comes before o.
func (d Day) Before(o Day) bool { return string(d.Key()) < string(o.Key()) }

// Layouts of the daily register's CSV.
const (
	// CSVFormat1 is the first layout: number, time, direction,
	// correspondent, subject, document type, SHA-256, reference.
	CSVFormat1 = 1
	// CSVFormat2 leads every row with the register it belongs to: the
	// administration's IPA code, the AOO code and the register code (DPCM
	// 3.12.2013 art. 9), then the year and progressive, so each row is a
	// whole segnatura even on a day the codes changed. An annulment also
	// names the act or rule that authorised it (art. 54 c. 2 DPR 445/2000).
	CSVFormat2 = 2
	// CSVFormat is the layout of days closed from now on.
	CSVFormat = CSVFormat2
)

// csvHeaders names the daily register's columns, per layout.
var csvHeaders = map[int][]string{
	CSVFormat1: {"numero", "data_ora", "direzione", "mittente_destinatario", "oggetto", "tipo_documento", "sha256_documento", "riferimento"},
	CSVFormat2: {"codice_amministrazione", "codice_aoo", "codice_registro", "numero", "data_ora", "direzione", "mittente_destinatario", "oggetto", "tipo_documento", "sha256_documento", "riferimento", "autorizzazione_annullamento"},
}

var directionText = map[Direction]string{Outgoing: "uscita", Incoming: "entrata", Annulled: "annullato"}

// WriteCSV writes the daily register for day in the current layout
// (CSVFormat); see WriteCSVFormat.
func WriteCSV(w io.Writer, day Day, entries []Entry) ([32]byte, error) {
	return WriteCSVFormat(w, day, entries, CSVFormat)
}

// WriteCSVFormat writes the daily register for day in layout format: a
// header, then entries in number order. An annulment shows "annullato" as
// its direction, its author as correspondent and "ANNULLATO: reason" as its
// subject (they are sorted here; entries of other days are refused, so a
// caller's mistake cannot produce a register that mixes days). It returns
// the SHA-256 of exactly the bytes written, which the comune keeps to show
// later that the export was not altered. A closed day is written in the
// layout it was closed with (Closing.CSVLayout).
func WriteCSVFormat(w io.Writer, day Day, entries []Entry, format int) ([32]byte, error) {
	header, ok := csvHeaders[format]
	if !ok {
		return [32]byte{}, fmt.Errorf("%d is not a layout of the daily register", format)
	}
	sorted := append([]Entry(nil), entries...)
	sortEntries(sorted)
	h := sha256.New()
	cw := csv.NewWriter(io.MultiWriter(w, h))
	if err := cw.Write(header); err != nil {
		return [32]byte{}, err
	}
	for i := range sorted {
		e := &sorted[i]
		if DayOf(e.Time) != day {
			return [32]byte{}, fmt.Errorf("entry %s of %s does not belong to the register of %s", e.Number, DayOf(e.Time), day)
		}
		if i > 0 && sorted[i-1].Number.Same(e.Number) {
			return [32]byte{}, fmt.Errorf("entry %s appears twice in the register of %s", e.Number, day)
		}
		rest := []string{e.Time.In(Rome).Format(time.RFC3339), directionText[e.Direction],
			e.Correspondent, e.Subject, e.DocType, hex.EncodeToString(e.DocSHA256[:]), e.Ref}
		var rec []string
		switch format {
		case CSVFormat1:
			rec = append([]string{e.Number.String()}, rest...)
		default:
			r := e.Number.Register
			rec = append([]string{r.IPA, r.AOO, r.Code, e.Number.Short()}, rest...)
			rec = append(rec, e.Authorisation)
		}
		if err := cw.Write(rec); err != nil {
			return [32]byte{}, err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return [32]byte{}, err
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func sortEntries(es []Entry) {
	// Insertion sort: a day's entries arrive already in order from the
	// store, so this is linear in practice and keeps the package free of
	// a comparator allocation.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && less(es[j].Number, es[j-1].Number); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

func less(a, b Number) bool {
	if a.Year != b.Year {
		return a.Year < b.Year
	}
	return a.Seq < b.Seq
}
