package outbox

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Requeue puts an operation set aside (or refused) back in the queue under
// its idempotency key, in its old place, for the Sender to try again: once
// the hub no longer fails on it, or the operator has had a refusal's cause
// put right. The hub acts on a key once, so an operation it did act on
// after all comes back as the same result, never a second one.
func (o *Outbox) Requeue(id uint64) error {
	return o.update(func(tx *bbolt.Tx) error {
		r := getRecord(tx, bRefused, id)
		if r == nil {
			return fmt.Errorf("operation %d is not among the operations set aside or refused", id)
		}
		r.Refusal, r.DoneAt, r.Failures = nil, time.Time{}, 0
		if err := tx.Bucket(bRefused).Delete(idKey(id)); err != nil {
			return err
		}
		if err := putJSON(tx.Bucket(bPending), id, r); err != nil {
			return err
		}
		tx.OnCommit(o.wakeup)
		return addCounters(tx, 1, r.Amount)
	})
}
