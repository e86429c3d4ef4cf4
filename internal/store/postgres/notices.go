package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/store"
)

// notices is notify.Tx on one database transaction (table notices,
// migration 0011).
type notices struct{ t *tx }

// Notices returns the queue's view of t.
func (t *tx) Notices() notify.Tx { return notices{t} }

func decodeNotice(id string, data []byte) (notify.Item, error) {
	var it notify.Item
	if err := json.Unmarshal(data, &it); err != nil {
		return it, fmt.Errorf("notification %q is damaged: %w", id, err)
	}
	return it, nil
}

func (v notices) Enqueue(it notify.Item) error {
	if err := notify.CheckItem(it); err != nil {
		return err
	}
	if !v.t.writable {
		return store.ErrReadOnly
	}
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	tag, err := v.t.ptx.Exec(v.t.ctx, `INSERT INTO notices (id, enqueued_ns, record) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, it.ID, it.Enqueued.UnixNano(), data)
	if err != nil {
		return fmt.Errorf("cannot queue notification %s: %w", it.ID, err)
	}
	if tag.RowsAffected() > 0 {
		v.t.afterCommit(v.t.s.ringNotices)
	}
	return nil
}

func (v notices) Get(id string) (notify.Item, error) {
	sql := "SELECT record FROM notices WHERE id = $1"
	if v.t.writable {
		sql += " FOR UPDATE" // Mark and Settle change what they read
	}
	var data []byte
	err := v.t.ptx.QueryRow(v.t.ctx, sql, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return notify.Item{}, fmt.Errorf("%w: %s", notify.ErrNotFound, id)
	}
	if err != nil {
		return notify.Item{}, fmt.Errorf("cannot read notification %s: %w", id, err)
	}
	return decodeNotice(id, data)
}

// each calls fn for the items the query selects, in its order.
func (v notices) each(sql string, fn func(notify.Item)) error {
	rows, err := v.t.ptx.Query(v.t.ctx, sql)
	if err != nil {
		return fmt.Errorf("cannot read the notification queue: %w", err)
	}
	var id string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		it, err := decodeNotice(id, data)
		if err == nil {
			fn(it)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("cannot read the notification queue: %w", err)
	}
	return nil
}

const openNotices = `SELECT id, record FROM notices WHERE NOT settled ORDER BY enqueued_ns, id COLLATE "C"`

func (v notices) Due(now time.Time, channels []string) (due []notify.Item, err error) {
	err = v.each(openNotices, func(it notify.Item) {
		if it.Wants(now, channels) {
			due = append(due, it)
		}
	})
	return due, err
}

func (v notices) Next(channels []string) (at time.Time, ok bool, err error) {
	err = v.each(openNotices, func(it notify.Item) {
		if a, due := it.NextDue(channels); due && (!ok || a.Before(at)) {
			at, ok = a, true
		}
	})
	return at, ok, err
}

func (v notices) Mark(id, channel string, d notify.Delivery) error {
	return v.change(id, false, func(it *notify.Item) {
		if it.Deliveries == nil {
			it.Deliveries = map[string]notify.Delivery{}
		}
		it.Deliveries[channel] = d
	})
}

func (v notices) Settle(id string) error {
	return v.change(id, true, func(it *notify.Item) { it.Message.Markdown, it.Message.Email = "", "" })
}

func (v notices) change(id string, settle bool, fn func(*notify.Item)) error {
	if !v.t.writable {
		return store.ErrReadOnly
	}
	it, err := v.Get(id)
	if err != nil {
		return err
	}
	fn(&it)
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	if _, err := v.t.ptx.Exec(v.t.ctx, "UPDATE notices SET record = $2, settled = settled OR $3 WHERE id = $1", id, data, settle); err != nil {
		return fmt.Errorf("cannot record notification %s: %w", id, err)
	}
	return nil
}

func (v notices) List() (items []notify.Item, err error) {
	err = v.each(`SELECT id, record FROM notices ORDER BY enqueued_ns DESC, id COLLATE "C" DESC`, func(it notify.Item) {
		items = append(items, it)
	})
	return items, err
}
