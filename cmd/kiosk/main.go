// Command kiosk is Sportello's shop-counter and self-service app, and the
// command-line tools a shop or an installer uses to enrol a device and check
// its card reader and printers. See the README and DESIGN.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdout: os.Stdout, stderr: os.Stderr, now: time.Now}
	os.Exit(c.run(ctx, os.Args[1:]))
}

// cli is one invocation: output streams and clock, replaceable in tests.
type cli struct {
	stdout, stderr io.Writer
	now            func() time.Time
}

type command struct {
	name  string // one or two words: "card read"
	usage string
	help  string
	run   func(c *cli, ctx context.Context, args []string) error
}

// commands is filled by each file's init: card.go, printer.go, …
var commands []command

func register(cmds ...command) { commands = append(commands, cmds...) }

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func (c *cli) run(ctx context.Context, args []string) int {
	cmd, rest := lookup(args)
	if cmd == nil {
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			c.usage(c.stdout)
			return 0
		}
		fmt.Fprintf(c.stderr, "kiosk: unknown command %q; run \"kiosk help\" for the list.\n", strings.Join(args, " "))
		return 2
	}
	err := cmd.run(c, ctx, rest)
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "kiosk %s: %s\nusage: kiosk %s %s\n", cmd.name, ue.msg, cmd.name, cmd.usage)
		return 2
	default:
		fmt.Fprintf(c.stderr, "kiosk %s: %s\n", cmd.name, sentence(err.Error()))
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
	fmt.Fprintln(w, "kiosk: Sportello's shop-counter app and device tools.\n\nCommands:")
	cmds := append([]command(nil), commands...)
	sort.SliceStable(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, cmd := range cmds {
		fmt.Fprintf(w, "  kiosk %s %s\n      %s\n", cmd.name, cmd.usage, cmd.help)
	}
}

// flags returns a FlagSet whose errors are reported by run.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("kiosk "+name, flag.ContinueOnError)
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
