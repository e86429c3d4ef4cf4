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
)

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

// Validate checks what must be present before a number is assigned.
func (e *Entry) Validate() error {
	var missing string
	switch {
	case e.Time.IsZero():
		missing = "time"
	case e.Direction != Outgoing && e.Direction != Incoming:
		return fmt.Errorf("%w: direction %q is neither %q nor %q", ErrInvalid, e.Direction, Outgoing, Incoming)
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

// csvHeader names the daily register's columns.
var csvHeader = []string{"numero", "data_ora", "direzione", "mittente_destinatario", "oggetto", "tipo_documento", "sha256_documento", "riferimento"}

var directionText = map[Direction]string{Outgoing: "uscita", Incoming: "entrata"}

// WriteCSV writes the daily register for day: a header, then entries in
// number order (they are sorted here; entries of other days are refused, so a
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
