package audit

import (
	"strings"

	"github.com/sportello/sportello/internal/protocol"
)

// Query selects entries for an auditor. Zero fields select everything.
type Query struct {
	Subject string // codice fiscale, exact (case does not matter)
	// Actor is "kind:id" for one actor, or a bare id for that id under any
	// kind; "clerk:ID" selects the entries naming that clerk.
	Actor    string
	From, To protocol.Day // inclusive, in Rome
}

// Match reports whether e is selected.
func (q Query) Match(e *Entry) bool {
	if q.Subject != "" && !strings.EqualFold(strings.TrimSpace(q.Subject), e.Subject) {
		return false
	}
	if q.Actor != "" && q.Actor != e.Actor.ID && q.Actor != e.Actor.String() &&
		(e.Clerk.ID == "" || q.Actor != "clerk:"+e.Clerk.ID) {
		return false
	}
	if q.From != (protocol.Day{}) || q.To != (protocol.Day{}) {
		d := string(protocol.DayOf(e.Time).Key())
		if q.From != (protocol.Day{}) && d < string(q.From.Key()) {
			return false
		}
		if q.To != (protocol.Day{}) && d > string(q.To.Key()) {
			return false
		}
	}
	return true
}
