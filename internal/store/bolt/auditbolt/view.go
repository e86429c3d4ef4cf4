package auditbolt

import (
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
)

// In is the audit log's view of tx (store.Tx.Audit on the hub's bbolt
// file). In a write transaction the first Append creates the log's buckets
// if the file has none yet.
func In(tx *bbolt.Tx) audit.Tx { return view{tx} }

type view struct{ tx *bbolt.Tx }

var _ audit.Tx = view{}

func (v view) Append(e audit.Entry) (audit.Entry, error) {
	if v.tx.Writable() && v.tx.Bucket(bucketMeta) == nil {
		if err := Init(v.tx); err != nil {
			return audit.Entry{}, err
		}
	}
	return Append(v.tx, e)
}

func (v view) Head() (audit.Head, error)           { return Head(v.tx) }
func (v view) Get(seq uint64) (audit.Entry, error) { return Get(v.tx, seq) }

func (v view) Point(seq uint64) (audit.Head, error) {
	h := hashAt(v.tx, seq)
	if h == nil {
		return audit.Head{}, fmt.Errorf("%w: there is no audit entry %d", audit.ErrNotFound, seq)
	}
	p := audit.Head{Seq: seq}
	copy(p.Hash[:], h)
	return p, nil
}

func (v view) Search(q audit.Query, fn func(audit.Entry) (bool, error)) error {
	return Search(v.tx, q, fn)
}

func (v view) Count() (int, error)              { return Count(v.tx), nil }
func (v view) Anchors() ([]audit.Anchor, error) { return Anchors(v.tx) }
func (v view) Verify(published ...audit.Anchor) (audit.Head, error) {
	return Verify(v.tx, published...)
}
func (v view) Oldest() (audit.Entry, bool, error) { return Oldest(v.tx) }
func (v view) Pruned() (audit.Pruned, error)      { return Pruned(v.tx) }

func (v view) Expired(cutoff time.Time) (int, audit.Head, error) { return Expired(v.tx, cutoff) }

func (v view) Prune(at audit.Head, limit int) (int, bool, error) {
	if v.tx.Writable() && v.tx.Bucket(bucketMeta) == nil {
		if err := Init(v.tx); err != nil {
			return 0, false, err
		}
	}
	return Prune(v.tx, at, limit)
}
