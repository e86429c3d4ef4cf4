// Command hub is Sportello's central server and the city staff's command-line
// tool. See the README and DESIGN.md for the command-line contract.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/clock"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/control"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/sdnotify"
	"github.com/sportello/sportello/internal/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, _ := os.Getwd()
	now, offset, err := movedClock(os.Getenv(clockOffsetEnv))
	if err != nil {
		fmt.Fprintf(os.Stderr, "hub: %s\n", err)
		os.Exit(2)
	}
	conf, err := readSettings(os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hub: %s\n", cmdline.Sentence(err.Error()))
		os.Exit(2)
	}
	cmdline.SetDefaults(&cmdline.Defaults{Prog: "hub", Prefix: "SPORTELLO_", Getenv: os.Getenv, File: conf,
		// The TLS mode is one setting: the shipped hub.conf's
		// tls-self-signed gives way to a certificate or to plain HTTP
		// given in the environment or on the command line.
		Groups: [][]string{{"tls-cert", "tls-key", "tls-self-signed", "insecure-plain-http"}}})
	if _, err := becomeOwner(os.Args[1:], wd); err != nil {
		fmt.Fprintf(os.Stderr, "hub: %s\n", cmdline.Sentence(err.Error()))
		os.Exit(1)
	}
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, dir: wd, now: now, clockOffset: offset}
	// systemd's notification socket, for hub serve in a Type=notify unit;
	// a malformed one is hub serve's error, not every command's.
	c.systemd, c.systemdErr = sdnotify.FromEnv(os.Getenv, os.Getpid())
	os.Exit(c.run(ctx, os.Args[1:]))
}

// settingsEnv names the settings file every command reads (hub.conf):
// unset, settingsFile if there is one; empty, none.
const (
	settingsEnv  = "SPORTELLO_CONFIG"
	settingsFile = "/etc/sportello/hub.conf"
)

// readSettings reads the settings file the environment names, or the
// package's when it names none. A flag on the command line wins over
// $SPORTELLO_NAME, which wins over the file (cmdline.Defaults).
func readSettings(lookup func(string) (string, bool)) (*cmdline.Config, error) {
	path, named := lookup(settingsEnv)
	switch {
	case !named:
		return cmdline.ReadConfig(settingsFile, true)
	case path == "":
		return nil, nil
	}
	return cmdline.ReadConfig(path, false)
}

// clockOffsetEnv moves the hub's clock by a duration ("+27000h"), as
// moving the machine's clock would, for every command: tests use it to run
// retention and the daily jobs months ahead. Whoever can set it could set
// the system clock too, but a moved system clock shows in every log of
// the machine and an environment variable does not: each command says on
// stderr that it is set, and hub serve and hub retention run also say so
// in the audit log (hubcore.NoteClockOffset), since a clock moved ahead purges
// records early.
const clockOffsetEnv = hubcore.ClockOffsetEnv

func movedClock(offset string) (clock.Clock, time.Duration, error) {
	if offset == "" {
		return clock.System, 0, nil
	}
	d, err := time.ParseDuration(offset)
	if err != nil {
		return nil, 0, fmt.Errorf("%s=%q is not a duration such as +720h", clockOffsetEnv, offset)
	}
	fmt.Fprintf(os.Stderr, "hub: the clock is moved by %s (%s)\n", d, clockOffsetEnv)
	return clock.Offset(d), d, nil
}

// noteClockOffset records in the audit log, and warns in log (nil: the
// command's stderr), that this command runs on a moved clock
// (hubcore.NoteClockOffset).
func (c *cli) noteClockOffset(ctx context.Context, command string, record func(context.Context, audit.Entry) error, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.NewTextHandler(c.stderr, nil))
	}
	return hubcore.NoteClockOffset(ctx, c.clockOffset, c.now, command, record, log)
}

// cli is one invocation of a hub command: its output streams, the directory
// relative paths are resolved against, and the clock. Inside a serving hub
// (a command forwarded over the control socket) store is the hub's own.
type cli struct {
	stdout, stderr io.Writer
	dir            string
	now            func() time.Time
	clockOffset    time.Duration      // SPORTELLO_CLOCK_OFFSET's, zero when the clock is the machine's
	store          *hubFile           // non-nil only inside hub serve
	desk           *issuance.Service  // the serving hub's certificate desk
	uid            int                // inside hub serve: the caller's user id, from the control socket
	damaged        chan<- error       // inside hub serve: told when the command meets damage in the file, to stop the hub
	seal           sealFlags          // the comune's own seal (PKCS#12) for the desk, when the command was given one
	db             *string            // --db: the PostgreSQL database, when the records are there
	pdfs           *string            // --pdf-dir: the certificates' PDFs, when not DIR/pdf
	systemd        *sdnotify.Notifier // hub serve tells systemd it is ready, well and stopping
	systemdErr     error              // a malformed NOTIFY_SOCKET or WATCHDOG_USEC
}

type command = cmdline.Command[*cli]

// commands is filled by each file's init: registry.go, cf.go, serve.go, …
var commands []command

func register(cmds ...command) { commands = append(commands, cmds...) }

const intro = "Sportello's central server and staff tools. DIR defaults to $SPORTELLO_DATA, else ./sportello-data."

// errForward means the registry is held by a running hub: run the command there.
var errForward = errors.New("registry held by a running hub")

func (c *cli) run(ctx context.Context, args []string) int {
	cmd, err := cmdline.ExecGuarded(ctx, c, commands, args, func(fn func() error) error { return c.guard(args, fn) })
	if errors.Is(err, errForward) {
		return c.forward(ctx, args)
	}
	return cmdline.Report(c.stdout, c.stderr, "hub", intro, commands, cmd, args, err)
}

var (
	usagef = cmdline.Usagef
	parse  = cmdline.Parse
)

func defaultDataDir() string {
	if d := os.Getenv("SPORTELLO_DATA"); d != "" {
		return d
	}
	return "sportello-data"
}

func (c *cli) dataFlag(fs *flag.FlagSet) *string {
	c.pdfs = fs.String("pdf-dir", os.Getenv(pdfDirEnv), "directory of the certificates' PDFs, which every hub of a city serving from one --db shares (default DIR/pdf; $"+pdfDirEnv+")")
	c.db = fs.String("db", os.Getenv(dbEnv), "PostgreSQL database (postgres://…) holding the hub's records, shared by every hub of the city; empty: the bbolt file in the data directory (default $SPORTELLO_DB)")
	return fs.String("data", defaultDataDir(), "data directory (with --db: the hub's keys and documents only)")
}

// path resolves p against the caller's working directory.
func (c *cli) path(p string) string {
	if filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// registryPath is the one bbolt file that holds the registry and every other
// record of the hub.
func registryPath(dataDir string) string { return filepath.Join(dataDir, "hub.db") }

// storeMode says whether a command writes and whether it may create the registry.
type storeMode int

const (
	readExisting  storeMode = iota // the registry must exist
	readIfAny                      // no registry is not an error: fn gets nil
	writeCreate                    // create the data directory and registry if needed
	writeExisting                  // the registry must exist and is changed
)

// withStore runs fn with the registry in dataDir (nil in readIfAny mode when
// there is none). See withHub.
func (c *cli) withStore(ctx context.Context, dataDir string, mode storeMode, fn func(registry.Store) error) error {
	return c.withHub(ctx, dataDir, mode, func(h *hubFile) error {
		if h == nil {
			return fn(nil)
		}
		return fn(h.Store)
	})
}

// hubFile is the hub's open data file: the registry store, whose bbolt
// handle (Store.DB) the sibling stores share, and the data directory it is in.
type hubFile struct {
	// Store is the register of residents in the hub's storage.
	registry.Store
	// stores is the hub's storage, every domain in one transaction: the
	// bbolt file in Dir, or the PostgreSQL database of --db. Once
	// auditStore has run it anchors the audit log's head at every commit
	// that appended to it (store.Anchoring): hand it out after that.
	stores store.Store
	// storage is the hub's open records (hub.Storage).
	storage *hubcore.Storage
	// file is the bbolt file under stores; empty when the hub's records
	// are in PostgreSQL.
	file string
	// pdfDir holds the certificates' PDFs (blobdir), by their SHA-256.
	pdfDir string
	Dir    string
	city   *city.Settings // inside hub serve: the city's settings with the serving flags as defaults
	// audit is the audit store that anchors as it records (auditStore);
	// auditJournal, hub serve's --audit-journal, is where it copies anchors.
	audit        *hubAudit
	auditJournal string
	// notifyChannels are, inside hub serve, the channels citizens'
	// notices go out on ("appio", "email"); none when they are off.
	notifyChannels []string
	// api is, inside hub serve, the serving API, whose settings the
	// convention kit reports.
	api *hubapi.Server
}

// CheckRecords checks every record of the bbolt file.
func (h *hubFile) CheckRecords(ctx context.Context) (*hubcore.RecordCheck, error) {
	return h.storage.CheckRecords(ctx)
}

// withHub runs fn with the hub's data file in dataDir: the serving hub's own
// inside hub serve, else the file opened directly. When a running hub holds
// the file it returns errForward, so the command runs in that hub instead.
func (c *cli) withHub(ctx context.Context, dataDir string, mode storeMode, fn func(*hubFile) error) error {
	if c.store != nil {
		return fn(c.store)
	}
	dataDir = c.path(dataDir)
	if c.db != nil && *c.db != "" {
		return c.withDatabase(ctx, dataDir, *c.db, mode, fn)
	}
	file := registryPath(dataDir)
	if mode != writeCreate {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			if mode == readIfAny {
				return fn(nil)
			}
			return fmt.Errorf("there is no registry in %s (create one with hub seed or hub serve --demo)", dataDir)
		}
	} else if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("cannot create the data directory %s: %v", dataDir, unwrapPath(err))
	}
	st, err := hubcore.OpenFileAs(file, mode == readExisting || mode == readIfAny, version)
	if errors.Is(err, hubcore.ErrLocked) {
		if _, serr := os.Stat(filepath.Join(dataDir, control.SocketName)); serr == nil {
			return errForward
		}
		return err
	}
	if err != nil {
		return err
	}
	return runHub(&hubFile{Store: st.Registry, stores: st.Stores, storage: st, file: file, Dir: dataDir, pdfDir: c.pdfDir(dataDir)}, "the registry "+file, fn)
}

// runHub runs fn on hf, then closes its audit anchor file and its store
// (which writes the limits' counts behind, then closes the file or the
// database connections), what names the store in an error.
func runHub(hf *hubFile, what string, fn func(*hubFile) error) error {
	ferr := fn(hf)
	if err := hf.audit.close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("cannot close the audit anchor file: %w", err)
	}
	if err := hf.stores.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("cannot close %s: %w", what, err)
	}
	return ferr
}

// withDatabase runs fn with the hub's records in the PostgreSQL database
// at conn. Every hub of the city and every staff command use the database
// at once, so nothing is forwarded to a running hub; the data directory
// keeps what is the machine's own (the keys).
func (c *cli) withDatabase(ctx context.Context, dataDir, conn string, mode storeMode, fn func(*hubFile) error) error {
	if mode == writeCreate {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return fmt.Errorf("cannot create the data directory %s: %v", dataDir, unwrapPath(err))
		}
	}
	// A database an older release wrote is backed up into the data
	// directory before its schema is upgraded.
	st, err := hubcore.OpenDatabaseUpgrading(ctx, conn, filepath.Join(dataDir, "backups"), c.now, c.stderr)
	if err != nil {
		return err
	}
	return runHub(&hubFile{Store: st.Registry, stores: st.Stores, storage: st, Dir: dataDir, pdfDir: c.pdfDir(dataDir)}, "the database", fn)
}

// forward runs the command line in the hub that holds the registry.
func (c *cli) forward(ctx context.Context, args []string) int {
	fs := cmdline.FlagSet("")
	data := c.dataFlag(fs)
	_, _ = parse(fs, args[1:]) // already parsed once by the command itself
	sock := filepath.Join(c.path(*data), control.SocketName)
	code, err := control.Call(ctx, sock, control.Request{Args: args, Dir: c.dir}, c.stdout, c.stderr)
	if err != nil {
		fmt.Fprintf(c.stderr, "hub: the registry is in use by a running hub, and it did not answer: %s\n", cmdline.Sentence(err.Error()))
		return 1
	}
	return code
}
