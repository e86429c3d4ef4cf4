package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/store"
)

// delegations is delegation.Tx on one database transaction (tables
// delegations and delegation_uses, migration 0014).
type delegations struct{ t *tx }

// Delegations returns the delegations' view of t.
func (t *tx) Delegations() delegation.Tx { return delegations{t} }

func decodeDelegation(id string, data []byte) (delegation.Delegation, error) {
	var d delegation.Delegation
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("delegation %s is damaged: %w", id, err)
	}
	return d, nil
}

func (v delegations) Put(d delegation.Delegation) error {
	if !v.t.writable {
		return store.ErrReadOnly
	}
	if strings.TrimSpace(d.ID) == "" || d.DelegatorCF == "" || d.DelegateCF == "" {
		return fmt.Errorf("%w: a delegation needs an id, a delegator and a delegate", delegation.ErrInvalid)
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	tag, err := v.t.ptx.Exec(v.t.ctx, `INSERT INTO delegations (id, delegator_cf, delegate_cf, created_ns, record)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
		d.ID, strings.ToUpper(d.DelegatorCF), strings.ToUpper(d.DelegateCF), d.Created.UnixNano(), data)
	if err != nil {
		return fmt.Errorf("cannot store delegation %s: %w", d.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", delegation.ErrExists, d.ID)
	}
	return nil
}

// get reads delegation id; lock takes its row until the transaction ends.
func (v delegations) get(id string, lock bool) (delegation.Delegation, error) {
	sql := "SELECT record FROM delegations WHERE id = $1"
	if lock {
		sql += " FOR UPDATE"
	}
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, sql, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return delegation.Delegation{}, fmt.Errorf("%w: %s", delegation.ErrNotFound, id)
	}
	if err != nil {
		return delegation.Delegation{}, fmt.Errorf("cannot read delegation %s: %w", id, err)
	}
	return decodeDelegation(id, data)
}

func (v delegations) Get(id string) (delegation.Delegation, error) { return v.get(id, false) }

func (v delegations) All() ([]delegation.Delegation, error) { return v.list("", "") }

// list reads the delegations whose column is cf, every one when column is
// empty.
func (v delegations) list(column, cf string) ([]delegation.Delegation, error) {
	sql, args := "SELECT id, record FROM delegations", []any{}
	if column != "" {
		sql, args = sql+" WHERE "+column+" = $1", []any{strings.ToUpper(cf)}
	}
	rows, err := v.t.ptx.Query(v.t.ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("cannot list delegations: %w", err)
	}
	var out []delegation.Delegation
	var id string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		d, err := decodeDelegation(id, data)
		if err == nil {
			out = append(out, d)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	delegation.Sort(out)
	return out, nil
}

func (v delegations) Given(cf string) ([]delegation.Delegation, error) {
	return v.list("delegator_cf", cf)
}

func (v delegations) Received(cf string) ([]delegation.Delegation, error) {
	return v.list("delegate_cf", cf)
}

func (v delegations) update(d delegation.Delegation) error {
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := v.t.ptx.Exec(v.t.ctx, "UPDATE delegations SET record = $2 WHERE id = $1", d.ID, data); err != nil {
		return fmt.Errorf("cannot update delegation %s: %w", d.ID, err)
	}
	return nil
}

func (v delegations) Revoke(id string, at time.Time, by string) (delegation.Delegation, error) {
	if !v.t.writable {
		return delegation.Delegation{}, store.ErrReadOnly
	}
	d, err := v.get(id, true)
	if err != nil {
		return d, err
	}
	if !d.Revoked.IsZero() {
		return d, delegation.NotLive(d, at)
	}
	d.Revoked, d.RevokedBy = at, by
	return d, v.update(d)
}

func (v delegations) RecordUse(u delegation.Use) error {
	if !v.t.writable {
		return store.ErrReadOnly
	}
	d, err := v.get(u.DelegationID, true)
	if err != nil {
		return err
	}
	if !d.Live(u.At) {
		return delegation.NotLive(d, u.At)
	}
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	if _, err := v.t.ptx.Exec(v.t.ctx, "INSERT INTO delegation_uses (delegation_id, record) VALUES ($1, $2)", d.ID, data); err != nil {
		return fmt.Errorf("cannot record a use of delegation %s: %w", d.ID, err)
	}
	d.Uses++
	return v.update(d)
}

func (v delegations) Uses(id string) ([]delegation.Use, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, "SELECT record FROM delegation_uses WHERE delegation_id = $1 ORDER BY seq", id)
	if err != nil {
		return nil, fmt.Errorf("cannot list the uses of delegation %s: %w", id, err)
	}
	var out []delegation.Use
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		var u delegation.Use
		if err := json.Unmarshal(data, &u); err != nil {
			return fmt.Errorf("a use of delegation %s is damaged: %w", id, err)
		}
		out = append(out, u)
		return nil
	})
	return out, err
}
