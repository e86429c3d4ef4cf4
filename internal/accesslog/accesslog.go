// Package accesslog turns the audit log into the citizen's own access log:
// every read of their data, every certificate issued about them and every
// refused request that read their record, as lines a citizen understands —
// when, which shop or office (by name, not a key id), which named clerk,
// what data and why. ANPR shows a year of certificates issued about a
// person; Estonia's Data Tracker shows who read their data; this shows both.
//
// The package knows nothing of HTTP or storage: it reads through Source
// (the audit store's Search) and names actors through Names.
package accesslog

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

// Kind is what happened to the citizen's data.
type Kind string

const (
	Read        Kind = "read"        // a look-up read their record
	Certificate Kind = "certificate" // a certificate about them was issued
	Refusal     Kind = "refusal"     // a request read their record and was refused
	Consulted   Kind = "access_log"  // they (or a clerk at their request) looked at this log
)

// Line is one entry of the access log.
type Line struct {
	Time    time.Time `json:"time"`
	Kind    Kind      `json:"kind"`
	Place   string    `json:"place"`           // the shop or office, by name
	Clerk   string    `json:"clerk,omitempty"` // the named clerk, when the entry records one
	Channel string    `json:"channel"`         // counter, self_service, office, cli, admin
	What    string    `json:"what"`            // the data read, in words
	Why     string    `json:"why"`             // the purpose and its legal basis
	// Reference is the certificate's protocol number, for a certificate.
	Reference string `json:"reference,omitempty"`
}

// Source is where the entries come from: the audit store.
type Source interface {
	Search(q audit.Query, limit int) ([]audit.Entry, error)
}

// Names turns who read into names a citizen knows.
type Names interface {
	// Place is the shop or office behind an actor: a device's shop, a
	// shop, the registry office for staff.
	Place(a audit.Actor) string
}

// Protocols gives a certificate's protocol number by id; nil leaves
// references out.
type Protocols func(id string) (string, bool)

// Window is how far back the log goes: twelve months, as ANPR shows.
const Window = 12

// Since is the first day the log shows at now: the same day twelve months
// earlier, in Rome.
func Since(now time.Time) protocol.Day {
	return protocol.DayOf(now.In(protocol.Rome).AddDate(0, -Window, 0))
}

// Purposes and data the hub writes for the citizen's own look-up of this
// log, so the look-up is itself in the log.
const (
	ConsultPurpose = "consultazione da parte dell'interessato del registro degli accessi ai propri dati (art. 15 Regolamento UE 2016/679)"
	ConsultData    = "registro degli accessi ai propri dati, ultimi 12 mesi"
)

// Texts the issuance desk writes in the audit log (internal/issuance): a
// refused request's purpose ends with refusedMark, an issuance's data
// starts with certificatePrefix and its Request is the certificate id.
const (
	refusedMark       = "richiesta rifiutata"
	certificatePrefix = "certificato "
	// requesterMark precedes the codice fiscale of the requester the hub
	// identified; failedMark precedes the precise cause of a failed
	// identification (which names the codice fiscale, document or card
	// tried). Both are for the inspector reading the audit log, not for
	// the person the request was about: citizenWhy leaves them out.
	requesterMark = "; richiedente "
	failedMark    = "identificazione non riuscita"
)

// citizenWhy is an entry's purpose as its subject may read it: the legal
// basis and the outcome, without another person's codice fiscale nor the
// cause of someone else's failed identification (the person at the
// counter may have tried a document that is not theirs; that is theirs to
// be told, not the subject's).
func citizenWhy(purpose string) string {
	if i := strings.Index(purpose, failedMark); i >= 0 {
		purpose = purpose[:i+len(failedMark)]
	}
	for {
		i := strings.Index(purpose, requesterMark)
		if i < 0 {
			return purpose
		}
		rest := purpose[i+len(requesterMark):]
		end := strings.IndexAny(rest, ";,")
		if end < 0 {
			end = len(rest)
		}
		purpose = purpose[:i] + rest[end:]
	}
}

// Build returns the lines of subject's log from the entries, newest first
// (entries of the same instant: the later in the chain first).
func Build(entries []audit.Entry, names Names, protocols Protocols) []Line {
	entries = slices.Clone(entries)
	slices.SortStableFunc(entries, func(a, b audit.Entry) int { return cmp.Compare(b.Seq, a.Seq) })
	lines := make([]Line, 0, len(entries))
	for _, e := range entries {
		l := Line{Time: e.Time, Place: names.Place(e.Actor), Clerk: clerkOf(e), Channel: e.Channel, What: e.Data, Why: citizenWhy(e.Purpose)}
		switch {
		case strings.Contains(e.Purpose, refusedMark):
			l.Kind = Refusal
			l.Why = citizenWhy(strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(e.Purpose, refusedMark), ", ")))
			l.What = what(e.Data)
		case strings.HasPrefix(e.Data, certificatePrefix) && e.Request != "":
			l.Kind, l.What = Certificate, what(e.Data)
			if protocols != nil {
				if n, ok := protocols(e.Request); ok {
					l.Reference = n
				}
			}
		case strings.HasPrefix(e.Purpose, ConsultPurpose):
			l.Kind = Consulted
		default:
			l.Kind = Read
		}
		lines = append(lines, l)
	}
	slices.SortStableFunc(lines, func(a, b Line) int { return b.Time.Compare(a.Time) })
	return lines
}

// clerkOf is the named clerk an entry records: the name as it was when
// they read, or the clerk's record id when the entry kept no name.
func clerkOf(e audit.Entry) string {
	if e.Clerk.Name != "" {
		return e.Clerk.Name
	}
	return e.Clerk.ID
}

// what turns "certificato residenza+stato_di_famiglia" into "certificato di
// residenza e stato di famiglia"; other descriptions are already words.
func what(data string) string {
	rest, ok := strings.CutPrefix(data, certificatePrefix)
	if !ok {
		return data
	}
	var types []certificate.Type
	for _, s := range strings.Split(rest, "+") {
		t, err := certificate.ParseType(s)
		if err != nil {
			return data
		}
		types = append(types, t)
	}
	return strings.ToLower(certificate.Title(types))
}

// Page is one page of the log.
type Page struct {
	Lines              []Line
	Page, Pages, Total int
	From, To           protocol.Day
}

// MaxPageSize bounds a page.
const MaxPageSize = 100

// ErrBadPage is a page number or size out of range.
var ErrBadPage = errors.New("no such page of the access log")

// Query reads subject's log over the window ending at now and returns page
// (from 1) of size lines.
func Query(src Source, names Names, protocols Protocols, subject string, now time.Time, page, size int) (Page, error) {
	if size <= 0 || size > MaxPageSize {
		return Page{}, fmt.Errorf("%w: a page holds 1 to %d lines, not %d", ErrBadPage, MaxPageSize, size)
	}
	if page < 1 {
		return Page{}, fmt.Errorf("%w: pages are numbered from 1, not %d", ErrBadPage, page)
	}
	from, to := Since(now), protocol.DayOf(now)
	entries, err := src.Search(audit.Query{Subject: subject, From: from, To: to}, 0)
	if err != nil {
		return Page{}, err
	}
	lines := Build(entries, names, protocols)
	p := Page{Page: page, Total: len(lines), Pages: max(1, (len(lines)+size-1)/size), From: from, To: to}
	if page > p.Pages {
		return Page{}, fmt.Errorf("%w: the log has %d pages, not %d", ErrBadPage, p.Pages, page)
	}
	start := (page - 1) * size
	p.Lines = lines[start:min(start+size, len(lines))]
	return p, nil
}
