package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/control"
)

func init() {
	register(
		command{Name: "staff add", Usage: "--data DIR --user USER --role admin|clerk|finance|auditor [--name \"FULL NAME\"] [--replace]",
			Help: "create a staff account for the console; the password is read from stdin (prompted on a terminal)", Run: (*cli).staffAdd},
		command{Name: "staff list", Usage: "--data DIR", Help: "list the console's staff accounts", Run: (*cli).staffList},
		command{Name: "staff disable", Usage: "--data DIR --user USER [--by NAME]", Help: "stop an account from signing in; its sessions end at once", Run: staffSwitch(true)},
		command{Name: "staff enable", Usage: "--data DIR --user USER [--by NAME]", Help: "let a disabled account sign in again", Run: staffSwitch(false)},
	)
}

// staffSwitch disables or re-enables an account, recording who and when.
func staffSwitch(disable bool) func(*cli, context.Context, []string) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	return func(c *cli, ctx context.Context, args []string) error {
		fs := cmdline.FlagSet("hub staff " + verb)
		data := c.dataFlag(fs)
		user := fs.String("user", "", "the account's user name")
		by := fs.String("by", "", "a name to note beside the account running the command, which is always recorded")
		if err := cmdline.NoArgs(fs, args); err != nil {
			return err
		}
		if *user == "" {
			return usagef("say which account with --user USER")
		}
		who, err := c.changer(*by)
		if err != nil {
			return err
		}
		if err := c.requireRegistry(*data); err != nil {
			return err
		}
		return c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
			a, err := h.staff(c.now).Change(*user, func(a *staff.Account) error {
				if disable {
					return a.Disable(c.now(), who)
				}
				return a.Enable(c.now(), who)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "staff %s %sd\n", a.User, verb)
			return nil
		})
	}
}

// stdin is where staff add reads the password; tests replace it.
var stdin io.Reader = os.Stdin

func (c *cli) staffAdd(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub staff add")
	data := c.dataFlag(fs)
	user := fs.String("user", "", "user name: lower-case letters, digits, '.', '-', '_'")
	roleFlag := fs.String("role", "", "admin, clerk (registry clerk), finance or auditor")
	name := fs.String("name", "", "the staff member's full name")
	replace := fs.Bool("replace", false, "replace an existing account's password and role")
	// A serving hub holds the file, and the control socket carries no
	// stdin: the caller hashes the password and hands the hub the hash in
	// a private file, never on the command line (which the hub logs).
	hashFile := fs.String("password-hash-file", "", "internal: file holding the password's argon2id hash")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if err := staff.ValidateUser(*user); err != nil {
		return usagef("--user: %s", strings.TrimPrefix(err.Error(), staff.ErrInvalid.Error()+": "))
	}
	role, err := staff.ParseRole(*roleFlag)
	if err != nil {
		return usagef("--role: %s", strings.TrimPrefix(err.Error(), staff.ErrInvalid.Error()+": "))
	}
	var phc string
	if *hashFile != "" {
		b, err := os.ReadFile(c.path(*hashFile))
		os.Remove(c.path(*hashFile))
		if err != nil {
			return fmt.Errorf("cannot read the password hash file: %v", err)
		}
		phc = strings.TrimSpace(string(b))
		if err := staff.ValidHash(phc); err != nil { // checked, not computed: a planted hash could ask for a gigabyte
			return err
		}
	} else {
		if c.store != nil {
			return errors.New("a command forwarded to the running hub cannot read a password; run hub staff add in a terminal on the hub's machine")
		}
		pw, err := readPassword(c.stderr)
		if err != nil {
			return err
		}
		if err := staff.ValidatePassword(pw); err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), staff.ErrInvalid.Error()+": "))
		}
		if phc, err = staff.HashPassword(nil, pw, staff.DefaultParams); err != nil {
			return err
		}
	}
	by := "cli"
	if a, err := c.staffActor(); err == nil {
		by = a.String()
	}
	acc := &staff.Account{User: *user, Name: strings.TrimSpace(*name), Role: role, PasswordHash: phc, Created: c.now().UTC(), CreatedBy: by}
	err = c.withHub(ctx, *data, writeCreate, func(h *hubFile) error {
		if err := h.staff(c.now).Add(acc, *replace); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "staff %s added with role %s\n", acc.User, acc.Role)
		return nil
	})
	if errors.Is(err, errForward) {
		return c.forwardWithHash(ctx, *data, args, phc)
	}
	return err
}

// forwardWithHash runs staff add in the serving hub, passing the hash in a
// file only the hub's user can read.
func (c *cli) forwardWithHash(ctx context.Context, data string, args []string, phc string) error {
	dir := c.path(data)
	f, err := os.CreateTemp(dir, ".staff-hash-*")
	if err != nil {
		return fmt.Errorf("cannot write the password hash for the running hub: %v", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(phc); err != nil {
		f.Close()
		return err
	}
	f.Close()
	fwd := append([]string{"staff", "add"}, args...)
	fwd = append(fwd, "--password-hash-file", f.Name())
	var errOut bytes.Buffer
	code, err := control.Call(ctx, filepath.Join(dir, control.SocketName), control.Request{Args: fwd, Dir: c.dir}, c.stdout, &errOut)
	if err != nil {
		return fmt.Errorf("the registry is in use by a running hub, and it did not answer: %v", err)
	}
	if code != 0 {
		return errors.New(strings.TrimPrefix(strings.TrimSpace(errOut.String()), "hub staff add: "))
	}
	return nil
}

// readPassword prompts twice without echo on a terminal, else reads the
// first line of stdin (scripts: echo "$PW" | hub staff add …).
func readPassword(prompt io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok {
		if t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			noEcho := *t
			noEcho.Lflag &^= unix.ECHO
			if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, &noEcho); err != nil {
				return "", err
			}
			defer unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
			r := bufio.NewReader(f)
			fmt.Fprint(prompt, "password: ")
			a, err := r.ReadString('\n')
			fmt.Fprint(prompt, "\nagain: ")
			b, err2 := r.ReadString('\n')
			fmt.Fprintln(prompt)
			if err != nil || err2 != nil {
				return "", errors.New("no password was typed")
			}
			if a != b {
				return "", errors.New("the two passwords typed differ")
			}
			return strings.TrimRight(a, "\r\n"), nil
		}
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password on stdin: pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | hub staff add …")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *cli) staffList(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub staff list")
	data := c.dataFlag(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		as, err := h.staff(c.now).Accounts()
		if err != nil {
			return err
		}
		for _, a := range as {
			totp := ""
			if len(a.TOTPSecret) > 0 {
				totp = " totp"
			}
			if a.Disabled {
				totp += " disabled"
			}
			fmt.Fprintf(c.stdout, "%s\t%s\t%s%s\n", a.User, a.Role, a.Name, totp)
		}
		return nil
	})
}
