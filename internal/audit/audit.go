// Package audit is the record of every read of a person's data: who read
// it, when, why and what, kept as an append-only chain of hashes so that an
// edit, a deletion or a reordering of past entries shows.
//
// Each entry is numbered from 1 with no gaps and carries the SHA-256 of the
// previous entry's hash followed by the entry's canonical encoding. Changing
// any entry therefore changes every later hash; the chain head (last number
// and hash) and the daily anchors make a shortened or wholly rewritten chain
// show too, once an anchor has been printed or published outside the file
// (the daily protocol register is the natural place).
//
// This package knows nothing of storage: Tx is what a store offers in a
// hub transaction (store.Tx.Audit), kept by internal/store/bolt/auditbolt
// in the hub's bbolt file and by internal/store/postgres in the database,
// where every hub on it appends to one chain. audittest is the suite both
// pass.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sportello/sportello/internal/protocol"
)

// ActorKind says what kind of party read the data.
type ActorKind string

const (
	Staff    ActorKind = "staff"    // a city employee, by user name
	Operator ActorKind = "operator" // a shop's operator, by operator id
	Device   ActorKind = "device"   // a kiosk acting on its own (self-service), by key id
	System   ActorKind = "system"   // the hub itself (settlements, scheduled jobs)
)

var actorKinds = []ActorKind{Staff, Operator, Device, System}

// Actor is who read the data.
type Actor struct {
	Kind ActorKind `json:"kind"`
	ID   string    `json:"id"`
}

func (a Actor) String() string { return string(a.Kind) + ":" + a.ID }

// ParseActor reads "kind:id", as String writes it.
func ParseActor(s string) (Actor, error) {
	k, id, ok := strings.Cut(s, ":")
	a := Actor{Kind: ActorKind(k), ID: id}
	if !ok || a.validate() != nil {
		return Actor{}, fmt.Errorf("%q is not an actor of the form KIND:ID with KIND one of %s", s, kindList())
	}
	return a, nil
}

func kindList() string {
	var ks []string
	for _, k := range actorKinds {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}

func (a Actor) validate() error {
	known := false
	for _, k := range actorKinds {
		known = known || a.Kind == k
	}
	if !known {
		return fmt.Errorf("actor kind %q is not one of %s", a.Kind, kindList())
	}
	if strings.TrimSpace(a.ID) == "" || strings.ContainsRune(a.ID, 0) {
		return fmt.Errorf("the %s actor has no identifier, so the read could not be traced to anyone", a.Kind)
	}
	return nil
}

// Entry is one read of a person's data.
type Entry struct {
	// Seq is the entry's number, assigned at append: 1, 2, 3, …
	Seq   uint64    `json:"seq"`
	Time  time.Time `json:"time"`
	Actor Actor     `json:"actor"`
	// Purpose is why the data was read: the task and its legal basis,
	// e.g. "rilascio certificato, art. 33 DPR 223/1989".
	Purpose string `json:"purpose"`
	// Subject is the codice fiscale of the person whose data was read.
	Subject string `json:"subject"`
	// Data is what was read: "scheda anagrafica", a certificate type.
	Data string `json:"data"`
	// Channel is where the read came from: "cli", "admin", "counter",
	// "self_service", "office".
	Channel string `json:"channel"`
	// Request ties the entry to the request or certificate it served.
	Request string `json:"request,omitempty"`
	// Clerk is the named person logged in at the shop's device, besides
	// the device itself (Actor): zero for reads with no clerk. It is
	// encoded only when set, so entries written before clerks existed
	// keep their bytes and their hashes.
	Clerk Clerk `json:"clerk,omitzero"`
}

// Clerk names a shop's clerk in an entry: the clerk record's id and the
// person's name as it was when they read.
type Clerk struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func (c Clerk) String() string {
	if c.Name == "" {
		return "clerk:" + c.ID
	}
	return "clerk:" + c.ID + " (" + c.Name + ")"
}

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid audit entry")

// Validate checks what an entry must say before it is appended. Seq is not
// checked: the store assigns it.
func (e *Entry) Validate() error {
	if err := e.Actor.validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var missing string
	switch {
	case e.Time.IsZero():
		missing = "time"
	case e.Time.Year() < 2000 || e.Time.Year() > 2200:
		return fmt.Errorf("%w: the time %s is not a plausible time of reading", ErrInvalid, e.Time.Format(time.RFC3339))
	case strings.TrimSpace(e.Purpose) == "":
		missing = "purpose, which the law requires for every access to personal data"
	case strings.TrimSpace(e.Subject) == "":
		missing = "subject codice fiscale"
	case strings.TrimSpace(e.Data) == "":
		missing = "description of the data read"
	case strings.TrimSpace(e.Channel) == "":
		missing = "channel"
	}
	if missing != "" {
		return fmt.Errorf("%w: the entry has no %s", ErrInvalid, missing)
	}
	if e.Clerk.ID == "" && e.Clerk.Name != "" || strings.ContainsRune(e.Clerk.ID, 0) {
		return fmt.Errorf("%w: the clerk %q has no usable identifier", ErrInvalid, e.Clerk.Name)
	}
	for _, s := range []string{e.Purpose, e.Subject, e.Data, e.Channel, e.Request, e.Clerk.ID, e.Clerk.Name} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: the text %q is not valid UTF-8", ErrInvalid, s)
		}
	}
	return nil
}

// Hash is a link of the chain: SHA-256 of the previous hash and an entry.
type Hash [sha256.Size]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%q is not a SHA-256 hash of 64 hex digits", s)
	}
	copy(h[:], b)
	return h, nil
}

// Head is a point of the chain: an entry number and its hash. The zero
// Head is the empty chain.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash Hash   `json:"hash"`
}

func (h Head) String() string { return fmt.Sprintf("%d:%s", h.Seq, h.Hash) }

// ParseHead reads "N:HASH", as String writes it.
func ParseHead(s string) (Head, error) {
	n, hs, ok := strings.Cut(s, ":")
	var seq uint64
	if _, err := fmt.Sscan(n, &seq); !ok || err != nil || seq == 0 {
		return Head{}, fmt.Errorf("%q is not a chain point of the form N:HASH with N an entry number", s)
	}
	h, err := ParseHash(hs)
	if err != nil {
		return Head{}, err
	}
	return Head{Seq: seq, Hash: h}, nil
}

// Anchor is the chain's head at the end of a day (in Rome): the digest to
// print in that day's protocol register or publish, so that a later rewrite
// of the whole file no longer matches it.
type Anchor struct {
	Day protocol.Day `json:"day"`
	Head
	// Source names where an anchor that is not a day's came from, for the
	// Verifier's messages: "the anchor at line 12 of …/audit-anchors.log".
	Source string `json:"-"`
}

// String is the line to publish.
func (a Anchor) String() string { return fmt.Sprintf("audit %s %d %s", a.Day, a.Seq, a.Hash) }

// encoding version: the first byte of every canonical encoding, so a future
// format never hashes the same bytes as this one.
const version = 1

// AppendCanonical appends e's canonical encoding to b: the bytes the chain
// hashes. Strings are length-prefixed, so no choice of text in one field
// can imitate another field; the time is UTC nanoseconds, so the zone the
// clock reported in does not change the hash.
func (e *Entry) AppendCanonical(b []byte) []byte {
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixNano()))
	fields := []string{string(e.Actor.Kind), e.Actor.ID, e.Purpose, e.Subject, e.Data, e.Channel, e.Request}
	if e.Clerk.ID != "" {
		// Only when set: an entry with no clerk encodes as before.
		fields = append(fields, e.Clerk.ID, e.Clerk.Name)
	}
	for _, s := range fields {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// Link returns the hash of e chained after prev.
func Link(prev Hash, e *Entry) Hash {
	h := sha256.New()
	h.Write(prev[:])
	var buf [256]byte
	h.Write(e.AppendCanonical(buf[:0]))
	var out Hash
	h.Sum(out[:0])
	return out
}

// Next numbers e after head, links it and returns the stored form (the
// canonical encoding followed by the hash) and the new head. e.Seq is set.
func Next(head Head, e *Entry) (record []byte, next Head, err error) {
	if err := e.Validate(); err != nil {
		return nil, head, err
	}
	e.Seq = head.Seq + 1
	e.Time = e.Time.UTC().Round(0)
	// Codici fiscali are upper case; searches compare them exactly.
	e.Subject = strings.ToUpper(strings.TrimSpace(e.Subject))
	h := Link(head.Hash, e)
	record = e.AppendCanonical(make([]byte, 0, 128))
	record = append(record, h[:]...)
	return record, Head{Seq: e.Seq, Hash: h}, nil
}

// ErrDamaged is wrapped by Decode's errors.
var ErrDamaged = errors.New("audit record damaged")

// Decode reads a stored record: the entry and the hash stored with it.
func Decode(record []byte) (Entry, Hash, error) {
	var e Entry
	var h Hash
	if len(record) < 1+8+8+len(h) {
		return e, h, fmt.Errorf("%w: %d bytes is too short for an entry", ErrDamaged, len(record))
	}
	if record[0] != version {
		return e, h, fmt.Errorf("%w: unknown format version %d", ErrDamaged, record[0])
	}
	body := record[:len(record)-len(h)]
	copy(h[:], record[len(body):])
	e.Seq = binary.BigEndian.Uint64(body[1:])
	e.Time = time.Unix(0, int64(binary.BigEndian.Uint64(body[9:]))).UTC()
	rest := body[17:]
	fields := []*string{(*string)(&e.Actor.Kind), &e.Actor.ID, &e.Purpose, &e.Subject, &e.Data, &e.Channel, &e.Request}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		n, w := binary.Uvarint(rest)
		if w <= 0 || n > uint64(len(rest)-w) {
			return e, h, fmt.Errorf("%w: field %d overruns the record", ErrDamaged, i+1)
		}
		*f = string(rest[w : w+int(n)])
		rest = rest[w+int(n):]
		if i == 6 && len(rest) > 0 {
			// More after the request: the clerk's id and name.
			fields = append(fields, &e.Clerk.ID, &e.Clerk.Name)
		}
	}
	if len(rest) != 0 {
		return e, h, fmt.Errorf("%w: %d stray bytes after the last field", ErrDamaged, len(rest))
	}
	// A length written in more bytes than needed decodes to the same entry
	// but is not what Next wrote: the record was rewritten.
	if !bytes.Equal(e.AppendCanonical(make([]byte, 0, len(body))), body) {
		return e, h, fmt.Errorf("%w: the record is not in canonical form", ErrDamaged)
	}
	return e, h, nil
}

// Recorder is what the hub's handlers call when they read a person's data.
// Record must not return before the entry is durable: a read that cannot be
// recorded must not be served.
type Recorder interface {
	Record(ctx context.Context, e Entry) error
}
