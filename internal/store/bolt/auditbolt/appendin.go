package auditbolt

import (
	"errors"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/store"
)

// AppendIn is Append in tx, a transaction of the hub's store on this
// file (internal/store/bolt), so an entry committed with an issuance is
// anchored by this Store's anchorer as Append's are. A transaction of
// another backend is refused: its log anchors through store.AnchorAudit.
func (s *Store) AppendIn(tx store.Tx, e audit.Entry) (audit.Entry, error) {
	bt, ok := tx.(interface{ Bolt() *bbolt.Tx })
	if !ok {
		return audit.Entry{}, errors.New("the audit log's bbolt store was given a transaction of another backend")
	}
	return s.Append(bt.Bolt(), e)
}
