package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/boltfile"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/store/postgres"
)

// Storage is a hub's open records: a bbolt file on one machine, or a
// PostgreSQL database every hub of the city shares. Opening them lives
// here, in the hub's constructor, so nothing above it names a backend
// (cmd/hub's dependency test).
type Storage struct {
	// Registry is the register of residents.
	Registry registry.Store
	// Stores is every domain in one transaction.
	Stores store.Store
	// file is the bbolt file; nil on PostgreSQL.
	file *registrybolt.Store
}

// ErrLocked means another process holds the bbolt file (a running hub).
var ErrLocked = registrybolt.ErrLocked

// ServeGCPercent is the garbage collector's setting for a serving hub, whose
// registry keeps large indexes in memory (registrybolt).
const ServeGCPercent = registrybolt.ServeGCPercent

// OpenFile opens the hub's bbolt file at path, creating it unless
// readOnly. A large initial map spares a writer from waiting on open
// readers while the file grows; it reserves address space, not memory.
func OpenFile(path string, readOnly bool) (*Storage, error) { return OpenFileAs(path, readOnly, "") }

// OpenFileAs is OpenFile by the Sportello release named release, which is
// recorded in the file when it is opened to write, and named with the
// release that wrote it when the file's format is one this release cannot
// read (a newer release's: it refuses to start on it).
func OpenFileAs(path string, readOnly bool, release string) (*Storage, error) {
	st, err := registrybolt.Open(path, registrybolt.Options{ReadOnly: readOnly, Timeout: 300 * time.Millisecond, InitialMmapSize: 1 << 30, Release: release})
	if err != nil {
		return nil, err
	}
	return &Storage{Registry: st, Stores: bolt.New(st), file: st}, nil
}

// OpenDatabase opens the hub's PostgreSQL database at conn, applying its
// migrations.
func OpenDatabase(ctx context.Context, conn string) (*Storage, error) {
	st, err := postgres.OpenStore(ctx, conn)
	if err != nil {
		return nil, err
	}
	return &Storage{Registry: store.RegistryOf(st), Stores: st}, nil
}

// OpenDatabaseUpgrading is OpenDatabase for a hub that keeps its
// pre-upgrade backups in backupDir: when the database holds an older
// schema than this release's, a pg_dump of it is written there before the
// first migration (named for both schema versions and the time), and out
// is told where; if the dump fails nothing is migrated.
func OpenDatabaseUpgrading(ctx context.Context, conn, backupDir string, now func() time.Time, out io.Writer) (*Storage, error) {
	st, err := postgres.OpenStoreWith(ctx, conn, postgres.Options{BeforeMigrate: func(ctx context.Context, from, to int) error {
		if err := os.MkdirAll(backupDir, 0o700); err != nil {
			return fmt.Errorf("cannot create %s for the backup taken before upgrading: %w", backupDir, err)
		}
		file := filepath.Join(backupDir, fmt.Sprintf("pre-upgrade-schema-%d-to-%d-%s.dump", from, to, now().UTC().Format("20060102T150405Z")))
		if err := DumpDatabase(ctx, conn, file); err != nil {
			os.Remove(file)
			return fmt.Errorf("the backup before upgrading failed: %w", err)
		}
		fmt.Fprintf(out, "the database has schema version %d, older than this release's %d: backed it up to %s (pg_restore reads it) before upgrading it\n", from, to, file)
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return &Storage{Registry: store.RegistryOf(st), Stores: st}, nil
}

// CopyFile hands write a consistent copy of the bbolt file while the hub
// keeps serving: one read transaction fixes the pages, so size is exactly
// what copy writes (bbolt's Tx.WriteTo), however many writes commit
// meanwhile. On PostgreSQL there is no file: pg_dump copies the database.
func (s *Storage) CopyFile(write func(size int64, copy func(io.Writer) error) error) error {
	if s.file == nil {
		return errors.New("the records are in PostgreSQL, not in a bbolt file")
	}
	return s.file.DB().View(func(tx *bbolt.Tx) error {
		return write(tx.Size(), func(w io.Writer) error {
			_, err := tx.WriteTo(w)
			return err
		})
	})
}

// Close closes the store (which writes the limits' counts behind, then
// closes the file or the database connections).
func (s *Storage) Close() error { return s.Stores.Close() }

// RecordCheck is what CheckRecords found in a bbolt file's registry.
type RecordCheck = registrybolt.RecordCheck

// CheckRecords checks every registry record and index of the bbolt file.
func (s *Storage) CheckRecords(ctx context.Context) (*RecordCheck, error) {
	if s.file == nil {
		return nil, errors.New("hub check reads a data directory's bbolt file; a PostgreSQL database is checked by PostgreSQL itself")
	}
	return s.file.CheckRecords(ctx)
}

// FileReport is what CheckFile found in a bbolt file's structure.
type FileReport = boltfile.Report

// ErrFileInUse means CheckFile could not read the file: a process holds it.
var ErrFileInUse = errors.New("the file is in use")

// CheckFile reads the bbolt file's structure with plain reads, which
// nothing in the file can crash (boltfile.Check).
func CheckFile(path string, timeout time.Duration) (*FileReport, error) {
	rep, err := boltfile.Check(path, timeout)
	if errors.Is(err, bberrors.ErrTimeout) {
		return nil, ErrFileInUse
	}
	return rep, err
}

// DamageError says a bbolt file is damaged, and where.
type DamageError = boltfile.DamageError

// Guard runs fn so that damage in the bbolt file met on the way (a panic
// inside bbolt, a memory fault) returns a *DamageError (boltfile.Guard).
func Guard(file string, fn func() error) error { return boltfile.Guard(file, fn) }

// AsDamage finds a *DamageError in err.
func AsDamage(err error) (*DamageError, bool) { return boltfile.AsDamage(err) }
