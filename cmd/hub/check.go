package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/cmdline"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(command{Name: "check", Usage: "--data DIR",
		Help: "check hub.db whole: every page of the file, every registry record and index, the audit log's chain; exit 1 saying what is damaged and where",
		Run:  (*cli).check})
}

// check reads the whole file twice over: first its bbolt structure with
// plain reads (hubcore.CheckFile, which nothing in the file can crash), then,
// only if that is sound, what the stores keep in it. What it finds is
// listed on stdout, one problem a line, and the command exits 1 with one
// sentence; a file it finds sound exits 0.
func (c *cli) check(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub check")
	data := c.dataFlag(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if c.store != nil {
		return errors.New("hub check reads the whole file, which must not change meanwhile: stop hub serve, then run it")
	}
	dir := c.path(*data)
	file := registryPath(dir)
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no registry in %s", dir)
	}
	rep, err := hubcore.CheckFile(file, 300*time.Millisecond)
	if errors.Is(err, hubcore.ErrFileInUse) {
		return fmt.Errorf("the registry file %s is in use by a running hub: stop it, then run hub check", file)
	}
	if err != nil {
		return fmt.Errorf("cannot check %s: %v", file, unwrapPath(err))
	}
	if err := cmdline.PrintStructure(c.stdout, file, rep); err != nil {
		return err
	}

	// The structure is sound, so bbolt can read the file; a panic or a
	// fault on the way is still caught (cli.guard).
	return c.withHub(ctx, dir, readExisting, func(h *hubFile) error {
		var problems []string
		rc, err := h.CheckRecords(ctx)
		if err != nil {
			return err
		}
		if len(rc.Problems) > 0 {
			cmdline.PrintDamage(c.stdout, "registry", rc.Problems, rc.More)
			problems = append(problems, rc.Problems[0])
		} else {
			fmt.Fprintf(c.stdout, "registry   %d persons, %d families, %d events and their indexes: intact\n", rc.Persons, rc.Families, rc.Events)
		}
		err = h.stores.View(ctx, func(tx store.Tx) error {
			head, err := tx.Audit().Verify()
			if err != nil {
				cmdline.PrintDamage(c.stdout, "audit log", []string{err.Error()}, 0)
				problems = append(problems, "the audit log: "+err.Error())
				return nil
			}
			fmt.Fprintf(c.stdout, "audit log  %d entries, chain intact\n", head.Seq)
			return nil
		})
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return &hubcore.DamageError{Path: file, Problem: strings.Join(problems, "; ")}
		}
		return nil
	})
}
