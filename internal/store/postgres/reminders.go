package postgres

import (
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
)

// reminders is reminder.Tx on one database transaction (table
// reminder_prefs, migration 0015).
type reminders struct{ t *tx }

// Reminders returns the reminder preferences' view of t.
func (t *tx) Reminders() reminder.Tx { return reminders{t} }

func (v reminders) Preferences(cf string) (reminder.Preferences, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	p := reminder.Preferences{CF: cf}
	rows, err := v.t.ptx.Query(v.t.ctx, "SELECT kind, choice, set_by, updated_ns FROM reminder_prefs WHERE cf = $1", cf)
	if err != nil {
		return p, fmt.Errorf("cannot read the reminder preferences of %s: %w", cf, err)
	}
	var kind, choice, by string
	var ns int64
	_, err = pgx.ForEachRow(rows, []any{&kind, &choice, &by, &ns}, func() error {
		p.Add(reminder.Kind(kind), reminder.Stored{Choice: reminder.Choice(choice), By: by, Updated: time.Unix(0, ns).UTC()})
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("cannot read the reminder preferences of %s: %w", cf, err)
	}
	return p, nil
}

func (v reminders) All() ([]reminder.Chosen, error) {
	rows, err := v.t.ptx.Query(v.t.ctx, `SELECT cf, kind, choice, set_by, updated_ns FROM reminder_prefs ORDER BY cf COLLATE "C", kind COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("cannot read the reminder preferences: %w", err)
	}
	var out []reminder.Chosen
	var cf, kind, choice, by string
	var ns int64
	_, err = pgx.ForEachRow(rows, []any{&cf, &kind, &choice, &by, &ns}, func() error {
		out = append(out, reminder.Chosen{CF: cf, Kind: reminder.Kind(kind), Stored: reminder.Stored{Choice: reminder.Choice(choice), By: by, Updated: time.Unix(0, ns).UTC()}})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the reminder preferences: %w", err)
	}
	return out, nil
}

func (v reminders) SetPreference(cf string, kind reminder.Kind, c reminder.Choice, by string, at time.Time) error {
	cf, err := reminder.CheckPreference(cf, kind, c)
	if err != nil {
		return err
	}
	if !v.t.writable {
		return store.ErrReadOnly
	}
	_, err = v.t.ptx.Exec(v.t.ctx, `INSERT INTO reminder_prefs (cf, kind, choice, set_by, updated_ns) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (cf, kind) DO UPDATE SET choice = EXCLUDED.choice, set_by = EXCLUDED.set_by, updated_ns = EXCLUDED.updated_ns`,
		cf, string(kind), string(c), by, at.UnixNano())
	if err != nil {
		return fmt.Errorf("cannot record the reminder preference of %s: %w", cf, err)
	}
	return nil
}
