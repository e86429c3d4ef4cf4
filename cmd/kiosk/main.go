// Command kiosk is Sportello's shop-counter and self-service app, and the
// command-line tools a shop or an installer uses to enrol a device and check
// its card reader and printers. See the README and DESIGN.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/sportello/sportello/internal/cmdline"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, now: time.Now}
	os.Exit(c.run(ctx, os.Args[1:]))
}

// cli is one invocation: streams and clock, replaceable in tests.
type cli struct {
	stdin          io.Reader // os.Stdin when nil
	stdout, stderr io.Writer
	now            func() time.Time
}

type command = cmdline.Command[*cli]

// commands is filled by each file's init: card.go, printer.go, …
var commands []command

func register(cmds ...command) { commands = append(commands, cmds...) }

const intro = "Sportello's shop-counter app and device tools."

func (c *cli) run(ctx context.Context, args []string) int {
	// `kiosk` alone, or with flags only, is the app (DESIGN.md).
	if len(args) == 0 || (strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" && args[0] != "-help") {
		args = append([]string{appCommand}, args...)
	}
	cmd, err := cmdline.ExecGuarded(ctx, c, commands, args, func(fn func() error) error { return c.guard(args, fn) })
	return cmdline.Report(c.stdout, c.stderr, "kiosk", intro, commands, cmd, args, err)
}

func init() {
	register(command{Name: "version", Help: "print the kiosk's version and the platform it was built for", Run: (*cli).version})
}

// version answers which build a shop runs: support asks it first, and the
// Windows smoke test checks that the .exe starts at all.
func (c *cli) version(_ context.Context, args []string) error {
	if err := cmdline.NoArgs(cmdline.FlagSet("version"), args); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "kiosk %s (%s/%s, %s)\n", version, runtime.GOOS, runtime.GOARCH, runtime.Version())
	return nil
}
