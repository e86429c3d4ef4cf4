package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/registry"
)

// alertsLock serialises raising alerts across hubs, so two hubs seeing the
// same device's breach update one alert ("SPORALRT").
const alertsLock int64 = 0x53504f52414c5254

// limitsStore is the limits' counts and alerts in the database (migration
// 0006). Counts are taken in the database at each request, not written
// behind as on one machine: every hub must see every other's.
type limitsStore struct {
	db *DB

	mu     sync.Mutex
	pruned string // the day whose first take dropped the old days
}

var _ limits.Store = (*limitsStore)(nil)

// keepDays is how many days of counts stay, as limitsbolt.KeepDays.
const keepDays = 7

func (l *limitsStore) update(ctx context.Context, fn func(pgx.Tx) error) error {
	ptx, err := l.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("cannot write the limits: %w: %w", ErrUnavailable, err)
	}
	defer ptx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := fn(ptx); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("the limits' change was not committed: %w", err)
	}
	return nil
}

// TakeDaily implements limits.Store. The day's rows of caps are made if
// missing and locked in key order (so two hubs cannot deadlock), checked,
// and counted up together.
func (l *limitsStore) TakeDaily(ctx context.Context, day string, caps []limits.Cap) (full int, counts []int, err error) {
	d, err := registry.ParseDate(day)
	if err != nil {
		return 0, nil, fmt.Errorf("day %q: %w", day, err)
	}
	keys := make([]string, len(caps))
	for i, c := range caps {
		keys[i] = c.Key
	}
	l.mu.Lock()
	prune := l.pruned != day
	l.pruned = day
	l.mu.Unlock()
	err = l.update(ctx, func(tx pgx.Tx) error {
		if prune {
			// A new day (for this hub): the days before the kept ones go.
			if _, err := tx.Exec(ctx, "DELETE FROM limit_counts WHERE day < $1::date - $2::integer", d.Time(), keepDays); err != nil {
				return fmt.Errorf("cannot drop the old days' counts: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO limit_counts (day, key, count) SELECT $1, k, 0 FROM unnest($2::text[]) AS k
			ON CONFLICT (day, key) DO NOTHING`, d.Time(), keys); err != nil {
			return fmt.Errorf("cannot count the request: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT key, count FROM limit_counts WHERE day = $1 AND key = ANY($2)
			ORDER BY key FOR UPDATE`, d.Time(), keys)
		if err != nil {
			return fmt.Errorf("cannot read the day's counts: %w", err)
		}
		stored := map[string]int{}
		var k string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { stored[k] = n; return nil }); err != nil {
			return fmt.Errorf("cannot read the day's counts: %w", err)
		}
		full, counts = -1, make([]int, len(caps))
		for i, c := range caps {
			counts[i] = stored[c.Key]
			if counts[i] >= c.Max && full < 0 {
				full = i
			}
		}
		if full >= 0 {
			return nil
		}
		for i := range counts {
			counts[i]++
		}
		if _, err := tx.Exec(ctx, "UPDATE limit_counts SET count = count + 1 WHERE day = $1 AND key = ANY($2)", d.Time(), keys); err != nil {
			return fmt.Errorf("cannot count the request: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return full, counts, nil
}

// Flush has nothing to write: every count is committed when taken.
func (l *limitsStore) Flush(context.Context) error { return nil }

func decodeAlert(id string, data []byte) (limits.Alert, error) {
	var a limits.Alert
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("the stored alert %s is damaged: %w", id, err)
	}
	return a, nil
}

func (l *limitsStore) Raise(ctx context.Context, a limits.Alert) (stored limits.Alert, changed bool, err error) {
	err = l.update(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", alertsLock); err != nil {
			return err
		}
		var id string
		var data []byte
		err := tx.QueryRow(ctx, "SELECT id, record FROM limit_alerts WHERE device = $1 AND kind = $2 AND open",
			a.Device, string(a.Kind)).Scan(&id, &data)
		switch {
		case err == nil:
			cur, err := decodeAlert(id, data)
			if err != nil {
				return err
			}
			changed = limits.Merge(&cur, a)
			stored = cur
			return putAlert(ctx, tx, cur, "UPDATE limit_alerts SET record = $4 WHERE id = $1 AND device = $2 AND kind = $3")
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("cannot read the device's alerts: %w", err)
		}
		var seq int64
		if err := tx.QueryRow(ctx, "SELECT nextval('limit_alert_ids')").Scan(&seq); err != nil {
			return err
		}
		a.ID = fmt.Sprintf("al-%08d", seq)
		stored, changed = a, true
		return putAlert(ctx, tx, a, "INSERT INTO limit_alerts (id, device, kind, open, record) VALUES ($1, $2, $3, true, $4)")
	})
	return stored, changed, err
}

var _ limits.Restorer = (*limitsStore)(nil)

// RestoreAlerts writes as under their own ids (limits.Restorer) and moves
// the ids' sequence past the highest; the open ones' unique index refuses
// two open alerts of a device and kind.
func (l *limitsStore) RestoreAlerts(ctx context.Context, as []limits.Alert) error {
	return l.update(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", alertsLock); err != nil {
			return err
		}
		var top uint64
		for _, a := range as {
			n, ok := limits.AlertSeq(a.ID)
			if !ok {
				return fmt.Errorf("alert id %q is not an alert's id", a.ID)
			}
			top = max(top, n)
			data, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO limit_alerts (id, device, kind, open, record) VALUES ($1, $2, $3, $4, $5)",
				a.ID, a.Device, string(a.Kind), a.Open(), data); err != nil {
				return fmt.Errorf("cannot restore alert %s: %w", a.ID, err)
			}
		}
		if top > 0 {
			if _, err := tx.Exec(ctx, "SELECT setval('limit_alert_ids', greatest($1, (SELECT last_value FROM limit_alert_ids)))", int64(top)); err != nil {
				return fmt.Errorf("cannot move the alerts' ids past the restored ones: %w", err)
			}
		}
		return nil
	})
}

func putAlert(ctx context.Context, tx pgx.Tx, a limits.Alert, sql string) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, sql, a.ID, a.Device, string(a.Kind), data); err != nil {
		return fmt.Errorf("cannot store alert %s: %w", a.ID, err)
	}
	return nil
}

func (l *limitsStore) Alerts(ctx context.Context) ([]limits.Alert, error) {
	rows, err := l.db.pool.Query(ctx, "SELECT id, record FROM limit_alerts ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("cannot read the alerts: %w: %w", ErrUnavailable, err)
	}
	var out []limits.Alert
	var id string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &data}, func() error {
		a, err := decodeAlert(id, data)
		out = append(out, a)
		return err
	})
	return out, err
}

func (l *limitsStore) Close(ctx context.Context, device string, r limits.Review) (out []limits.Alert, err error) {
	err = l.update(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT id, record FROM limit_alerts WHERE device = $1 AND open ORDER BY id FOR UPDATE", device)
		if err != nil {
			return fmt.Errorf("cannot read the device's alerts: %w", err)
		}
		var id string
		var data []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &data}, func() error {
			a, err := decodeAlert(id, data)
			out = append(out, a)
			return err
		}); err != nil {
			return err
		}
		if len(out) == 0 {
			return fmt.Errorf("%w: device %s has no open alert", limits.ErrNotFound, device)
		}
		for i := range out {
			rv := r
			out[i].Review = &rv
			if err := putAlert(ctx, tx, out[i], "UPDATE limit_alerts SET open = false, record = $4 WHERE id = $1 AND device = $2 AND kind = $3"); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}
