package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/keystore"
)

// demoSecretEnv gives the profile's passphrase in the environment. It is
// for demos and tests only: other processes of the same user can read a
// process's environment, and every child inherits it. A shop types the
// passphrase at the prompt, or a script pipes it with --secret-stdin.
const demoSecretEnv = "SPORTELLO_DEMO_SECRET"

// secretFlags are the ways the staff's passphrase reaches a kiosk whose
// profile is sealed with one (no TPM2, no DPAPI).
type secretFlags struct {
	stdin *bool
	file  *string
}

func addSecretFlags(fs *flag.FlagSet) *secretFlags {
	return &secretFlags{
		stdin: fs.Bool("secret-stdin", false, "read the profile's passphrase from the first line of stdin (scripts)"),
		file: fs.String("secret-file", "", "read the profile's passphrase from `FILE`, which only its owner may read (0600); "+
			"without either, it is asked at the terminal ("+demoSecretEnv+" gives it for demos and tests only)"),
	}
}

// secret returns the passphrase source for keystore: it reads the
// passphrase at most once, and only if the profile's sealing needs one.
// With confirm (a new passphrase) the terminal prompt asks twice.
func (c *cli) secret(sf *secretFlags, confirm bool) keystore.Secret {
	var pass []byte
	var err error
	done := false
	return func() ([]byte, error) {
		if !done {
			pass, err = c.readSecret(sf, confirm)
			done = true
		}
		return pass, err
	}
}

func (c *cli) readSecret(sf *secretFlags, confirm bool) ([]byte, error) {
	switch {
	case sf.file != nil && *sf.file != "":
		return readSecretFile(*sf.file)
	case sf.stdin != nil && *sf.stdin:
		line, err := bufio.NewReader(c.in()).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return nil, errors.New("--secret-stdin: no passphrase on stdin")
		}
		return []byte(strings.TrimRight(line, "\r\n")), nil
	}
	if s, ok := os.LookupEnv(demoSecretEnv); ok {
		fmt.Fprintf(c.stderr, "kiosk: the profile's passphrase comes from %s, which is for demos and tests only\n", demoSecretEnv)
		return []byte(s), nil
	}
	if f, ok := c.in().(*os.File); ok {
		prompt := "passphrase of the kiosk profile: "
		if confirm {
			prompt = fmt.Sprintf("new passphrase for the kiosk profile (at least %d characters): ", keystore.MinPassphrase)
		}
		pass, ok, err := keystore.Prompt(f, c.stderr, prompt, confirm)
		if ok {
			return pass, err
		}
	}
	if confirm {
		return nil, errors.New("the kiosk's keys are to be sealed with a passphrase: type it at a terminal, or give it with --secret-stdin or --secret-file FILE")
	}
	return nil, errors.New("the kiosk profile is sealed with a passphrase: run the kiosk from a terminal to type it, or give it with --secret-stdin or --secret-file FILE")
}

// readSecretFile reads a passphrase file, refusing one that other users
// may read: the passphrase would then protect nothing.
func readSecretFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--secret-file: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("--secret-file %s can be read by other users (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--secret-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return []byte(strings.TrimRight(line, "\r")), nil
}

func (c *cli) in() io.Reader {
	if c.stdin != nil {
		return c.stdin
	}
	return os.Stdin
}

// openProfile loads the enrolment from dir and unseals its keys. A profile
// from before the keys were sealed (device.json with the device key in the
// clear) is sealed now, with the best method this machine has, and its
// clear copy removed; the outbox keeps opening with the key it was written
// with.
func (c *cli) openProfile(dir string, sf *secretFlags) (*hubclient.Profile, keystore.Keys, error) {
	prof, keys, err := keystore.Load(dir, c.secret(sf, false))
	if errors.Is(err, keystore.ErrClear) {
		sealer, note, serr := keystore.Choose(keystore.SealAuto, nil, c.secret(sf, true))
		if serr != nil {
			return nil, keystore.Keys{}, fmt.Errorf("%v, and sealing it failed: %v", err, serr)
		}
		if prof, keys, err = keystore.Migrate(dir, sealer); err != nil {
			return nil, keystore.Keys{}, err
		}
		fmt.Fprintf(c.stderr, "kiosk: the profile %s held the device key in the clear; now %s\n", dir, note)
	}
	if errors.Is(err, keystore.ErrNotEnrolled) {
		return nil, keystore.Keys{}, fmt.Errorf("this kiosk is not enrolled: there is no %s in %s; run kiosk enrol --hub URL --code CODE --profile %s first",
			keystore.ProfileFile, dir, dir)
	}
	return prof, keys, err
}
