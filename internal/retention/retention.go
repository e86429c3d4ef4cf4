// Package retention decides what the hub stops keeping, and when.
//
// The model is Poste Italiane's Polis, which the law accepts for
// certificates issued outside the registry office (DM Interno 3 novembre
// 2021; DL 50/2022 art. 38; Garante, parere n. 493 del 26 ottobre 2023):
// every issuance is recorded, with who asked and who served, and kept 36
// months; then the record and the log of the reads go (GDPR art. 5.1.e,
// storage limitation). So:
//
//   - an issued PDF is kept for re-download for a short window (default 30
//     days), then deleted; the record, with the document's SHA-256, stays,
//     so /v/{id} still verifies the paper;
//   - the record of an issuance is purged after the records period (default
//     36 months, never less), keeping only the certificate's id and the day
//     it was issued (certificate.Purged: no personal data), so /v/{id}
//     answers "issued here on that day, details no longer held";
//   - the audit entries older than the same period are pruned from the
//     start of the hash chain, at a point a signed anchor recorded, so
//     hub audit verify still proves that nothing kept was changed
//     (audit.Pruned).
//
// The protocol register is not purged: it is the comune's register of the
// documents it issued (DPR 445/2000 art. 53–57), kept under the archival
// rules for registers (DPR 445/2000 art. 67–69, the comune's conservation
// plan), not a log of reads.
//
// The package knows nothing of storage: it owns the interfaces it needs
// (Certificates, AuditLog, Anchors); certbolt, auditbolt and anchorlog
// implement them.
package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/audit"
)

// Retention periods: the defaults, and the bounds a city may set.
const (
	DefaultRecordsMonths = 36
	// MinRecordsMonths is the Polis model's 36 months: a city may keep
	// records longer, not shorter (and audit verification refuses a chain
	// pruned sooner).
	MinRecordsMonths = audit.MinRetentionMonths
	// MaxRecordsMonths: ten years is the longest a register-like record
	// is kept; beyond it a setting is a typing error, not a policy.
	MaxRecordsMonths = 120
	DefaultPDFDays   = 30
	MaxPDFDays       = 366
)

// ErrInvalid is wrapped by the errors of bad settings.
var ErrInvalid = errors.New("invalid retention setting")

// Policy is how long the hub keeps what it issued. Zero fields are unset
// (Effective fills them with the defaults).
type Policy struct {
	// RecordsMonths is how long issuance records and their audit
	// entries are kept.
	RecordsMonths int `json:"records_months,omitempty"`
	// PDFDays is how long an issued PDF is kept for re-download.
	PDFDays int `json:"pdf_days,omitempty"`
}

// Defaults is the policy of a hub given no settings.
var Defaults = Policy{RecordsMonths: DefaultRecordsMonths, PDFDays: DefaultPDFDays}

// Or is p with its unset fields taken from d.
func (p Policy) Or(d Policy) Policy {
	if p.RecordsMonths == 0 {
		p.RecordsMonths = d.RecordsMonths
	}
	if p.PDFDays == 0 {
		p.PDFDays = d.PDFDays
	}
	return p
}

// Effective is p with its unset fields taken from Defaults.
func (p Policy) Effective() Policy { return p.Or(Defaults) }

// Validate checks a policy as it will be in force.
func (p Policy) Validate() error {
	switch {
	case p.RecordsMonths < MinRecordsMonths || p.RecordsMonths > MaxRecordsMonths:
		return fmt.Errorf("%w: issuance records are kept between %d and %d months (the law's model keeps them %d), not %d",
			ErrInvalid, MinRecordsMonths, MaxRecordsMonths, MinRecordsMonths, p.RecordsMonths)
	case p.PDFDays < 1 || p.PDFDays > MaxPDFDays:
		return fmt.Errorf("%w: issued PDFs are kept for re-download between 1 and %d days, not %d", ErrInvalid, MaxPDFDays, p.PDFDays)
	}
	return nil
}

// Cutoffs are the instants before which, at now, records and PDFs go.
func (p Policy) Cutoffs(now time.Time) (records, pdfs time.Time) {
	return now.AddDate(0, -p.RecordsMonths, 0), now.AddDate(0, 0, -p.PDFDays)
}

// Certificates is what retention needs of the certificate store. Each
// call that changes something is one bounded transaction.
type Certificates interface {
	// ExpiredPDFs counts the PDFs still kept of certificates issued
	// before cutoff.
	ExpiredPDFs(cutoff time.Time) (int, error)
	// DeletePDFs deletes at most limit of them, keeping the record and
	// noting on it when (at); it returns how many went, 0 once none is
	// left.
	DeletePDFs(cutoff, at time.Time, limit int) (int, error)
	// ExpiredRecords counts the records of certificates issued before
	// cutoff.
	ExpiredRecords(cutoff time.Time) (int, error)
	// PurgeRecords purges at most limit of them at instant at, keeping a
	// certificate.Purged of each; it returns how many went, 0 once none
	// is left.
	PurgeRecords(cutoff, at time.Time, limit int) (int, error)
	// OldestIssued is when the oldest certificate issued at or after
	// since was issued; false when there is none.
	OldestIssued(since time.Time) (time.Time, bool, error)
}

// OrphanSweeper is implemented by Certificates whose PDFs live outside
// the records' transactions (a blob store): a PDF is kept before the
// transaction that records its certificate, so one whose transaction then
// failed is named by no record. DeleteOrphans deletes the documents
// written before before that no record names, and returns how many.
type OrphanSweeper interface {
	DeleteOrphans(ctx context.Context, before time.Time) (int, error)
}

// OrphanAge is how old a document no record names must be before a run
// deletes it: longer than any issuance takes between keeping its PDF and
// committing, so a document about to be named stays.
const OrphanAge = time.Hour

// AuditLog is what retention needs of the audit log.
type AuditLog interface {
	// Expired is the run of entries recorded before cutoff at the start
	// of the kept chain: how many, and the last of them.
	Expired(cutoff time.Time) (int, audit.Head, error)
	// Pruned is the retention checkpoint.
	Pruned() (audit.Pruned, error)
	// Prune removes at most limit entries from the start, none beyond
	// at, checking the chain as it goes; done once the chain starts
	// after at.
	Prune(at audit.Head, limit int) (removed int, done bool, err error)
}

// Anchors are the chain's signed anchors kept outside the store.
type Anchors interface {
	// Before returns the anchor with the highest entry number at most
	// max among those signed before cutoff; false when there is none.
	Before(max uint64, cutoff time.Time) (audit.SignedHead, bool, error)
}

// Batch is how many PDFs, records or audit entries one transaction
// removes by default: small enough that a large hub never holds a long
// write transaction (issuances wait behind it), large enough that a
// first run over years of data ends in minutes.
const Batch = 500

// Job runs retention.
type Job struct {
	Certs   Certificates
	Audit   AuditLog
	Anchors Anchors // nil: no anchors, so no audit entry is pruned
	// Record appends the run's own audit entry (nil: not recorded, for a
	// dry run).
	Record func(context.Context, audit.Entry) error
	// Batch bounds each transaction; 0 is Batch.
	Batch int
}

// Report is what a run removed, or in a dry run would remove.
type Report struct {
	At     time.Time
	DryRun bool
	Policy Policy
	// RecordsCutoff and PDFCutoff: what was issued or recorded before
	// them goes.
	RecordsCutoff, PDFCutoff time.Time
	PDFs, Records, Entries   int
	// Orphans is how many documents no record named the run deleted
	// (OrphanSweeper; not counted in a dry run).
	Orphans int
	// Pruned is the audit chain's retention checkpoint after the run (in
	// a dry run: as it would be).
	Pruned audit.Pruned
	// OldestRecord is when the oldest record kept was issued (ok false:
	// none is kept).
	OldestRecord   time.Time
	HasOldRecord   bool
	EntriesHeldWhy string // why expired audit entries stay, when some do
	HeldEntries    int    // how many expired entries stay for that reason
}

// Actor is the audit actor of retention runs.
var Actor = audit.Actor{Kind: audit.System, ID: "retention"}

// Run applies policy at now: PDFs past their window, records past the
// records period, and the audit entries past it, from the start of the
// chain up to the latest point a signed anchor recorded before the
// cutoff. A real run that purges records or prunes the log first records
// its own audit entry ("retention run"), whose anchor is the hub's signed
// clock reading that verification later checks the pruning against. Everything is removed in batches of Batch.
func (j *Job) Run(ctx context.Context, policy Policy, now time.Time, dryRun bool) (Report, error) {
	policy = policy.Effective()
	if err := policy.Validate(); err != nil {
		return Report{}, err
	}
	r := Report{At: now, DryRun: dryRun, Policy: policy}
	r.RecordsCutoff, r.PDFCutoff = policy.Cutoffs(now)
	batch := j.Batch
	if batch <= 0 {
		batch = Batch
	}
	var err error
	if r.PDFs, err = j.Certs.ExpiredPDFs(r.PDFCutoff); err != nil {
		return r, err
	}
	if r.Records, err = j.Certs.ExpiredRecords(r.RecordsCutoff); err != nil {
		return r, err
	}
	target, err := j.plan(&r)
	if err != nil {
		return r, err
	}
	if dryRun {
		r.OldestRecord, r.HasOldRecord, err = j.Certs.OldestIssued(r.RecordsCutoff)
		return r, err
	}
	if sw, ok := j.Certs.(OrphanSweeper); ok {
		// Deleting a document no record names reads nobody's data: it
		// is not recorded in the audit log.
		if r.Orphans, err = sw.DeleteOrphans(ctx, now.Add(-OrphanAge)); err != nil {
			return r, fmt.Errorf("after deleting %d documents no certificate names: %w", r.Orphans, err)
		}
	}
	if r.PDFs+r.Records+r.Entries == 0 {
		r.OldestRecord, r.HasOldRecord, err = j.Certs.OldestIssued(r.RecordsCutoff)
		return r, err
	}
	// The run is recorded when it purges records or prunes the log: its
	// entry, and that entry's signed anchor, are what shows later when and
	// by what clock the log lost its start. A run that only deletes PDFs
	// reads and removes no record (each notes its PDF's deletion itself),
	// so it is logged, not recorded: a daily job would otherwise add an
	// entry to the log of reads of personal data most days.
	if j.Record != nil && r.Records+r.Entries > 0 {
		if err := j.Record(ctx, r.entry()); err != nil {
			return r, fmt.Errorf("the retention run cannot be recorded in the audit log, so nothing was removed: %w", err)
		}
	}
	// A record purged goes with its PDF, so PDFs first: the counts then
	// say what each step removed.
	pdfs, err := drain(ctx, func() (int, error) { return j.Certs.DeletePDFs(r.PDFCutoff, now, batch) })
	r.PDFs = pdfs
	if err != nil {
		return r, fmt.Errorf("after deleting %d PDFs: %w", pdfs, err)
	}
	recs, err := drain(ctx, func() (int, error) { return j.Certs.PurgeRecords(r.RecordsCutoff, now, batch) })
	r.Records = recs
	if err != nil {
		return r, fmt.Errorf("after purging %d records: %w", recs, err)
	}
	if target.Seq > 0 {
		before, err := j.Audit.Pruned()
		if err != nil {
			return r, err
		}
		for {
			if err := ctx.Err(); err != nil {
				return r, err
			}
			_, done, err := j.Audit.Prune(target, batch)
			if err != nil {
				return r, fmt.Errorf("after purging %d records: %w", recs, err)
			}
			if done {
				break
			}
		}
		if r.Pruned, err = j.Audit.Pruned(); err != nil {
			return r, err
		}
		r.Entries = int(r.Pruned.Through.Seq - before.Through.Seq)
	}
	r.OldestRecord, r.HasOldRecord, err = j.Certs.OldestIssued(r.RecordsCutoff)
	return r, err
}

// plan finds how far the audit chain may be pruned: the latest point a
// signed anchor recorded before the cutoff, within the run of expired
// entries at the start of the chain. It fills r's audit fields as the run
// would leave them and returns the point (zero: nothing to prune).
func (j *Job) plan(r *Report) (audit.Head, error) {
	cur, err := j.Audit.Pruned()
	if err != nil {
		return audit.Head{}, err
	}
	r.Pruned = cur
	n, last, err := j.Audit.Expired(r.RecordsCutoff)
	if err != nil || n == 0 {
		return audit.Head{}, err
	}
	if j.Anchors == nil {
		r.HeldEntries, r.EntriesHeldWhy = n, "the hub keeps no signed anchors, and without one pruning could hide a rewrite"
		return audit.Head{}, nil
	}
	a, ok, err := j.Anchors.Before(last.Seq, r.RecordsCutoff)
	if err != nil {
		return audit.Head{}, err
	}
	if !ok || a.Seq <= cur.Through.Seq {
		r.HeldEntries, r.EntriesHeldWhy = n, "no signed anchor was written for them before the cutoff, and without one pruning could hide a rewrite"
		return audit.Head{}, nil
	}
	if held := int(last.Seq - a.Seq); held > 0 {
		r.HeldEntries, r.EntriesHeldWhy = held, fmt.Sprintf("they come after entry %d, the last one anchored before the cutoff", a.Seq)
	}
	// In a dry run this is the checkpoint the run would leave; an
	// earlier point decided further (before the city lengthened its
	// period) stays the checkpoint's At.
	r.Entries = int(a.Seq - cur.Through.Seq)
	r.Pruned = audit.Pruned{Through: a.Head, At: a.Head}
	if cur.At.Seq > a.Seq {
		r.Pruned.At = cur.At
	}
	return a.Head, nil
}

// entry is the run's own audit entry: no person's data is read, so the
// subject is "-", as for the protocol register's recovery.
func (r *Report) entry() audit.Entry {
	return audit.Entry{
		Time: r.At, Actor: Actor, Subject: "-", Channel: "retention",
		Purpose: fmt.Sprintf("conservazione: cancellazione dei dati oltre i termini (art. 5.1.e GDPR; %d mesi per le registrazioni, %d giorni per i PDF)",
			r.Policy.RecordsMonths, r.Policy.PDFDays),
		Data: fmt.Sprintf("retention run: %d PDF, %d registrazioni di rilascio, %d voci del registro degli accessi (nessun dato personale letto)",
			r.PDFs, r.Records, r.Entries),
	}
}

// drain calls step until it removes nothing, and returns the total.
func drain(ctx context.Context, step func() (int, error)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := step()
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}
