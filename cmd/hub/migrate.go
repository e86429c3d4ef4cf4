package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/sportello/sportello/internal/cmdline"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/store/storecopy"
)

func init() {
	register(command{Name: "migrate", Usage: "--from bolt DIR --to postgres://…",
		Help: "move a city from a data directory to PostgreSQL, every domain's counts checked", Run: (*cli).migrate})
}

// migrate moves a whole city from a data directory into an empty
// PostgreSQL database (issue 16): every domain the stores have a view of,
// through storecopy, each domain's counts checked on the database.
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
	db, err := hubcore.OpenDatabase(ctx, *to)
	if err != nil {
		return err
	}
	defer db.Close()
	dst := db.Stores
	return c.withHub(ctx, pos[0], readExisting, func(h *hubFile) error {
		n, skipped, err := storecopy.Copy(ctx, dst, h.stores)
		if errors.Is(err, storecopy.ErrNotEmpty) {
			return err
		}
		if err != nil {
			// Part of the city may be in the database already: a second
			// try would be refused as not empty.
			return fmt.Errorf("%w\nthe database may hold part of the city now: drop it and create it empty before moving again (%s is unchanged)", err, c.path(pos[0]))
		}
		fmt.Fprintf(c.stdout, "moved the city from %s; the counts match:\n%s\n", c.path(pos[0]), n)
		for _, s := range skipped {
			fmt.Fprintf(c.stdout, "left behind: %s\n", s)
		}
		return nil
	})
}
