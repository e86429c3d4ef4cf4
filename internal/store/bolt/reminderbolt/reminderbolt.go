// Package reminderbolt keeps the citizens' reminder preferences in the
// hub's bbolt file (reminder.Tx).
//
// Layout:
//
//	reminder_prefs  cf "/" kind → reminder.Stored (JSON)
package reminderbolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/reminder"
)

var bucketPrefs = []byte("reminder_prefs")

// In is the preferences' view of btx.
func In(btx *bbolt.Tx) reminder.Tx { return txn{btx} }

type txn struct{ tx *bbolt.Tx }

func (t txn) Preferences(cf string) (reminder.Preferences, error) {
	cf = strings.ToUpper(strings.TrimSpace(cf))
	p := reminder.Preferences{CF: cf}
	b := t.tx.Bucket(bucketPrefs)
	if b == nil || cf == "" {
		return p, nil
	}
	prefix := []byte(cf + "/")
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var s reminder.Stored
		if err := json.Unmarshal(v, &s); err != nil {
			return p, fmt.Errorf("the reminder preference %q is damaged: %w", k, err)
		}
		p.Add(reminder.Kind(k[len(prefix):]), s)
	}
	return p, nil
}

func (t txn) All() ([]reminder.Chosen, error) {
	b := t.tx.Bucket(bucketPrefs)
	if b == nil {
		return nil, nil
	}
	var out []reminder.Chosen
	err := b.ForEach(func(k, v []byte) error {
		cf, kind, ok := strings.Cut(string(k), "/")
		if !ok {
			return fmt.Errorf("the reminder preference key %q is damaged", k)
		}
		c := reminder.Chosen{CF: cf, Kind: reminder.Kind(kind)}
		if err := json.Unmarshal(v, &c.Stored); err != nil {
			return fmt.Errorf("the reminder preference %q is damaged: %w", k, err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

func (t txn) SetPreference(cf string, kind reminder.Kind, c reminder.Choice, by string, at time.Time) error {
	cf, err := reminder.CheckPreference(cf, kind, c)
	if err != nil {
		return err
	}
	if !t.tx.Writable() {
		return bberrors.ErrTxNotWritable
	}
	b, err := t.tx.CreateBucketIfNotExists(bucketPrefs)
	if err != nil {
		return err
	}
	data, err := json.Marshal(reminder.Stored{Choice: c, By: by, Updated: at})
	if err != nil {
		return err
	}
	return b.Put([]byte(cf+"/"+string(kind)), data)
}
