package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(
		command{Name: "reminders show", Usage: "--data DIR --cf CF", Help: "show the channel a citizen chose for each kind of reminder", Run: (*cli).remindersShow},
		command{Name: "reminders set", Usage: "--data DIR --cf CF --kind KIND --channel both|appio|email|none --by USER", Help: "record, for a citizen who asked staff, the channel of one kind of reminder (cie-expiry, request-status, appointment, delegation-used)", Run: (*cli).remindersSet},
	)
}

func (c *cli) remindersShow(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub reminders show")
	data := c.dataFlag(fs)
	cf := fs.String("cf", "", "codice fiscale of the citizen")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *cf == "" {
		return usagef("give --cf")
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		var p reminder.Preferences
		err := h.stores.View(ctx, func(tx store.Tx) (err error) {
			if _, err := tx.Registry().PersonByCF(*cf); errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("no person has codice fiscale %s", *cf)
			}
			p, err = tx.Reminders().Preferences(*cf)
			return err
		})
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		for _, k := range reminder.Kinds {
			fmt.Fprintf(w, "%s\t%s\t%s\n", k, p.Choice(k), k.English())
		}
		if p.By != "" {
			fmt.Fprintf(w, "last changed by %s at %s\n", p.By, p.Updated.Format("2006-01-02 15:04"))
		}
		return w.Flush()
	})
}

func (c *cli) remindersSet(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub reminders set")
	data := c.dataFlag(fs)
	cf := fs.String("cf", "", "codice fiscale of the citizen")
	kind := fs.String("kind", "", "kind of reminder: "+kindList())
	channel := fs.String("channel", "", "both, appio, email or none")
	by := fs.String("by", "", "the staff member recording the citizen's choice")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *cf == "":
		return usagef("give --cf")
	case !reminder.Kind(*kind).Valid():
		return usagef("--kind %q is not a kind of reminder: give one of %s", *kind, kindList())
	case !reminder.Choice(*channel).Valid():
		return usagef("--channel %q is not a choice: give both, appio, email or none", *channel)
	case strings.TrimSpace(*by) == "":
		return usagef("give --by, the staff member recording the choice")
	}
	return c.withHub(ctx, *data, writeExisting, func(h *hubFile) error {
		var name string
		err := h.stores.Update(ctx, func(tx store.Tx) error {
			p, err := tx.Registry().PersonByCF(*cf)
			if errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("no person has codice fiscale %s", *cf)
			}
			if err != nil {
				return err
			}
			name = p.FullName()
			return tx.Reminders().SetPreference(p.CF, reminder.Kind(*kind), reminder.Choice(*channel), "staff:"+strings.TrimSpace(*by), c.now())
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s %s: %s reminders on %s\n", strings.ToUpper(*cf), name, *kind, *channel)
		return nil
	})
}

func kindList() string {
	ks := make([]string, len(reminder.Kinds))
	for i, k := range reminder.Kinds {
		ks[i] = string(k)
	}
	return strings.Join(ks, ", ")
}
