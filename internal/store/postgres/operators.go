package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/store"
)

// operatorsLock serialises new operators across hubs, so two applications
// for the same shop cannot both pass the duplicate check ("SPOROPER").
const operatorsLock int64 = 0x53504f524f504552

// opsView is the operators' view of one transaction (migration 0005).
type opsView struct {
	ctx      context.Context
	tx       pgx.Tx
	writable bool
}

var _ operators.Tx = opsView{}

// Operators returns the operators' view.
func (t *tx) Operators() operators.Tx { return opsView{ctx: t.ctx, tx: t.ptx, writable: t.writable} }

func opsError(err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: the operators' database refused a duplicate: %w", operators.ErrInvalid, err)
	}
	return fmt.Errorf("the operators' database failed: %w", err)
}

func (v opsView) write(sql string, args ...any) error {
	if !v.writable {
		return store.ErrReadOnly
	}
	if _, err := v.tx.Exec(v.ctx, sql, args...); err != nil {
		return opsError(err)
	}
	return nil
}

// one reads the record a query selects into a new T.
func one[T any](v opsView, what, key, sql string, args ...any) (*T, error) {
	var data []byte
	err := v.tx.QueryRow(v.ctx, sql, args...).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: no %s %q", operators.ErrNotFound, what, key)
	}
	if err != nil {
		return nil, opsError(err)
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("the stored %s %q is damaged: %w", what, key, err)
	}
	return out, nil
}

// all reads the records a query selects.
func all[T any](v opsView, what, sql string, args ...any) ([]*T, error) {
	rows, err := v.tx.Query(v.ctx, sql, args...)
	if err != nil {
		return nil, opsError(err)
	}
	datas, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, opsError(err)
	}
	out := make([]*T, 0, len(datas))
	for _, data := range datas {
		x := new(T)
		if err := json.Unmarshal(data, x); err != nil {
			return nil, fmt.Errorf("a stored %s is damaged: %w", what, err)
		}
		out = append(out, x)
	}
	return out, nil
}

func (v opsView) AddOperator(o *operators.Operator) error {
	if !v.writable {
		return store.ErrReadOnly
	}
	if _, err := v.tx.Exec(v.ctx, "SELECT pg_advisory_xact_lock($1)", operatorsLock); err != nil {
		return opsError(err)
	}
	others, err := v.Operators()
	if err != nil {
		return err
	}
	for _, other := range others {
		if operators.SameShop(other, o) {
			return fmt.Errorf("%w: operator %s already has partita IVA %s at %s", operators.ErrInvalid, other.ID, o.PartitaIVA, o.Address)
		}
	}
	var seq int64
	if err := v.tx.QueryRow(v.ctx, "SELECT nextval('operator_ids')").Scan(&seq); err != nil {
		return opsError(err)
	}
	o.ID = fmt.Sprintf("op-%04d", seq)
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return v.write("INSERT INTO operators (id, record) VALUES ($1, $2)", o.ID, data)
}

// update runs a statement that must change one row: none means the
// record is not there.
func (v opsView) update(what, key, sql string, args ...any) error {
	if !v.writable {
		return store.ErrReadOnly
	}
	tag, err := v.tx.Exec(v.ctx, sql, args...)
	if err != nil {
		return opsError(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: no %s %q", operators.ErrNotFound, what, key)
	}
	return nil
}

func (v opsView) PutOperator(o *operators.Operator) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return v.update("operator", o.ID, "UPDATE operators SET record = $2 WHERE id = $1", o.ID, data)
}

func (v opsView) Operator(id string) (*operators.Operator, error) {
	return one[operators.Operator](v, "operator", id, "SELECT record FROM operators WHERE id = $1", id)
}

func (v opsView) Operators() ([]*operators.Operator, error) {
	return all[operators.Operator](v, "operator", "SELECT record FROM operators ORDER BY id")
}

func (v opsView) PutCode(c operators.EnrolmentCode) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return v.write(`INSERT INTO enrolment_codes (hash, operator_id, issued_at, record) VALUES ($1, $2, $3, $4)
		ON CONFLICT (hash) DO UPDATE SET record = excluded.record`, c.Hash, c.OperatorID, c.IssuedAt, data)
}

func (v opsView) Code(hash string) (*operators.EnrolmentCode, error) {
	return one[operators.EnrolmentCode](v, "code", hash, "SELECT record FROM enrolment_codes WHERE hash = $1", hash)
}

func (v opsView) Codes(operatorID string) ([]operators.EnrolmentCode, error) {
	cs, err := all[operators.EnrolmentCode](v, "code", "SELECT record FROM enrolment_codes WHERE operator_id = $1", operatorID)
	if err != nil {
		return nil, err
	}
	out := make([]operators.EnrolmentCode, len(cs))
	for i, c := range cs {
		out[i] = *c
	}
	operators.SortCodes(out)
	return out, nil
}

func (v opsView) AddDevice(d *operators.Device) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if !v.writable {
		return store.ErrReadOnly
	}
	tag, err := v.tx.Exec(v.ctx, `INSERT INTO devices (key_id, operator_id, record) VALUES ($1, $2, $3)
		ON CONFLICT (key_id) DO NOTHING`, d.KeyID, d.OperatorID, data)
	if err != nil {
		return opsError(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", operators.ErrKeyInUse, d.KeyID)
	}
	return nil
}

func (v opsView) PutDevice(d *operators.Device) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return v.update("device", d.KeyID, "UPDATE devices SET record = $2 WHERE key_id = $1", d.KeyID, data)
}

func (v opsView) Device(keyID string) (*operators.Device, error) {
	return one[operators.Device](v, "device", keyID, "SELECT record FROM devices WHERE key_id = $1", keyID)
}

func (v opsView) Devices(operatorID string) ([]*operators.Device, error) {
	return all[operators.Device](v, "device", "SELECT record FROM devices WHERE operator_id = $1 ORDER BY key_id", operatorID)
}

func (v opsView) PutBacklog(b operators.Backlog) error {
	data, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return v.write(`INSERT INTO device_backlogs (key_id, record) VALUES ($1, $2)
		ON CONFLICT (key_id) DO UPDATE SET record = excluded.record`, b.KeyID, data)
}

func (v opsView) Backlog(keyID string) (*operators.Backlog, error) {
	b, err := one[operators.Backlog](v, "backlog", keyID, "SELECT record FROM device_backlogs WHERE key_id = $1", keyID)
	if errors.Is(err, operators.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

func (v opsView) AddClerk(c *operators.Clerk) error {
	if !v.writable {
		return store.ErrReadOnly
	}
	var other string
	err := v.tx.QueryRow(v.ctx, "SELECT id FROM clerks WHERE operator_id = $1 AND cf = $2", c.OperatorID, c.CF).Scan(&other)
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s is already clerk %s of operator %s; reinstate that record instead", operators.ErrInvalid, c.CF, other, c.OperatorID)
	case !errors.Is(err, pgx.ErrNoRows):
		return opsError(err)
	}
	var seq int64
	if err := v.tx.QueryRow(v.ctx, "SELECT nextval('clerk_ids')").Scan(&seq); err != nil {
		return opsError(err)
	}
	c.ID = fmt.Sprintf("cl-%04d", seq)
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	// The unique (operator_id, cf) refuses a concurrent twin the check
	// above could not see.
	return v.write("INSERT INTO clerks (id, operator_id, cf, nis, record) VALUES ($1, $2, $3, $4, $5)",
		c.ID, c.OperatorID, c.CF, c.NIS, data)
}

func (v opsView) PutClerk(c *operators.Clerk) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return v.update("clerk", c.ID, "UPDATE clerks SET record = $2, cf = $3, nis = $4 WHERE id = $1", c.ID, data, c.CF, c.NIS)
}

func (v opsView) Clerk(id string) (*operators.Clerk, error) {
	return one[operators.Clerk](v, "clerk", id, "SELECT record FROM clerks WHERE id = $1", id)
}

func (v opsView) Clerks(operatorID string) ([]*operators.Clerk, error) {
	return all[operators.Clerk](v, "clerk", "SELECT record FROM clerks WHERE $1 = '' OR operator_id = $1 ORDER BY id", operatorID)
}

func (v opsView) ClerksByCF(cf string) ([]*operators.Clerk, error) {
	return all[operators.Clerk](v, "clerk", "SELECT record FROM clerks WHERE cf = $1 ORDER BY id", cf)
}

func (v opsView) ClerkByNIS(operatorID, nis string) (*operators.Clerk, error) {
	c, err := one[operators.Clerk](v, "clerk", nis,
		"SELECT record FROM clerks WHERE operator_id = $1 AND nis = $2 AND nis <> '' ORDER BY id LIMIT 1", operatorID, nis)
	if errors.Is(err, operators.ErrNotFound) {
		return nil, fmt.Errorf("%w: no clerk of operator %s holds the CIE %s", operators.ErrNotFound, operatorID, nis)
	}
	return c, err
}

func (v opsView) PutClerkSession(s operators.ClerkSession) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return v.write(`INSERT INTO clerk_sessions (hash, clerk_id, record) VALUES ($1, $2, $3)
		ON CONFLICT (hash) DO UPDATE SET clerk_id = excluded.clerk_id, record = excluded.record`, s.Hash, s.ClerkID, data)
}

func (v opsView) ClerkSession(hash string) (*operators.ClerkSession, error) {
	return one[operators.ClerkSession](v, "clerk session", hash, "SELECT record FROM clerk_sessions WHERE hash = $1", hash)
}

func (v opsView) DeleteClerkSession(hash string) error {
	return v.write("DELETE FROM clerk_sessions WHERE hash = $1", hash)
}

func (v opsView) DeleteClerkSessions(clerkID string) error {
	return v.write("DELETE FROM clerk_sessions WHERE clerk_id = $1", clerkID)
}

// restore moves sequence seq past n, so that nextval never gives an id a
// restored record holds (operators.Restorer).
func (v opsView) restore(seq string, n int64) error {
	// seq is one of two constant names, never input.
	if _, err := v.tx.Exec(v.ctx, "SELECT setval('"+seq+"', greatest($1::bigint, (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM "+seq+")))", n); err != nil {
		return opsError(err)
	}
	return nil
}

func (v opsView) RestoreOperator(o *operators.Operator) error {
	if !v.writable {
		return store.ErrReadOnly
	}
	n, err := operators.IDNumber(o.ID, "op")
	if err != nil {
		return err
	}
	if _, err := v.tx.Exec(v.ctx, "SELECT pg_advisory_xact_lock($1)", operatorsLock); err != nil {
		return opsError(err)
	}
	if _, err := v.Operator(o.ID); err == nil {
		return fmt.Errorf("%w: %s is stored already", operators.ErrInvalid, o.ID)
	}
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if err := v.write("INSERT INTO operators (id, record) VALUES ($1, $2)", o.ID, data); err != nil {
		return err
	}
	return v.restore("operator_ids", n)
}

func (v opsView) RestoreClerk(c *operators.Clerk) error {
	if !v.writable {
		return store.ErrReadOnly
	}
	n, err := operators.IDNumber(c.ID, "cl")
	if err != nil {
		return err
	}
	if _, err := v.Clerk(c.ID); err == nil {
		return fmt.Errorf("%w: %s is stored already", operators.ErrInvalid, c.ID)
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := v.write("INSERT INTO clerks (id, operator_id, cf, nis, record) VALUES ($1, $2, $3, $4, $5)",
		c.ID, c.OperatorID, c.CF, c.NIS, data); err != nil {
		return err
	}
	return v.restore("clerk_ids", n)
}
