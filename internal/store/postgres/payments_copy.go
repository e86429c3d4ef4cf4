package postgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/payment"
)

// All implements payment.Lister.
func (v payments) All() ([]payment.Payment, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, `SELECT id, record FROM payments ORDER BY created_ns, id COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("cannot read the payments: %w", err)
	}
	var ps []payment.Payment
	var id string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		p, err := decodePayment(id, data)
		ps = append(ps, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the payments: %w", err)
	}
	return ps, nil
}
