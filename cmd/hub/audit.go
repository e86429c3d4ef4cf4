package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(
		command{Name: "audit verify", Usage: "--data DIR [--anchor N:HASH]... [--anchors FILE]... [--no-anchor-file]", Help: "check the audit log's hash chain against its signed anchors; exit 1 naming the first altered or missing entry", Run: (*cli).auditVerify},
		command{Name: "audit search", Usage: "--data DIR [--cf CF] [--actor [KIND:]ID] [--from DAY] [--to DAY] [--limit N] [--json]", Help: "list recorded reads of personal data, oldest first", Run: (*cli).auditSearch},
		command{Name: "audit anchors", Usage: "--data DIR", Help: "print each closed day's anchor and the current head, to publish or print in the protocol register", Run: (*cli).auditAnchors},
	)
}

// noPurpose is recorded when a staff member gives no --purpose, so an
// auditor can search for reads made without a declared reason.
const noPurpose = "consultazione da riga di comando, motivo non indicato"

// anchorList collects repeated --anchor flags.
type anchorList []audit.Anchor

func (l *anchorList) String() string { return fmt.Sprint(*l) }

func (l *anchorList) Set(s string) error {
	h, err := audit.ParseHead(s)
	if err != nil {
		return err
	}
	*l = append(*l, audit.Anchor{Head: h})
	return nil
}

func (c *cli) auditVerify(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub audit verify")
	data := c.dataFlag(fs)
	var published anchorList
	fs.Var(&published, "anchor", "a chain point published earlier (N:HASH, as hub audit anchors prints it); repeatable")
	var copies fileList
	fs.Var(&copies, "anchors", "a copy of anchor lines kept elsewhere (from the journal, say) to check too; repeatable")
	noFile := fs.Bool("no-anchor-file", false, "the store was restored or moved without its "+anchorlog.FileName+": check the chain alone, knowing a cut tail would not show")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		path := anchorPath(h.Dir)
		var (
			check   *audit.AnchorCheck
			missing bool
			head    audit.Head
			pruned  audit.Pruned
		)
		// A retention run in a serving hub may move the checkpoint while
		// the anchors are read: read them again for the new one.
		for try := 0; ; try++ {
			var err error
			if err = h.stores.View(ctx, func(tx store.Tx) (err error) { pruned, err = tx.Audit().Pruned(); return err }); err != nil {
				return err
			}
			// The anchors are read before the log: every anchor in them
			// was written after its commit, so the snapshot taken next
			// holds every entry they name, even while a serving hub
			// appends.
			check = nil
			anchored := func(file string) error {
				if check == nil {
					// Every key the hub signed with: anchors signed before a
					// rotation check against the retired key.
					pub, err := seal.LoadPublicKeys(keysDir(h.Dir))
					if err != nil {
						return fmt.Errorf("the audit anchors cannot be checked: %w", err)
					}
					check = audit.NewAnchorCheck(pub)
					check.Watch(pruned.At)
				}
				return anchorlog.Each(file, check.Add)
			}
			_, err = os.Stat(path)
			missing = errors.Is(err, os.ErrNotExist)
			if !missing {
				if err := anchored(path); err != nil {
					return err
				}
			}
			for _, f := range copies {
				if err := anchored(c.path(f)); err != nil {
					return fmt.Errorf("cannot read the anchor copy %s: %w", f, err)
				}
			}
			if check == nil {
				check = audit.NewAnchorCheck(nil)
			}
			var now audit.Pruned
			err = h.stores.View(ctx, func(tx store.Tx) (err error) {
				if now, err = tx.Audit().Pruned(); err != nil {
					return err
				}
				head, err = tx.Audit().Verify(append(published, check.Anchors()...)...)
				return err
			})
			if err != nil {
				return err
			}
			if now == pruned || try == 2 {
				pruned = now
				break
			}
		}
		switch {
		case check.Err() != nil:
			return check.Err()
		case missing && head.Seq > 0 && !*noFile:
			return fmt.Errorf("there is no %s beside the log's %d entries, so a cut tail would not show: the hub writes it as it records; if this store was restored or moved without it, check the chain alone with --no-anchor-file", path, head.Seq)
		case !missing || len(copies) > 0:
			// Entries removed by retention are vouched for only by the
			// signed anchor of the point they were removed up to, and by
			// the hub's signed clock showing they were old enough.
			if err := check.ConfirmPruned(pruned, audit.MinRetentionMonths); err != nil {
				return fmt.Errorf("%w (if %s was started anew since, give the old one too with --anchors FILE)", err, anchorlog.FileName)
			}
		}
		if head.Seq == 0 {
			fmt.Fprintln(c.stdout, "0 entries, the audit log is empty")
		} else {
			fmt.Fprintf(c.stdout, "%d entries, chain intact, head %s\n", head.Seq, head.Hash)
		}
		switch {
		case pruned.IsZero():
		case missing && len(copies) == 0:
			fmt.Fprintf(c.stdout, "entries 1–%d were removed by retention; without anchors that removal is not confirmed\n", pruned.Through.Seq)
		default:
			fmt.Fprintf(c.stdout, "entries 1–%d were removed by retention at the point %d, which a signed anchor confirms\n", pruned.Through.Seq, pruned.At.Seq)
		}
		for _, u := range check.Unreadable {
			fmt.Fprintf(c.stdout, "skipped: %s; it names no entry, so it changes nothing checked\n", u)
		}
		if more := check.UnreadableN - len(check.Unreadable); more > 0 {
			fmt.Fprintf(c.stdout, "skipped: %d more lines that cannot be read\n", more)
		}
		if check.Last.Seq > 0 {
			fmt.Fprintf(c.stdout, "last anchored: entry %d at %s (%s)\n", check.Last.Seq, check.Last.Time.Format(time.RFC3339Nano), check.LastWhere)
		}
		switch n := head.Seq - check.Last.Seq; {
		case missing && head.Seq > 0:
			fmt.Fprintf(c.stdout, "no anchor file: the chain was checked alone, a cut tail would not show\n")
		case n == 1:
			fmt.Fprintf(c.stdout, "not yet anchored: entry %d\n", head.Seq)
		case n > 1:
			fmt.Fprintf(c.stdout, "not yet anchored: entries %d–%d\n", check.Last.Seq+1, head.Seq)
		}
		return nil
	})
}

// fileList collects a repeated file flag.
type fileList []string

func (l *fileList) String() string     { return strings.Join(*l, ",") }
func (l *fileList) Set(s string) error { *l = append(*l, s); return nil }

// anchorPath is where the hub keeps the audit chain's signed anchors.
func anchorPath(dataDir string) string { return filepath.Join(dataDir, anchorlog.FileName) }

// hubAudit is a hub file's audit log, anchoring as it records.
type hubAudit struct {
	// stores is the hub's stores anchoring every head they commit; it
	// replaces hubFile.stores.
	stores *store.Anchoring
	// rec records reads through stores.
	rec     store.Recorder
	file    *anchorlog.File
	journal *anchorlog.Journal
}

// Record appends e in a transaction of its own, anchored before it
// returns.
func (a *hubAudit) Record(ctx context.Context, e audit.Entry) error { return a.rec.Record(ctx, e) }

// RecordAll appends es together, all or none, as Record appends one.
func (a *hubAudit) RecordAll(ctx context.Context, es []audit.Entry) error {
	return a.rec.RecordAll(ctx, es)
}

// auditStore is the hub file's one audit log, set up on first use: every
// head a transaction of h.stores commits is signed with the hub's issuing
// key and appended to DIR/audit-anchors.log (and sent to the journal at
// h.auditJournal, when set) before the commit returns; h.stores is that
// anchoring store from then on. keys are the hub's keys when the caller
// has them (nil: loaded, or made on first use, from DIR/keys); log hears of
// anchors that fail after their commit (nil: the command's stderr).
func (c *cli) auditStore(h *hubFile, keys *seal.Keys, log *slog.Logger) (*hubAudit, error) {
	if h.audit != nil {
		return h.audit, nil
	}
	var err error
	if keys == nil {
		if keys, err = seal.LoadOrCreate(keysDir(h.Dir), c.now); err != nil {
			return nil, err
		}
	}
	onErr := func(err error) { fmt.Fprintf(c.stderr, "hub: %s\n", cmdline.Sentence(err.Error())) }
	if log != nil {
		onErr = func(err error) { log.Error("audit anchor", "err", err) }
	}
	path := anchorPath(h.Dir)
	last, _, err := anchorlog.LastSigned(path, keys.PublicKeys())
	if err != nil {
		return nil, err
	}
	file, err := anchorlog.Open(path)
	if err != nil {
		return nil, err
	}
	a := &hubAudit{file: file}
	sinks := []audit.AnchorSink{file}
	if h.auditJournal != "" {
		a.journal = &anchorlog.Journal{Socket: h.auditJournal, OnError: onErr}
		sinks = append(sinks, a.journal)
	}
	anchorer := audit.NewAnchorer(keys.TokenKey, keys.KeyID, c.now, last.Head, sinks...)
	a.stores, err = store.AnchorAudit(context.Background(), h.stores, anchorer, onErr)
	if err != nil {
		a.close()
		if errors.Is(err, audit.ErrBehindAnchor) {
			return nil, fmt.Errorf("%w; nothing is recorded over the gap: hub audit verify --data %s shows what is missing, and if the file was restored on purpose, move %s aside to start a new anchor file", err, h.Dir, path)
		}
		return nil, err
	}
	if now := a.stores.Anchored(); log != nil && now.Seq > last.Seq {
		if last.Seq == 0 {
			log.Warn("audit anchors: none found, so anchoring starts at the head; entries before it are anchored from now, not from when they were recorded",
				"file", path, "head", now.Seq)
		} else {
			log.Warn("audit anchors: entries recorded after the last anchor (by the protocol register's recovery at start, a crash between a commit and its anchor, or a program that does not anchor) are anchored now",
				"file", path, "from", last.Seq+1, "to", now.Seq)
		}
	}
	a.rec = store.NewRecorder(a.stores, c.now)
	h.stores = a.stores
	h.audit = a
	return a, nil
}

func (a *hubAudit) close() error {
	if a == nil {
		return nil
	}
	if a.journal != nil {
		a.journal.Close()
	}
	return a.file.Close()
}

func (c *cli) auditSearch(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub audit search")
	data := c.dataFlag(fs)
	var q audit.Query
	fs.StringVar(&q.Subject, "cf", "", "codice fiscale of the person whose data was read")
	fs.StringVar(&q.Actor, "actor", "", "who read it: KIND:ID (staff, operator, device, system), a bare ID, or clerk:ID for a shop's named clerk")
	from := fs.String("from", "", "first day, YYYY-MM-DD")
	to := fs.String("to", "", "last day, YYYY-MM-DD (default: --from)")
	limit := fs.Int("limit", 0, "list at most N entries (0: all)")
	asJSON := fs.Bool("json", false, "print one JSON object a line")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("--limit must not be negative")
	}
	var err error
	if *from != "" {
		if q.From, err = protocol.ParseDay(*from); err != nil {
			return usagef("--from: %v", err)
		}
		q.To = q.From
	}
	if *to != "" {
		if q.To, err = protocol.ParseDay(*to); err != nil {
			return usagef("--to: %v", err)
		}
	}
	if *from != "" && string(q.To.Key()) < string(q.From.Key()) {
		return usagef("--to %s is before --from %s", q.To, q.From)
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		return h.stores.View(ctx, func(tx store.Tx) error {
			enc := json.NewEncoder(c.stdout)
			n := 0
			return tx.Audit().Search(q, func(e audit.Entry) (bool, error) {
				var err error
				if *asJSON {
					err = enc.Encode(e)
				} else {
					// The clerk, when one was logged in, beside the device.
					actor := e.Actor.String()
					if e.Clerk.ID != "" {
						actor += " " + e.Clerk.String()
					}
					_, err = fmt.Fprintf(c.stdout, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq,
						e.Time.In(protocol.Rome).Format("2006-01-02 15:04:05"), actor, e.Subject, e.Data, e.Channel, e.Purpose, e.Request)
				}
				n++
				return *limit == 0 || n < *limit, errors.Join(err, ctx.Err())
			})
		})
	})
}

func (c *cli) auditAnchors(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub audit anchors")
	data := c.dataFlag(fs)
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		return h.stores.View(ctx, func(tx store.Tx) error {
			as, err := tx.Audit().Anchors()
			if err != nil {
				return err
			}
			for _, a := range as {
				fmt.Fprintln(c.stdout, a)
			}
			head, err := tx.Audit().Head()
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "head %s\n", head)
			return nil
		})
	})
}

// changer is who makes a change: the account running the command, as the
// operating system (or, for a command forwarded to a serving hub, the
// kernel on the control socket) vouches for it. --by cannot replace it: a
// name given there is kept beside it as a note, "staff:account (--by name)",
// so the record still shows who really acted.
func (c *cli) changer(by string) (string, error) {
	by = strings.TrimSpace(by)
	// Control and format characters (new lines, bidirectional overrides)
	// could make the note pass for the account, or for another history line.
	if strings.ContainsFunc(by, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return "", usagef("--by must be a name on one line, without control or formatting characters")
	}
	a, err := c.staffActor()
	if err != nil {
		// No user name for this process: its user id is still certain.
		a = audit.Actor{Kind: audit.Staff, ID: "uid" + strconv.Itoa(os.Getuid())}
	}
	if by == "" || by == a.ID || by == a.String() {
		return a.String(), nil
	}
	return a.String() + " (--by " + by + ")", nil
}

// staffActor is the staff member running this command: the OS account, which
// the city's log-in already ties to a person. A command forwarded to a
// serving hub is recorded under the caller's account as the kernel reports
// it on the control socket, not under the hub's own.
func (c *cli) staffActor() (audit.Actor, error) {
	name := ""
	if c.store != nil {
		if u, err := user.LookupId(strconv.Itoa(c.uid)); err == nil {
			name = u.Username
		} else {
			name = "uid" + strconv.Itoa(c.uid)
		}
		return audit.Actor{Kind: audit.Staff, ID: name}, nil
	}
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if strings.TrimSpace(name) == "" {
		return audit.Actor{}, errors.New("cannot tell which user is running this command, and a read of personal data must be recorded with who made it")
	}
	return audit.Actor{Kind: audit.Staff, ID: name}, nil
}

// requireRegistry refuses a data directory with no registry, for commands
// that open the file for writing only to record an audit entry: they must
// not create an empty registry.
func (c *cli) requireRegistry(dataDir string) error {
	if c.store != nil || (c.db != nil && *c.db != "") { // a database's registry is there to open
		return nil
	}
	dir := c.path(dataDir)
	if _, err := os.Stat(registryPath(dir)); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no registry in %s (create one with hub seed or hub serve --demo)", dir)
	}
	return nil
}

// auditedRead runs fn on the registry and appends e, which fn completes
// (Subject) once it knows whose data it read, in one write transaction.
// fn's output is held back until the transaction commits: data is shown
// only once its read is on record.
func (c *cli) auditedRead(h *hubFile, e audit.Entry, fn func(c *cli, r registry.Reader, e *audit.Entry) error) error {
	var out bytes.Buffer
	inner := *c
	inner.stdout = &out
	e.Time = c.now()
	aud, err := c.auditStore(h, nil, nil)
	if err != nil {
		return fmt.Errorf("the read cannot be recorded in the audit log, so nothing is shown: %w", err)
	}
	var seq uint64
	err = aud.stores.Update(context.Background(), func(tx store.Tx) error {
		if err := fn(&inner, tx.Registry(), &e); err != nil {
			return err
		}
		got, err := tx.Audit().Append(e)
		if err != nil {
			return fmt.Errorf("the read cannot be recorded in the audit log, so nothing is shown: %w", err)
		}
		seq = got.Seq
		return nil
	})
	if err != nil {
		return err
	}
	if aud.stores.Anchored().Seq < seq {
		return fmt.Errorf("the read is recorded as audit entry %d but its anchor could not be written to %s, so nothing is shown", seq, anchorPath(h.Dir))
	}
	_, err = c.stdout.Write(out.Bytes())
	return err
}
