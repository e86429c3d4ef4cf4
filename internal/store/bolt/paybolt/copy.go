package paybolt

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/sportello/sportello/internal/payment"
)

// All implements payment.Lister.
func (t txn) All() ([]payment.Payment, error) {
	b, err := t.bucket(bucketPayments)
	if b == nil || err != nil {
		return nil, err
	}
	var ps []payment.Payment
	err = b.ForEach(func(k, v []byte) error {
		var p payment.Payment
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("the record of payment %s is damaged: %w", k, err)
		}
		ps = append(ps, p)
		return nil
	})
	slices.SortFunc(ps, func(a, b payment.Payment) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID))
	})
	return ps, err
}
