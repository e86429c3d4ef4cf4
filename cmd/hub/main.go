// Command hub is Sportello's central server and the city staff's command-line
// tool. See the README and DESIGN.md for the command-line contract.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/sportello/sportello/internal/control"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/bolt"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, _ := os.Getwd()
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, dir: wd, now: time.Now}
	os.Exit(c.run(ctx, os.Args[1:]))
}

// cli is one invocation of a hub command: its output streams, the directory
// relative paths are resolved against, and the clock. Inside a serving hub
// (a command forwarded over the control socket) store is the hub's own.
type cli struct {
	stdout, stderr io.Writer
	dir            string
	now            func() time.Time
	store          registry.Store // non-nil only inside hub serve
}

type command struct {
	name  string // one or two words: "serve", "person list"
	usage string
	help  string
	run   func(c *cli, ctx context.Context, args []string) error
}

var commands []command

func init() {
	commands = []command{
		{"serve", "[--data DIR] [--addr HOST:PORT] [--demo]", "run the hub's HTTP server", (*cli).serve},
		{"seed", "--data DIR --persons N [--seed S]", "fill an empty registry with a synthetic city", (*cli).seed},
		{"person list", "--data DIR [--limit N]", "list residents: codice fiscale and name, one a line", (*cli).personList},
		{"person show", "--data DIR --cf CF [--json]", "show one person's registry record", (*cli).personShow},
		{"places import", "--data DIR FILE", "load ANPR's archive of comuni or table of foreign states", (*cli).placesImport},
		{"cf check", "[--data DIR] CODE", "validate and decode a codice fiscale", (*cli).cfCheck},
		{"cf encode", "--surname S --name N --sex M|F --birth YYYY-MM-DD --place CODE [--data DIR]", "compute a codice fiscale", (*cli).cfEncode},
	}
}

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errForward means the registry is held by a running hub: run the command there.
var errForward = errors.New("registry held by a running hub")

func (c *cli) run(ctx context.Context, args []string) int {
	cmd, rest := lookup(args)
	if cmd == nil {
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			c.usage(c.stdout)
			return 0
		}
		fmt.Fprintf(c.stderr, "hub: unknown command %q; run \"hub help\" for the list.\n", strings.Join(args, " "))
		return 2
	}
	err := cmd.run(c, ctx, rest)
	if errors.Is(err, errForward) {
		return c.forward(ctx, args)
	}
	switch e := err.(type) {
	case nil:
		return 0
	case usageError:
		fmt.Fprintf(c.stderr, "hub %s: %s\nusage: hub %s %s\n", cmd.name, e.msg, cmd.name, cmd.usage)
		return 2
	default:
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(c.stderr, "hub %s: %s\n", cmd.name, sentence(err.Error()))
		return 1
	}
}

// sentence ends an error message with a full stop, as one clear sentence.
func sentence(s string) string {
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func lookup(args []string) (*command, []string) {
	for n := 2; n >= 1; n-- {
		if len(args) < n {
			continue
		}
		name := strings.Join(args[:n], " ")
		for i := range commands {
			if commands[i].name == name {
				return &commands[i], args[n:]
			}
		}
	}
	return nil, nil
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, "hub: Sportello's central server and staff tools.\n\nCommands:")
	cmds := append([]command(nil), commands...)
	sort.SliceStable(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, cmd := range cmds {
		fmt.Fprintf(w, "  hub %s %s\n      %s\n", cmd.name, cmd.usage, cmd.help)
	}
	fmt.Fprintln(w, "\nDIR defaults to $SPORTELLO_DATA, else ./sportello-data.")
}

// flags returns a FlagSet for a command whose errors are reported by run.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("hub "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses flags, allowing them after positional arguments too.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func defaultDataDir() string {
	if d := os.Getenv("SPORTELLO_DATA"); d != "" {
		return d
	}
	return "sportello-data"
}

func (c *cli) dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", defaultDataDir(), "data directory")
}

// path resolves p against the caller's working directory.
func (c *cli) path(p string) string {
	if filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

func registryPath(dataDir string) string { return filepath.Join(dataDir, "registry.db") }

// storeMode says whether a command writes and whether it may create the registry.
type storeMode int

const (
	readExisting storeMode = iota // the registry must exist
	readIfAny                     // no registry is not an error: fn gets nil
	writeCreate                   // create the data directory and registry if needed
)

// withStore runs fn with the registry in dataDir: the serving hub's own store
// inside hub serve, else the file opened directly. When a running hub holds
// the file it returns errForward, so the command runs in that hub instead.
func (c *cli) withStore(ctx context.Context, dataDir string, mode storeMode, fn func(registry.Store) error) error {
	if c.store != nil {
		return fn(c.store)
	}
	dataDir = c.path(dataDir)
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
	st, err := bolt.Open(file, bolt.Options{ReadOnly: mode != writeCreate, Timeout: 300 * time.Millisecond})
	if errors.Is(err, bolt.ErrLocked) {
		if _, serr := os.Stat(filepath.Join(dataDir, control.SocketName)); serr == nil {
			return errForward
		}
		return err
	}
	if err != nil {
		return err
	}
	ferr := fn(st)
	if err := st.Close(); err != nil && ferr == nil {
		ferr = fmt.Errorf("cannot close the registry %s: %w", file, err)
	}
	return ferr
}

// forward runs the command line in the hub that holds the registry.
func (c *cli) forward(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := c.dataFlag(fs)
	_, _ = parse(fs, args[1:]) // already parsed once by the command itself
	sock := filepath.Join(c.path(*data), control.SocketName)
	code, err := control.Call(ctx, sock, control.Request{Args: args, Dir: c.dir}, c.stdout, c.stderr)
	if err != nil {
		fmt.Fprintf(c.stderr, "hub: the registry is in use by a running hub, and it did not answer: %s\n", sentence(err.Error()))
		return 1
	}
	return code
}
