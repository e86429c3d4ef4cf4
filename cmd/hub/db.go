package main

import (
	"context"
	"flag"
	"os"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store/postgres"
)

// dbEnv names the PostgreSQL database a command uses when --db is not
// given (issue 16: `hub serve --db postgres://…` and SPORTELLO_DB).
const dbEnv = "SPORTELLO_DB"

// dbFlag adds --db: the registry in a PostgreSQL database (a postgres://
// URL or libpq key=value string) instead of the data directory's file. So
// far only the registry commands take it; the hub's other records are
// still in the data directory.
func (c *cli) dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", os.Getenv(dbEnv), "PostgreSQL database of the registry (postgres://…), instead of --data's file")
}

// withRegistry runs fn on the registry in the database db when one is
// given, else on the data directory's, as withStore does.
func (c *cli) withRegistry(ctx context.Context, db, dataDir string, mode storeMode, fn func(registry.Store) error) error {
	if db == "" {
		return c.withStore(ctx, dataDir, mode, fn)
	}
	st, err := postgres.OpenRegistry(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}
