// Package cmdline is the small command-line framework both binaries share:
// two-word subcommands ("person list"), flags allowed after positional
// arguments, and the exit-status contract of DESIGN.md: errors are one
// sentence on stderr, 1 for a refusal, 2 for bad usage.
package cmdline

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Command is one subcommand of a program whose invocation state is C.
type Command[C any] struct {
	Name  string // one or two words
	Usage string // the arguments, for the usage line
	Help  string // one line
	Run   func(c C, ctx context.Context, args []string) error
}

// UsageError is bad usage: exit status 2.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error { return UsageError{fmt.Sprintf(format, args...)} }

// helpRequest is -h or --help on a command: flag.ErrHelp carrying the
// command's flags as the flag package describes them.
type helpRequest struct{ flags string }

func (h helpRequest) Error() string        { return flag.ErrHelp.Error() }
func (h helpRequest) Is(target error) bool { return target == flag.ErrHelp }

// ErrUnknown is returned by Exec for a command line that names no command.
var ErrUnknown = errors.New("unknown command")

// Exec finds the command args name and runs it. It returns the command (nil
// when there is none, with ErrUnknown, or for a help request) and its error,
// for Report to turn into output and an exit status.
func Exec[C any](ctx context.Context, c C, cmds []Command[C], args []string) (*Command[C], error) {
	cmd, rest := Lookup(cmds, args)
	if cmd == nil {
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			return nil, flag.ErrHelp
		}
		return nil, ErrUnknown
	}
	return cmd, cmd.Run(c, ctx, rest)
}

// ExecGuarded is Exec run inside guard, which ends a command that meets
// damage on the way (a panic, a memory fault) with an error of its own.
// The command is still returned, for Report, when guard ended it before
// Exec returned it.
func ExecGuarded[C any](ctx context.Context, c C, cmds []Command[C], args []string, guard func(fn func() error) error) (*Command[C], error) {
	var cmd *Command[C]
	err := guard(func() (err error) {
		cmd, err = Exec(ctx, c, cmds, args)
		return err
	})
	if cmd == nil { // the command met damage before Exec returned it
		cmd, _ = Lookup(cmds, args)
	}
	return cmd, err
}

// Report prints err the way DESIGN.md asks and returns the exit status.
func Report[C any](stdout, stderr io.Writer, prog, intro string, cmds []Command[C], cmd *Command[C], args []string, err error) int {
	var ue UsageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		if cmd == nil {
			PrintUsage(stdout, prog, intro, cmds)
		} else {
			fmt.Fprintf(stdout, "usage: %s %s %s\n  %s\n", prog, cmd.Name, cmd.Usage, cmd.Help)
			var h helpRequest
			if errors.As(err, &h) && h.flags != "" {
				fmt.Fprintf(stdout, "\nflags:\n%s", h.flags)
			}
		}
		return 0
	case cmd == nil:
		fmt.Fprintf(stderr, "%s: unknown command %q; run \"%s help\" for the list.\n", prog, strings.Join(args, " "), prog)
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s %s: %s\nusage: %s %s %s\n", prog, cmd.Name, ue.Msg, prog, cmd.Name, cmd.Usage)
		return 2
	default:
		fmt.Fprintf(stderr, "%s %s: %s\n", prog, cmd.Name, Sentence(err.Error()))
		return 1
	}
}

// Sentence ends a message with a full stop, as one clear sentence.
func Sentence(s string) string {
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// Lookup finds the longest command name that prefixes args.
func Lookup[C any](cmds []Command[C], args []string) (*Command[C], []string) {
	for n := 2; n >= 1; n-- {
		if len(args) < n {
			continue
		}
		name := strings.Join(args[:n], " ")
		for i := range cmds {
			if cmds[i].Name == name {
				return &cmds[i], args[n:]
			}
		}
	}
	return nil, nil
}

// PrintUsage lists the commands, sorted by name.
func PrintUsage[C any](w io.Writer, prog, intro string, cmds []Command[C]) {
	fmt.Fprintf(w, "%s: %s\n\nCommands:\n", prog, intro)
	sorted := append([]Command[C](nil), cmds...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for _, cmd := range sorted {
		fmt.Fprintf(w, "  %s %s %s\n      %s\n", prog, cmd.Name, cmd.Usage, cmd.Help)
	}
}

// FlagSet returns a FlagSet whose errors are reported through Report.
func FlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Parse parses flags, allowing them after positional arguments too, fills
// the flags left unset from the program's Defaults (SetDefaults), and
// returns the positional arguments.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				var b strings.Builder
				fs.SetOutput(&b)
				fs.PrintDefaults()
				return nil, helpRequest{b.String()}
			}
			return nil, UsageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			if d := defaults.Load(); d != nil {
				if err := d.apply(fs); err != nil {
					return nil, err
				}
			}
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// NoArgs parses flags and refuses positional arguments.
func NoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := Parse(fs, args)
	if err == nil && len(pos) > 0 {
		err = Usagef("unexpected argument %q", pos[0])
	}
	return err
}

// FlagValue is the value args give flag name (-name V, --name V, -name=V
// or --name=V; the last one counts), or def: for what must be known about a
// command line before its command parses it, whatever else it holds.
func FlagValue(args []string, name, def string) string {
	v := def
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if val, ok := strings.CutPrefix(a, name+"="); ok {
			v = val
		} else if a == name && i+1 < len(args) {
			v = args[i+1]
			i++
		}
	}
	return v
}
