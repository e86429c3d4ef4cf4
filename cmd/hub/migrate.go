package main

import (
	"context"
	"fmt"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/postgres"
)

func init() {
	register(command{Name: "migrate", Usage: "--from bolt DIR --to postgres://…",
		Help: "move a city's registry from a data directory to PostgreSQL, counts checked", Run: (*cli).migrate})
}

// migrate moves the registry of a data directory into an empty PostgreSQL
// database (issue 16). Only the registry has a PostgreSQL store so far;
// the hub's other records stay in the data directory, and the command
// says so.
func (c *cli) migrate(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub migrate")
	from := fs.String("from", "", "kind of the source: bolt (a data directory)")
	to := fs.String("to", "", "PostgreSQL database to move into (postgres://…)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *from != "bolt":
		return usagef("--from must be bolt, followed by the data directory: hub migrate --from bolt DIR --to postgres://…")
	case len(pos) != 1:
		return usagef("give one data directory to move: hub migrate --from bolt DIR --to postgres://…")
	case *to == "":
		return usagef("give the database to move into: --to postgres://…")
	}
	dst, err := postgres.OpenRegistry(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	dstStores, err := postgres.OpenStore(ctx, *to)
	if err != nil {
		return err
	}
	defer dstStores.Close()
	return c.withHub(ctx, pos[0], readExisting, func(h *hubFile) error {
		n, err := registry.Copy(ctx, dst, h.Store)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "moved the registry: %d persons, %d families, %d events, %d places; the counts match\n",
			n.Persons, n.Families, n.Events, n.Places)
		p, err := store.CopyProtocol(ctx, dstStores, h.stores)
		if err != nil {
			return fmt.Errorf("the registry was moved, but not the protocol register: %w", err)
		}
		fmt.Fprintf(c.stdout, "moved the protocol register: %d entries, %d closed days; the counts match\n", p.Entries, p.Closed)
		fmt.Fprintf(c.stdout, "certificates, operators, the audit log and the city's settings stay in %s: they have no PostgreSQL store yet\n", c.path(pos[0]))
		return nil
	})
}
