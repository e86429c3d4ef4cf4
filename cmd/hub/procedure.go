package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/registry"
)

func init() {
	register(
		command{Name: "person procedure", Usage: "--data DIR --cf CF (--open YYYY-MM-DD | --close)", Help: "record that an administrative procedure on a person is open since a date, or closed; no certificate is issued about them while it is open", Run: (*cli).personProcedure},
	)
}

// personProcedure sets or clears registry.Person.ProcedureOpen: until the
// residence-change requests of a later issue open procedures themselves,
// the registry office records them here.
func (c *cli) personProcedure(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub person procedure")
	data := c.dataFlag(fs)
	cf := fs.String("cf", "", "codice fiscale of the person")
	open := fs.String("open", "", "the day the procedure was opened, YYYY-MM-DD")
	closeIt := fs.Bool("close", false, "the procedure is closed: certificates may be issued again")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *cf == "" {
		return usagef("give --cf")
	}
	if (*open == "") == !*closeIt {
		return usagef("give either --open DATE or --close")
	}
	var since registry.Date
	if *open != "" {
		var err error
		if since, err = registry.ParseDate(*open); err != nil || since.IsZero() {
			return usagef("--open %q is not a date such as 2026-11-02", *open)
		}
		if registry.DateOf(c.now()).Before(since) {
			return usagef("--open %s is in the future; give the day the procedure was opened", *open)
		}
	}
	return c.editPerson(ctx, *data, *cf, func(p *registry.Person) {
		p.ProcedureOpen = since
	}, func(p *registry.Person) {
		if since.IsZero() {
			fmt.Fprintf(c.stdout, "%s %s: no procedure open\n", p.CF, p.FullName())
		} else {
			fmt.Fprintf(c.stdout, "%s %s: procedure open since %s\n", p.CF, p.FullName(), since.Italian())
		}
	})
}

// editPerson changes one person's record, found by codice fiscale, in one
// registry transaction, then reports the record as written.
func (c *cli) editPerson(ctx context.Context, data, cf string, edit, report func(*registry.Person)) error {
	return c.withStore(ctx, data, writeExisting, func(st registry.Store) error {
		return st.Update(ctx, func(w registry.Writer) error {
			p, err := w.PersonByCF(cf)
			if errors.Is(err, registry.ErrNotFound) {
				return fmt.Errorf("no person has codice fiscale %s", cf)
			}
			if err != nil {
				return err
			}
			edit(p)
			if err := w.PutPerson(p); err != nil {
				return err
			}
			report(p)
			return nil
		})
	})
}
