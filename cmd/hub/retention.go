package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/blob/blobdir"
	"github.com/sportello/sportello/internal/cmdline"
	hubcore "github.com/sportello/sportello/internal/hub"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/retention"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
)

func init() {
	register(
		command{Name: "retention run", Usage: "--data DIR [--dry-run]",
			Help: "delete issued PDFs past the re-download window, purge issuance records and audit entries past the retention period (hub city set --retention-…); --dry-run says what would go", Run: (*cli).retentionRun},
	)
}

func (c *cli) retentionRun(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub retention run")
	data := c.dataFlag(fs)
	dry := fs.Bool("dry-run", false, "say what would go, and change nothing")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	mode := readExisting
	if !*dry {
		if err := c.requireRegistry(*data); err != nil {
			return err
		}
		mode = writeCreate
	}
	return c.withHub(ctx, *data, mode, func(h *hubFile) error {
		r, err := c.retention(ctx, h, *dry, nil)
		c.printRetention(h, r)
		return err
	})
}

// retention runs the city's retention policy on h at the hub's clock
// (hubcore.Retention).
func (c *cli) retention(ctx context.Context, h *hubFile, dry bool, log *slog.Logger) (retention.Report, error) {
	cs, err := c.cityStore(h)
	if err != nil {
		return retention.Report{}, err
	}
	blobs, err := blobdir.Open(h.pdfDir)
	if err != nil {
		return retention.Report{}, err
	}
	run := hubcore.Retention{Stores: h.stores, Blobs: blobs, City: cs, Now: c.now}
	// Audit entries are pruned only at points the hub's signed anchors
	// recorded; a hub without its keys has none to trust.
	if pub, err := seal.LoadPublicKeys(keysDir(h.Dir)); err == nil {
		run.Anchors = anchorlog.Signed{Path: anchorPath(h.Dir), Keys: pub}
	}
	if !dry {
		// The run's own entry goes through the anchoring store: its
		// signed anchor is the clock reading verification checks the
		// pruning against.
		aud, err := c.auditStore(h, nil, log)
		if err != nil {
			return retention.Report{}, fmt.Errorf("the retention run cannot be recorded in the audit log, so nothing was removed: %w", err)
		}
		run.Record = aud.Record
		if err := c.noteClockOffset(ctx, "hub retention run", aud.Record, log); err != nil {
			return retention.Report{}, err
		}
	}
	return run.Run(ctx, dry)
}

func (c *cli) printRetention(h *hubFile, r retention.Report) {
	if r.At.IsZero() {
		return
	}
	day := func(t time.Time) string { return t.In(protocol.Rome).Format("2006-01-02 15:04") }
	verb := map[bool]string{true: "would go", false: "went"}[r.DryRun]
	if r.DryRun {
		fmt.Fprintf(c.stdout, "dry run at %s: nothing is changed\n", day(r.At))
	} else {
		fmt.Fprintf(c.stdout, "retention run at %s\n", day(r.At))
	}
	fmt.Fprintf(c.stdout, "policy: records and audit entries kept %d months, PDFs %d days\n", r.Policy.RecordsMonths, r.Policy.PDFDays)
	fmt.Fprintf(c.stdout, "PDFs deleted: %d %s (issued before %s; records and document hashes kept)\n", r.PDFs, verb, day(r.PDFCutoff))
	fmt.Fprintf(c.stdout, "records purged: %d %s (issued before %s)\n", r.Records, verb, day(r.RecordsCutoff))
	fmt.Fprintf(c.stdout, "audit entries pruned: %d %s", r.Entries, verb)
	if !r.Pruned.IsZero() {
		fmt.Fprintf(c.stdout, " (the chain starts after entry %d, anchored at %s)", r.Pruned.Through.Seq, r.Pruned.At)
	}
	fmt.Fprintln(c.stdout)
	if r.HeldEntries > 0 {
		fmt.Fprintf(c.stdout, "audit entries past the period kept: %d, because %s\n", r.HeldEntries, r.EntriesHeldWhy)
	}
	if r.HasOldRecord {
		fmt.Fprintf(c.stdout, "oldest record kept: issued %s\n", day(r.OldestRecord))
	} else {
		fmt.Fprintln(c.stdout, "oldest record kept: none")
	}
	if !r.DryRun {
		var e struct {
			seq uint64
			at  time.Time
			ok  bool
		}
		_ = h.stores.View(context.Background(), func(tx store.Tx) error {
			en, ok, err := tx.Audit().Oldest()
			e.seq, e.at, e.ok = en.Seq, en.Time, ok
			return err
		})
		if e.ok {
			fmt.Fprintf(c.stdout, "oldest audit entry kept: %d, recorded %s\n", e.seq, day(e.at))
		}
	}
	fmt.Fprintln(c.stdout, "the protocol register is kept whole: it is the comune's register of documents, under its own archival rules")
}
