package hub

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/retention"
	"github.com/sportello/sportello/internal/store"
)

// RetentionEvery is how often a serving hub runs retention.
const RetentionEvery = 24 * time.Hour

// Retention is one run of the city's retention policy on a hub's store.
type Retention struct {
	Stores store.Store
	Blobs  blob.Store
	City   *city.Settings
	// Anchors are the signed anchors audit entries are pruned at; nil:
	// none is pruned (a hub without its keys has none to trust).
	Anchors retention.Anchors
	// Record appends the run's own entry through the anchoring store:
	// its signed anchor is the clock reading verification checks the
	// pruning against. Nil only for a dry run.
	Record func(context.Context, audit.Entry) error
	Now    func() time.Time
}

// Run applies the policy at r.Now (dry: says what would go).
func (r Retention) Run(ctx context.Context, dry bool) (retention.Report, error) {
	cfg, err := r.City.Current()
	if err != nil {
		return retention.Report{}, err
	}
	job := &retention.Job{Certs: store.CertificateRetention(r.Stores, r.Blobs), Audit: store.AuditLog{S: r.Stores, Ctx: ctx}, Anchors: r.Anchors}
	if !dry {
		if r.Record == nil {
			return retention.Report{}, fmt.Errorf("the retention run cannot be recorded in the audit log, so nothing was removed")
		}
		job.Record = r.Record
	}
	return job.Run(ctx, cfg.Retention, r.Now(), dry)
}

// Retention is the hub's retention run.
func (h *Hub) Retention() Retention {
	return Retention{Stores: h.cfg.Stores, Blobs: h.cfg.Blobs, City: h.City, Anchors: h.cfg.Anchors, Record: h.cfg.Audit.Record, Now: h.now}
}

// retentionDaily runs retention at start and then every RetentionEvery,
// until ctx ends; each run is logged, and recorded in the audit log by the
// run itself.
func (h *Hub) retentionDaily(ctx context.Context) {
	for {
		r, err := h.retentionOnce(ctx)
		if err != nil {
			h.log.Error("retention run", "err", err, "pdfs_deleted", r.PDFs, "records_purged", r.Records, "audit_entries_pruned", r.Entries)
		} else {
			h.log.Info("retention run", "pdfs_deleted", r.PDFs, "records_purged", r.Records, "audit_entries_pruned", r.Entries,
				"audit_held", r.HeldEntries, "records_cutoff", r.RecordsCutoff, "pdf_cutoff", r.PDFCutoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(RetentionEvery):
		}
	}
}

func (h *Hub) retentionOnce(ctx context.Context) (retention.Report, error) {
	if err := NoteClockOffset(ctx, h.cfg.ClockOffset, h.now, "hub retention run", h.cfg.Audit.Record, h.log); err != nil {
		return retention.Report{}, err
	}
	return h.Retention().Run(ctx, false)
}

// ClockOffsetEnv moves the hub's clock by a duration ("+27000h"), as
// moving the machine's clock would: tests use it to run retention and the
// daily jobs months ahead.
const ClockOffsetEnv = "SPORTELLO_CLOCK_OFFSET"

// NoteClockOffset records in the audit log, and warns in log, that command
// runs on a clock moved by offset (SPORTELLO_CLOCK_OFFSET): the chain then
// shows that the entries after it were dated, and retention decided, on
// that clock. Nothing is recorded when the clock is not moved.
func NoteClockOffset(ctx context.Context, offset time.Duration, now func() time.Time, command string, record func(context.Context, audit.Entry) error, log *slog.Logger) error {
	if offset == 0 {
		return nil
	}
	t := now()
	if log != nil {
		log.Warn("THE HUB'S CLOCK IS MOVED: every date it writes and every retention cutoff it applies follows the moved clock, not the machine's",
			"env", ClockOffsetEnv, "offset", offset.String(), "hub_now", t.UTC().Format(time.RFC3339), "machine_now", t.Add(-offset).UTC().Format(time.RFC3339), "command", command)
	}
	err := record(ctx, audit.Entry{Time: t, Actor: audit.Actor{Kind: audit.System, ID: "clock"}, Subject: "-", Data: "orologio del hub", Channel: "cli",
		Purpose: fmt.Sprintf("%s avviato con l'orologio spostato di %s (%s): ora del hub %s, ora della macchina %s",
			command, offset, ClockOffsetEnv, t.UTC().Format(time.RFC3339), t.Add(-offset).UTC().Format(time.RFC3339))})
	if err != nil {
		return fmt.Errorf("the hub's clock is moved by %s (%s) and this cannot be recorded in the audit log: %w", offset, ClockOffsetEnv, err)
	}
	return nil
}
