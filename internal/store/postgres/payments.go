package postgres

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/store"
)

// payments is payment.Tx on one database transaction (table payments,
// migration 0010).
type payments struct{ t *tx }

// Payments returns the payments' view of t.
func (t *tx) Payments() payment.Tx { return payments{t} }

// lock takes the advisory transaction lock named by key (any string), so
// that hubs checking the same thing at once (a request key, a till code)
// take turns until the first commits.
func (t *tx) lock(key string) error {
	sum := sha256.Sum256([]byte(key))
	if _, err := t.ptx.Exec(t.ctx, "SELECT pg_advisory_xact_lock($1)", int64(binary.BigEndian.Uint64(sum[:8]))); err != nil {
		return fmt.Errorf("cannot lock %q: %w", key, err)
	}
	return nil
}

func decodePayment(id string, data []byte) (payment.Payment, error) {
	var p payment.Payment
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("the record of payment %s is damaged: %w", id, err)
	}
	return p, nil
}

// one reads the payment the query selects (its record), notFound when
// none; in a write transaction the row stays locked until the end, so a
// read-modify-write (Put, Use) is not lost to another hub's.
func (v payments) one(notFound error, sql string, args ...any) (payment.Payment, error) {
	if v.t.writable {
		sql += " FOR UPDATE"
	}
	var id string
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, sql, args...).Scan(&id, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return payment.Payment{}, notFound
	}
	if err != nil {
		return payment.Payment{}, fmt.Errorf("cannot read a payment: %w", err)
	}
	return decodePayment(id, data)
}

func (v payments) Get(id string) (payment.Payment, error) {
	return v.one(fmt.Errorf("%w: %q", payment.ErrNotFound, id), "SELECT id, record FROM payments WHERE id = $1", id)
}

func (v payments) ByKey(key string) (payment.Payment, error) {
	return v.one(fmt.Errorf("%w: no payment for this request", payment.ErrNotFound),
		"SELECT id, record FROM payments WHERE request_key = $1 ORDER BY seq DESC LIMIT 1", key)
}

func (v payments) ByTillCode(op, code string) (payment.Payment, error) {
	if code == "" {
		return payment.Payment{}, fmt.Errorf("%w: no till payment %s at this shop", payment.ErrNotFound, code)
	}
	return v.one(fmt.Errorf("%w: no till payment %s at this shop", payment.ErrNotFound, code),
		"SELECT id, record FROM payments WHERE operator_id = $1 AND till_code = $2 ORDER BY seq DESC LIMIT 1", op, code)
}

func (v payments) Since(op string, since time.Time) ([]payment.Payment, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, `SELECT id, record FROM payments WHERE operator_id = $1 AND created_ns >= $2
		ORDER BY created_ns, id COLLATE "C"`, op, max(since.UnixNano(), 0))
	if err != nil {
		return nil, fmt.Errorf("cannot read the payments of %s: %w", op, err)
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
		return nil, fmt.Errorf("cannot read the payments of %s: %w", op, err)
	}
	return ps, nil
}

func (v payments) Create(p *payment.Payment) error {
	if p.ID == "" || p.RequestKey == "" || p.OperatorID == "" {
		return errors.New("a payment needs an id, a request key and an operator")
	}
	if !v.t.writable {
		return store.ErrReadOnly
	}
	if err := v.t.lock("payment/key\x00" + p.RequestKey); err != nil {
		return err
	}
	if prev, err := v.ByKey(p.RequestKey); err == nil {
		prev.Due(p.Created)
		if prev.Live() {
			return fmt.Errorf("%w: payment %s", payment.ErrKeyTaken, prev.ID)
		}
	} else if !errors.Is(err, payment.ErrNotFound) {
		return err
	}
	if p.TillCode != "" {
		if err := v.t.lock("payment/code\x00" + p.OperatorID + "\x00" + p.TillCode); err != nil {
			return err
		}
		if prev, err := v.ByTillCode(p.OperatorID, p.TillCode); err == nil {
			if prev.State == payment.Pending && p.Created.Before(prev.Expires) {
				return fmt.Errorf("%w: %s", payment.ErrCodeTaken, p.TillCode)
			}
		} else if !errors.Is(err, payment.ErrNotFound) {
			return err
		}
	}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = v.t.ptx.Exec(v.t.ctx, `INSERT INTO payments (id, request_key, operator_id, till_code, created_ns, record)
		VALUES ($1, $2, $3, $4, $5, $6)`, p.ID, p.RequestKey, p.OperatorID, p.TillCode, p.Created.UnixNano(), data)
	if isUniqueViolation(err) {
		return fmt.Errorf("payment id %s is taken", p.ID)
	}
	if err != nil {
		return fmt.Errorf("cannot store payment %s: %w", p.ID, err)
	}
	return nil
}

func (v payments) Put(p *payment.Payment) error {
	if !v.t.writable {
		return store.ErrReadOnly
	}
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	tag, err := v.t.ptx.Exec(v.t.ctx, "UPDATE payments SET record = $2 WHERE id = $1", p.ID, data)
	if err != nil {
		return fmt.Errorf("cannot store payment %s: %w", p.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %q", payment.ErrNotFound, p.ID)
	}
	return nil
}

func (v payments) Use(id string, c payment.Claim, certID string, now time.Time) error {
	if !v.t.writable {
		return store.ErrReadOnly
	}
	p, err := v.Get(id) // locks the row: a concurrent Use waits, then sees it used
	if err != nil {
		return err
	}
	if err := p.Use(c, certID, now); err != nil {
		return err
	}
	return v.Put(&p)
}
