package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/convention"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(
		command{Name: "convention export", Usage: "--data DIR --operator ID --out DIR [--from DAY] [--to DAY] [--force]",
			Help: "write a shop's convention kit: the agreement with its controls (PDF), the enabled clerks, the retention settings and the shop's audit extract (CSV and PDF), with their SHA-256 in SHA256SUMS",
			Run:  (*cli).conventionExport},
	)
}

func (c *cli) conventionExport(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub convention export")
	data := c.dataFlag(fs)
	id := fs.String("operator", "", "the shop's operator id, as hub operator list shows it")
	out := fs.String("out", "", "the directory to write the kit into; it must not exist or be empty")
	from := fs.String("from", "", "first day of the audit extract, YYYY-MM-DD (default: the day the agreement was signed)")
	to := fs.String("to", "", "last day of the audit extract, YYYY-MM-DD (default: today)")
	force := fs.Bool("force", false, "replace the kit in a --out directory that is not empty")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(*id) == "":
		return usagef("--operator is required")
	case *out == "":
		return usagef("--out is required")
	}
	var p convention.Period
	var err error
	if *from != "" {
		if p.From, err = protocol.ParseDay(*from); err != nil {
			return usagef("--from: %v", err)
		}
	}
	if *to != "" {
		if p.To, err = protocol.ParseDay(*to); err != nil {
			return usagef("--to: %v", err)
		}
	}
	if *from != "" && *to != "" && p.To.Before(p.From) {
		return usagef("--to %s is before --from %s", p.To, p.From)
	}
	dir := c.path(*out)
	// Refused before anything is read, so a typo in --out costs nothing.
	if err := kitTarget(dir, *force); err != nil {
		return err
	}
	var files []convention.File
	var kit *convention.Kit
	err = c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		src, city, err := c.conventionSources(ctx, h)
		if err != nil {
			return err
		}
		if kit, err = convention.Gather(src, city, *id, p, c.now()); err != nil {
			return err
		}
		files, err = kit.Files()
		return err
	})
	if err != nil {
		return err
	}
	if err := writeKit(dir, files, *force); err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(c.stdout, "%s  %s\n", f.SHA256(), filepath.Join(dir, f.Name))
	}
	fmt.Fprintf(c.stdout, "%d audit entries from %s to %s\n", len(kit.Audit), kit.Period.From, kit.Period.To)
	for _, missing := range kit.NotApplied() {
		fmt.Fprintf(c.stdout, "not applied by this hub, so stated as such in the agreement: %s\n", missing)
	}
	return nil
}

// conventionSources wires each section of the kit to the store of the
// domain it belongs to.
func (c *cli) conventionSources(ctx context.Context, h *hubFile) (convention.Sources, convention.City, error) {
	ops, err := c.newOperators(h)
	if err != nil {
		return convention.Sources{}, convention.City{}, err
	}
	cs, err := c.cityStore(h)
	if err != nil {
		return convention.Sources{}, convention.City{}, err
	}
	cfg, err := cs.Current()
	if err != nil {
		return convention.Sources{}, convention.City{}, err
	}
	city := convention.City{Comune: "Comune " + cfg.Belfiore, Office: cfg.Office, Address: cfg.Address}
	err = h.View(ctx, func(r registry.Reader) error {
		t, err := placeTable(r)
		if err != nil {
			return err
		}
		if iss, err := cfg.Issuer(t); err == nil {
			city.Comune = iss.Comune
		}
		return nil
	})
	if err != nil {
		return convention.Sources{}, convention.City{}, err
	}
	src, err := c.kitSections(h, c.store != nil)
	if err != nil {
		return convention.Sources{}, convention.City{}, err
	}
	src.Operators, src.Audit = ops, store.AuditLog{S: h.stores, Ctx: ctx}
	return src, city, nil
}

// kitSections wires the kit's sections whose features a hub may lack or
// switch off to what this hub applies (hubcore.KitSections); the console's
// download gets the same. serving says whether h is a running hub's, which
// alone knows its serving flags.
func (c *cli) kitSections(h *hubFile, serving bool) (convention.Sources, error) {
	cs, err := c.cityStore(h)
	if err != nil {
		return convention.Sources{}, err
	}
	ops, err := c.newOperators(h)
	if err != nil {
		return convention.Sources{}, err
	}
	return hubcore.KitSections(hubcore.KitConfig{City: cs, Operators: ops, Clock: c.now, API: h.api, Channels: h.notifyChannels, Serving: serving}), nil
}

// kitTarget refuses a --out that holds anything, unless force.
func kitTarget(dir string, force bool) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot use %s for the kit: %v", dir, unwrapPath(err))
	case !fi.IsDir():
		return fmt.Errorf("%s is a file, not a directory; give --out a new or empty directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", dir, unwrapPath(err))
	}
	if len(entries) > 0 && !force {
		return fmt.Errorf("%s is not empty (it holds %s); give a new directory, or --force to replace what is there with the kit", dir, entries[0].Name())
	}
	return nil
}

// writeKit writes files into dir as a whole or not at all: into a new
// directory beside it first, synced, then renamed into place. A directory
// already there (empty, or replaced with force) is moved aside first and
// removed only once the new one stands.
func writeKit(dir string, files []convention.File, force bool) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %v", parent, unwrapPath(err))
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("cannot write the kit beside %s: %v", dir, unwrapPath(err))
	}
	defer os.RemoveAll(tmp) // nothing is left once renamed
	for _, f := range files {
		if err := atomicfile.Create(filepath.Join(tmp, f.Name), f.Data, 0o600); err != nil {
			return fmt.Errorf("cannot write the kit's %s: %v", f.Name, unwrapPath(err))
		}
	}
	atomicfile.SyncDir(tmp)
	if err := kitTarget(dir, force); err != nil { // it may have changed while the kit was made
		return err
	}
	var old string
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("cannot move %s aside to replace it: %v", dir, unwrapPath(err))
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("cannot move the kit into %s: %v", dir, unwrapPath(err))
	}
	atomicfile.SyncDir(parent)
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}
