package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/backup"
	"github.com/sportello/sportello/internal/cmdline"
	hubcore "github.com/sportello/sportello/internal/hub"
)

func init() {
	register(
		command{Name: "backup", Usage: "--data DIR --to FILE [--with-keys --passphrase-file FILE]",
			Help: "write a backup of the hub's records, PDFs and audit anchors (and, sealed under a passphrase, its keys) while it serves", Run: (*cli).backup},
		command{Name: "restore", Usage: "--from FILE --data NEWDIR [--db postgres://…] --city BELFIORE [--passphrase-file FILE]",
			Help: "restore a backup into a new data directory, refusing one that fails its checksum or is of another city", Run: (*cli).restore},
	)
}

// minPassphrase is the shortest passphrase the keys are sealed under:
// scrypt slows guessing, it cannot make a short passphrase strong.
const minPassphrase = 12

// Member names inside the backup: the data directory's files under data/,
// the keys' and TLS files sealed in backup.KeysName.
const (
	memberData = "data/"
	memberDB   = memberData + "hub.db"
	memberPDF  = memberData + "pdf/"
	memberDump = "database.dump" // pg_dump's custom format
)

func (c *cli) backup(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub backup")
	data := c.dataFlag(fs)
	to := fs.String("to", "", "`FILE` to write the backup into; it must not exist yet")
	withKeys := fs.Bool("with-keys", false, "include the hub's keys (seal, token, CA, TLS), sealed under the passphrase of --passphrase-file")
	passFile := fs.String("passphrase-file", "", "`FILE` whose first line is the passphrase the keys are sealed under (at least 12 characters)")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *to == "":
		return usagef("give the file to write the backup into: --to FILE")
	case *withKeys && *passFile == "":
		return usagef("--with-keys needs --passphrase-file FILE: the keys are never written in the clear")
	case !*withKeys && *passFile != "":
		return usagef("--passphrase-file seals the keys: give --with-keys too, or leave the passphrase out")
	}
	var passphrase []byte
	if *withKeys {
		var err error
		if passphrase, err = c.readPassphrase(*passFile); err != nil {
			return err
		}
	}
	dest := c.path(*to)
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("%s already exists: give a new file, a backup never overwrites one", dest)
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		settings, err := c.cityStore(h)
		if err != nil {
			return err
		}
		cfg, err := settings.Current()
		if err != nil {
			return err
		}
		// Written beside the destination and linked into place at the end,
		// so the file named --to is whole or absent.
		tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-")
		if err != nil {
			return fmt.Errorf("cannot write the backup: %v", unwrapPath(err))
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		sum := sha256.New()
		backend := "bolt"
		if h.file == "" {
			backend = "postgres"
		}
		w := backup.NewWriter(io.MultiWriter(tmp, sum), backup.Manifest{City: cfg.Belfiore, Version: version, Created: c.now().UTC(), Backend: backend})
		// The anchors first: each one names a point of the audit log, so
		// a copy taken before the records' snapshot never runs ahead of it
		// (hub audit verify would take that for a cut log).
		anchors, err := os.ReadFile(anchorPath(h.Dir))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot read the audit anchors: %v", unwrapPath(err))
		}
		if err == nil {
			if err := w.AddBytes(memberData+anchorlog.FileName, anchors); err != nil {
				return err
			}
		}
		if h.file != "" {
			if err := h.storage.CopyFile(func(size int64, copy func(io.Writer) error) error {
				return w.Add(memberDB, size, copy)
			}); err != nil {
				return err
			}
		} else {
			// pg_dump's snapshot is taken after the anchors were read, as
			// the bbolt copy is.
			dump, err := os.CreateTemp("", "sportello-dump-")
			if err != nil {
				return err
			}
			dump.Close()
			defer os.Remove(dump.Name())
			if err := hubcore.DumpDatabase(ctx, *c.db, dump.Name()); err != nil {
				return err
			}
			if err := w.AddFile(memberDump, dump.Name()); err != nil {
				return err
			}
		}
		if _, err := os.Stat(filepath.Join(h.Dir, demoMarker)); err == nil {
			if err := w.AddFile(memberData+demoMarker, filepath.Join(h.Dir, demoMarker)); err != nil {
				return err
			}
		}
		pdfs := 0
		if err := walkFiles(h.pdfDir, func(rel, p string) error {
			pdfs++
			return w.AddFile(memberPDF+rel, p)
		}); err != nil {
			return fmt.Errorf("cannot copy the PDFs of %s: %v", h.pdfDir, unwrapPath(err))
		}
		if *withKeys {
			files := map[string][]byte{}
			for _, sub := range []string{"keys", "tls"} {
				if err := walkFiles(filepath.Join(h.Dir, sub), func(rel, p string) error {
					b, err := os.ReadFile(p)
					files[sub+"/"+rel] = b
					return err
				}); err != nil {
					return fmt.Errorf("cannot read the keys: %v", unwrapPath(err))
				}
			}
			if err := w.AddKeys(files, passphrase); err != nil {
				return err
			}
		}
		m, err := w.Close()
		if err != nil {
			return fmt.Errorf("cannot write the backup: %w", err)
		}
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("cannot write the backup: %v", unwrapPath(err))
		}
		if err := os.Link(tmp.Name(), dest); err != nil {
			return fmt.Errorf("cannot put the backup at %s: %v", dest, unwrapPath(err))
		}
		fmt.Fprintf(c.stdout, "backup of %s written to %s: %d members (%d PDFs), SHA-256 %x\n", m.City, dest, len(m.Members), pdfs, sum.Sum(nil))
		if m.Keys == nil {
			fmt.Fprintf(c.stdout, "the keys are not in it: keep %s and %s safe elsewhere, or certificates issued so far will not verify on a restored hub\n",
				keysDir(h.Dir), filepath.Join(h.Dir, "tls"))
		}
		return nil
	})
}

// walkFiles calls fn for every regular file under dir with its path
// relative to dir (slash-separated); a missing dir has none.
func walkFiles(dir string, fn func(rel, path string) error) error {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), p)
	})
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); errors.Is(serr, os.ErrNotExist) {
			return nil
		}
	}
	return err
}

// readPassphrase reads the first line of file.
func (c *cli) readPassphrase(file string) ([]byte, error) {
	b, err := os.ReadFile(c.path(file))
	if err != nil {
		return nil, fmt.Errorf("cannot read the passphrase: %v", unwrapPath(err))
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if len([]rune(line)) < minPassphrase {
		return nil, usagef("the passphrase in %s is shorter than %d characters", file, minPassphrase)
	}
	return []byte(line), nil
}

func (c *cli) restore(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub restore")
	data := c.dataFlag(fs)
	from := fs.String("from", "", "the backup `FILE` written by hub backup")
	cityFlag := fs.String("city", os.Getenv("SPORTELLO_CITY"), "Belfiore code of the comune whose backup this must be (default $SPORTELLO_CITY)")
	passFile := fs.String("passphrase-file", "", "`FILE` whose first line is the passphrase the backup's keys are sealed under")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *from == "":
		return usagef("give the backup to restore: --from FILE")
	case *cityFlag == "":
		return usagef("give the comune whose backup this is: --city BELFIORE (such as F205), so a backup of another city is never restored by mistake")
	case *c.pdfs != "":
		return usagef("hub restore puts the PDFs in DIR/pdf; move them to the shared directory afterwards")
	}
	wantCity := strings.ToUpper(*cityFlag)
	var passphrase []byte
	if *passFile != "" {
		var err error
		if passphrase, err = c.readPassphrase(*passFile); err != nil {
			return err
		}
	}
	target := c.path(*data)
	if entries, err := os.ReadDir(target); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s already holds files (%s…): hub restore never overwrites data; give a new directory", target, entries[0].Name())
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot read %s: %v", target, unwrapPath(err))
	}
	f, err := os.Open(c.path(*from))
	if err != nil {
		return fmt.Errorf("cannot read the backup: %v", unwrapPath(err))
	}
	defer f.Close()
	parent := filepath.Dir(target)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %v", parent, unwrapPath(err))
	}
	// Everything is staged beside the target and moved into place only
	// once every check passed: a refused backup leaves nothing behind.
	staging, err := os.MkdirTemp(parent, "."+filepath.Base(target)+".restoring-")
	if err != nil {
		return fmt.Errorf("cannot stage the restore: %v", unwrapPath(err))
	}
	defer os.RemoveAll(staging)
	m, err := backup.Extract(f, staging, func(m backup.Manifest) error {
		if !strings.EqualFold(m.City, wantCity) {
			return fmt.Errorf("%w: it is the backup of %s, made %s, and this restore is for %s", backup.ErrCity, m.City, m.Created.Format("2006-01-02 15:04 MST"), wantCity)
		}
		switch {
		case m.Backend == "postgres" && *c.db == "":
			return usagef("the backup holds a PostgreSQL database: give the empty database to restore it into with --db postgres://…")
		case m.Backend != "postgres" && *c.db != "":
			return usagef("the backup holds a data directory's bbolt file, not a PostgreSQL database: leave --db out (hub migrate moves a restored directory into PostgreSQL)")
		}
		if m.Keys != nil && passphrase == nil {
			return usagef("the backup holds the hub's keys sealed under a passphrase: give --passphrase-file FILE")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if m.Keys != nil {
		sealed, err := os.ReadFile(filepath.Join(staging, backup.KeysName))
		if err != nil {
			return err
		}
		files, err := backup.OpenKeys(m, sealed, passphrase)
		if err != nil {
			return err
		}
		for name, b := range files {
			p := filepath.Join(staging, filepath.FromSlash(memberData+name))
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				return fmt.Errorf("cannot write the keys: %v", unwrapPath(err))
			}
		}
	}
	dataDir := filepath.Join(staging, filepath.FromSlash(strings.TrimSuffix(memberData, "/")))
	if err := atomicfile.PrivateDir(dataDir); err != nil {
		return err
	}
	if m.Backend == "postgres" {
		// Last of the checks and in one transaction: a refused restore
		// leaves the database empty and nothing in NEWDIR.
		if err := hubcore.RestoreDatabase(ctx, *c.db, filepath.Join(staging, memberDump)); err != nil {
			return err
		}
	} else {
		rep, err := hubcore.CheckFile(filepath.Join(dataDir, "hub.db"), 0)
		if err != nil {
			return fmt.Errorf("the backup's records cannot be read: %w", err)
		}
		if !rep.OK() {
			return fmt.Errorf("the backup's records are damaged: %s", rep.Summary())
		}
	}
	if _, err := os.Stat(target); err == nil {
		if err := os.Remove(target); err != nil { // empty, checked above
			return fmt.Errorf("cannot replace the empty %s: %v", target, unwrapPath(err))
		}
	}
	if err := os.Rename(dataDir, target); err != nil {
		if m.Backend == "postgres" {
			return fmt.Errorf("the database is restored, but the keys, anchors and PDFs could not be moved into %s: %v; drop and re-create the database before trying again", target, unwrapPath(err))
		}
		return fmt.Errorf("cannot move the restored data into %s: %v", target, unwrapPath(err))
	}
	if m.Backend == "postgres" {
		fmt.Fprintln(c.stdout, "the records are restored into the database of --db")
	}
	fmt.Fprintf(c.stdout, "restored the backup of %s made %s by Sportello %s into %s (%d members)\n",
		m.City, m.Created.Format("2006-01-02 15:04:05 MST"), m.Version, target, len(m.Members))
	if m.Keys == nil {
		fmt.Fprintf(c.stdout, "the backup holds no keys: put the city's keys in %s and %s before hub serve, or it makes new ones and certificates issued before will not verify\n",
			keysDir(target), filepath.Join(target, "tls"))
	}
	return nil
}
