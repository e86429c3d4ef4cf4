package certificate

import (
	"errors"
	"time"

	"github.com/sportello/sportello/internal/protocol"
)

// Errors of the certificates' stores; returned errors wrap them.
var (
	ErrNotFound       = errors.New("certificate not found")
	ErrAlreadyRevoked = errors.New("certificate already revoked")
)

// Store is what the hub's pages read and change of the issued
// certificates; certificate/certbolt implements it on the hub's file.
// Issuing is not here: it commits a protocol entry, a record and a PDF
// together, which is the store's own business (certbolt.Store.Issue).
type Store interface {
	// Get returns the record of certificate id (ErrNotFound, or a
	// *PurgedError when retention removed it).
	Get(id string) (Record, error)
	// PDF returns the issued PDF of certificate id; ErrPDFExpired once
	// retention deleted it.
	PDF(id string) ([]byte, error)
	// ByDay lists the certificates issued on day d, in protocol order.
	ByDay(d protocol.Day) ([]Record, error)
	// ByOperator lists what operator op issued from day from through to.
	ByOperator(op string, from, to protocol.Day) ([]Record, error)
	// ByCF lists the certificates whose subject or requester has codice
	// fiscale cf, newest first, at most limit (0: all).
	ByCF(cf string, limit int) ([]Record, error)
	// ByProtocol returns the certificate registered with protocol number n
	// (ErrNotFound when none is).
	ByProtocol(n protocol.Number) (Record, error)
	// Revoke marks certificate id revoked at at, for reason, as
	// authorised by the staff member authorisedBy (CheckRevocation;
	// ErrAlreadyRevoked when it is).
	Revoke(id, reason, authorisedBy string, at time.Time) (Record, error)
	// ProtocolDay returns the protocol register of day d, for
	// protocol.WriteCSV.
	ProtocolDay(d protocol.Day) ([]protocol.Entry, error)
}
