package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors; the errors returned wrap them and read as a sentence.
var (
	// ErrVersion: the database's schema is newer than this program.
	ErrVersion = errors.New("unknown database schema version")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("database closed")
	// ErrUnavailable: the database cannot be reached.
	ErrUnavailable = errors.New("database unavailable")
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the embedded files: NNNN_name.sql, numbered 1, 2, … in
// order, each once.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries { // ReadDir sorts by name
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		// Numbers only grow; a gap is allowed, so domains developed side by
		// side can each hold a number of their own.
		if !ok || err != nil || v < 1 || (len(out) > 0 && v <= out[len(out)-1].version) {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql numbered above the one before", e.Name())
		}
		data, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(data)})
	}
	return out, nil
}

// Advisory lock keys (pg_advisory_xact_lock takes any bigint; these are
// "SPORTMIG" and "SPORTREG" in ASCII, unlikely to meet another program's).
const (
	migrateLock  int64 = 0x53504f52544d4947
	registryLock int64 = 0x53504f5254524547
)

// DB is a pool of connections to one database whose schema is current.
type DB struct {
	pool *pgxpool.Pool
}

// Options are what a caller of OpenWith may add to Open.
type Options struct {
	// BeforeMigrate, when set, runs once before the first migration is
	// applied to a database that already holds an older schema (from, the
	// highest version applied, to the newest this program knows), while
	// the migration lock is held so one hub of many runs it; an error
	// stops the upgrade with nothing applied. The hub takes its
	// pre-upgrade backup here. A new, empty database needs none.
	BeforeMigrate func(ctx context.Context, from, to int) error
}

// Open connects to the database at conn (a postgres:// URL or key=value
// string, as libpq reads them) and brings its schema up to date.
func Open(ctx context.Context, conn string) (*DB, error) { return OpenWith(ctx, conn, Options{}) }

// OpenWith is Open with opts.
func OpenWith(ctx context.Context, conn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		return nil, fmt.Errorf("the database address is not valid: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot use the database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database %s: %w: %w", describe(cfg.ConnConfig), ErrUnavailable, err)
	}
	ms, err := migrations()
	if err == nil {
		err = migrate(ctx, pool, ms, opts.BeforeMigrate)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &DB{pool: pool}, nil
}

// describe names a database without its password.
func describe(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%q on %s:%d as %s", c.Database, c.Host, c.Port, c.User)
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Version returns the schema version of the database.
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// migrate applies ms to the database, each migration in a transaction of
// its own with its schema_migrations row.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migration, before func(ctx context.Context, from, to int) error) error {
	for {
		done, err := migrateOne(ctx, pool, ms, before)
		if err != nil || done {
			return err
		}
		before = nil // the backup is of the schema as it was found
	}
}

// migrateOne applies the first migration the database lacks; done when it
// lacks none.
func migrateOne(ctx context.Context, pool *pgxpool.Pool, ms []migration, before func(ctx context.Context, from, to int) error) (done bool, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("cannot update the database schema: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	// Hubs starting together wait here for each other, so each
	// migration runs once; the lock ends with the transaction.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
		return false, fmt.Errorf("cannot lock the database schema for an update: %w", err)
	}
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`
	if _, err := tx.Exec(ctx, create); err != nil {
		return false, fmt.Errorf("cannot create the schema_migrations table: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return false, fmt.Errorf("cannot read the database schema version: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return false, fmt.Errorf("cannot read the database schema version: %w", err)
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	have := map[int]bool{}
	for _, v := range applied {
		if !known[v] {
			return false, fmt.Errorf("the database has schema version %d, which this program does not know (it reads versions up to %d), so a newer release of Sportello wrote it: install that release or a later one: %w", v, ms[len(ms)-1].version, ErrVersion)
		}
		have[v] = true
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return !have[m.version] })
	if i < 0 {
		return true, tx.Commit(ctx)
	}
	m := ms[i]
	if before != nil && len(applied) > 0 {
		if err := before(ctx, slices.Max(applied), ms[len(ms)-1].version); err != nil {
			return false, fmt.Errorf("the database's schema was not upgraded: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return false, fmt.Errorf("database migration %04d_%s failed: %w", m.version, m.name, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
		return false, fmt.Errorf("cannot record database migration %04d_%s: %w", m.version, m.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("database migration %04d_%s not committed: %w", m.version, m.name, err)
	}
	return false, nil
}

// isUniqueViolation reports a duplicate key (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Empty reports whether the database at conn holds no table outside
// PostgreSQL's own catalogues: the only database a restore may write into,
// so that it never mixes a backup with records already there.
func Empty(ctx context.Context, conn string) (bool, error) {
	cfg, err := pgx.ParseConfig(conn)
	if err != nil {
		return false, fmt.Errorf("the database address is not valid: %w", err)
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("cannot reach the database %s: %w: %w", describe(cfg), ErrUnavailable, err)
	}
	defer c.Close(ctx)
	var n int
	err = c.QueryRow(ctx, "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").Scan(&n)
	return n == 0, err
}
