package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/internal/store/bolt/boltfile"
)

func init() {
	register(command{Name: "check", Usage: "[--profile DIR] [--secret-stdin | --secret-file FILE | --without-key]",
		Help: "check the kiosk's outbox file whole: every page, every queued sale and print job (opened with the profile's key); exit 1 saying what is damaged and where",
		Run:  (*cli).check})
}

// check reads the outbox file as hub check reads hub.db: its bbolt
// structure first, with plain reads nothing in the file can crash, then,
// if that is sound, every record in it.
//
// The sealed payloads and print jobs are opened with the outbox key, so a
// changed bit anywhere in them is found (their authentication fails); that
// needs the profile unsealed, with the staff's passphrase when the profile
// is sealed with one (--secret-stdin, --secret-file or the prompt), as for
// kiosk printer jobs. --without-key checks the rest, for when the
// passphrase is not at hand: the structure, the records in the clear, the
// indexes, the fingerprints of payloads without personal data.
func (c *cli) check(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("check")
	profile := fs.String("profile", defaultProfileDir(), "kiosk profile `DIR`")
	sf := addSecretFlags(fs)
	withoutKey := fs.Bool("without-key", false, "do not unseal the profile: leave the sealed payloads and print jobs unopened")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *withoutKey && (*sf.stdin || *sf.file != "") {
		return cmdline.Usagef("--without-key takes no passphrase")
	}
	file := outboxPath(*profile)
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no outbox in %s (the kiosk app makes it when it first runs)", *profile)
	}
	rep, err := boltfile.Check(file, time.Second)
	if errors.Is(err, bberrors.ErrTimeout) {
		return fmt.Errorf("the outbox %s is in use by the kiosk app: close it, then run kiosk check", file)
	}
	if err != nil {
		return fmt.Errorf("cannot check %s: %v", file, err)
	}
	if err := cmdline.PrintStructure(c.stdout, file, rep); err != nil {
		return err
	}

	var key []byte
	if !*withoutKey {
		_, keys, err := c.openProfile(*profile, sf)
		if err != nil {
			return fmt.Errorf("%w (kiosk check --without-key checks the outbox without it)", err)
		}
		key = keys.Outbox
	}
	fc, err := outbox.CheckFile(file, key)
	if err != nil {
		return err
	}
	opened := "sealed payloads and print jobs not opened (--without-key)"
	if fc.Opened {
		opened = "sealed payloads and print jobs opened with the profile's key"
	}
	if len(fc.Problems) > 0 {
		cmdline.PrintDamage(c.stdout, "outbox", fc.Problems, fc.More)
		return &boltfile.DamageError{Path: file, Problem: fc.Problems[0]}
	}
	fmt.Fprintf(c.stdout, "outbox     %d pending, %d set aside, %d done, %d print jobs; %s: intact\n", fc.Pending, fc.Refused, fc.Done, fc.Jobs, opened)
	return nil
}

// guard runs a command so that damage in the outbox met on the way (a
// panic inside bbolt, a memory fault) ends it with one sentence, as damage
// found when the file is opened does; the command's --profile names the
// file. Damage anywhere in an error's chain is told the same way.
func (c *cli) guard(args []string, fn func() error) error {
	profile := cmdline.FlagValue(args, "profile", defaultProfileDir())
	return cmdline.AdviseDamage(boltfile.Guard(outboxPath(profile), fn), "kiosk check --profile")
}
