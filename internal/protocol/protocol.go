// Package protocol is the comune's protocol register (registro di protocollo,
// DPR 445/2000 artt. 53-57): every outgoing certificate and, later, every
// incoming filed request gets a progressive number of at least seven digits
// that restarts on 1 January, and its date, correspondent, subject and the
// SHA-256 of the document are fixed when the number is assigned. A daily
// register lists one day's entries in number order.
//
// Numbering and storage live in protocol/protobolt; this package holds the
// types, the year and day rules, and the daily export.
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

// Number identifies an entry: the year and the progressive within it.
type Number struct {
	Year int
	Seq  uint64
}

// String formats n as shown on documents: 2026/0000123.
func (n Number) String() string { return fmt.Sprintf("%04d/%0*d", n.Year, Digits, n.Seq) }

// IsZero reports whether n is unset.
func (n Number) IsZero() bool { return n.Year == 0 && n.Seq == 0 }

// ParseNumber reads "2026/0000123".
func ParseNumber(s string) (Number, error) {
	y, q, ok := strings.Cut(s, "/")
	year, err1 := strconv.Atoi(y)
	seq, err2 := strconv.ParseUint(q, 10, 64)
	if !ok || err1 != nil || err2 != nil || len(y) != 4 || len(q) < Digits || seq == 0 {
		return Number{}, fmt.Errorf("%q is not a protocol number of the form YYYY/NNNNNNN", s)
	}
	return Number{Year: year, Seq: seq}, nil
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

// Annulment returns the entry that annuls number n at time at: by is the
// author (a person or the procedure that annulled it), reason why. ref
// names the document the number was meant for, if it has an identifier.
// The entry's SHA-256 is that of its statement (AnnulmentStatement), so
// the annulment, like any registration, is fixed by a digest a verifier
// can recompute from the register alone.
func Annulment(n Number, at time.Time, by, reason, ref string) Entry {
	e := Entry{Number: n, Time: at, Direction: Annulled, Correspondent: strings.TrimSpace(by),
		Subject: annulledPrefix + strings.TrimSpace(reason), DocType: AnnulmentDocType, Ref: ref}
	e.DocSHA256 = sha256.Sum256([]byte(e.AnnulmentStatement()))
	return e
}

// AnnulmentStatement is the text an annulment entry's SHA-256 covers: the
// number, the time, the author and the reason, as one line.
func (e *Entry) AnnulmentStatement() string {
	return fmt.Sprintf("Registrazione di protocollo n. %s annullata il %s da %s. Motivo: %s", e.Number,
		e.Time.In(Rome).Format(time.RFC3339Nano), e.Correspondent, strings.TrimPrefix(e.Subject, annulledPrefix))
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

// csvHeader names the daily register's columns.
var csvHeader = []string{"numero", "data_ora", "direzione", "mittente_destinatario", "oggetto", "tipo_documento", "sha256_documento", "riferimento"}

var directionText = map[Direction]string{Outgoing: "uscita", Incoming: "entrata", Annulled: "annullato"}

// WriteCSV writes the daily register for day: a header, then entries in
// number order. An annulment shows "annullato" as its direction, its author
// as correspondent and "ANNULLATO: reason" as its subject (they are sorted here; entries of other days are refused, so a
// caller's mistake cannot produce a register that mixes days). It returns
// the SHA-256 of exactly the bytes written, which the comune keeps to show
// later that the export was not altered.
func WriteCSV(w io.Writer, day Day, entries []Entry) ([32]byte, error) {
	sorted := append([]Entry(nil), entries...)
	sortEntries(sorted)
	h := sha256.New()
	cw := csv.NewWriter(io.MultiWriter(w, h))
	if err := cw.Write(csvHeader); err != nil {
		return [32]byte{}, err
	}
	for i := range sorted {
		e := &sorted[i]
		if DayOf(e.Time) != day {
			return [32]byte{}, fmt.Errorf("entry %s of %s does not belong to the register of %s", e.Number, DayOf(e.Time), day)
		}
		if i > 0 && sorted[i-1].Number == e.Number {
			return [32]byte{}, fmt.Errorf("entry %s appears twice in the register of %s", e.Number, day)
		}
		rec := []string{e.Number.String(), e.Time.In(Rome).Format(time.RFC3339), directionText[e.Direction],
			e.Correspondent, e.Subject, e.DocType, hex.EncodeToString(e.DocSHA256[:]), e.Ref}
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
