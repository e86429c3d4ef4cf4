package postgres

import (
	"encoding/json"
	"fmt"

	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/store"
)

// citySettings is city.Tx on one database transaction (table
// city_settings, migration 0009).
type citySettings struct{ t *tx }

// City returns the settings' view of t.
func (t *tx) City() city.Tx { return citySettings{t} }

func (v citySettings) Get() (city.Config, error) {
	var c city.Config
	sql := "SELECT record FROM city_settings"
	if v.t.writable {
		sql += " FOR UPDATE"
	}
	var data []byte
	if err := v.t.ptx.QueryRow(v.t.ctx, sql).Scan(&data); err != nil {
		return c, fmt.Errorf("cannot read the city's settings: %w", err)
	}
	if data == nil {
		return c, nil
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("the stored city settings are damaged: %w", err)
	}
	return c, nil
}

func (v citySettings) Put(c city.Config) error {
	if !v.t.writable {
		return store.ErrReadOnly
	}
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := v.t.ptx.Exec(v.t.ctx, "UPDATE city_settings SET record = $1", data); err != nil {
		return fmt.Errorf("cannot store the city's settings: %w", err)
	}
	return nil
}
