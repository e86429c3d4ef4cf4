package printer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// Formats of job data. ESC/POS has no registered media type; this one is
// ours, and an IPP transport sends it as application/octet-stream (raw).
const (
	FormatESCPOS = "application/vnd.sportello.escpos"
	FormatPDF    = "application/pdf"
)

// Job is one document for one printer.
type Job struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`   // for the operator: "ricevuta 2026/000123"
	Format  string    `json:"format"` // FormatESCPOS or FormatPDF
	Printer string    `json:"printer"`
	Created time.Time `json:"created"`
	Data    []byte    `json:"data"`
	// Attempts and LastError record why the job is still in the spool.
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error,omitempty"`
	// Started is when a print of this spooled job began that was neither
	// confirmed nor failed: the kiosk stopped while the printer had it.
	// Such a job may be on paper already, so it is never printed again by
	// itself; it waits for the operator to look and reprint.
	Started time.Time `json:"started,omitzero"`
}

// NewJobID returns a random identifier for a job, sortable by creation time
// when prefixed with it.
func NewJobID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// Transport carries jobs to one printer and asks it for its status.
type Transport interface {
	// Send delivers the whole job; it returns when the printer (or the
	// spooler in front of it) has accepted every byte.
	Send(ctx context.Context, job Job) error
	// Status asks the printer how it is; ErrNoStatus when it cannot say.
	Status(ctx context.Context) (Status, error)
	io.Closer
}

// JobError is a job that did not print. The job is in the spool under ID.
type JobError struct {
	ID  string
	Err error
}

func (e *JobError) Error() string {
	return fmt.Sprintf("%v; the job is kept as %s for reprint", e.Err, e.ID)
}

func (e *JobError) Unwrap() error { return e.Err }

// Printer is a transport and the spool that keeps what it failed to print.
type Printer struct {
	URI       string
	Transport Transport
	Spool     Spool
	Now       func() time.Time
	// Sent, when set, is called once the printer has taken a spooled job
	// (PrintSpooled) and before the spool lets it go. It is a test hook:
	// the kiosk's crash test stops the process there.
	Sent func(Job)
}

// Print checks the printer, sends the job and checks again, because a
// thermal printer accepts bytes into its buffer and only then finds the
// paper has run out. Any failure keeps the job in the spool and returns a
// *JobError naming the condition.
func (p *Printer) Print(ctx context.Context, job Job) error {
	if job.ID == "" {
		job.ID = NewJobID(p.now())
	}
	if job.Created.IsZero() {
		job.Created = p.now()
	}
	if job.Printer == "" {
		job.Printer = p.URI
	}
	err := p.attempt(ctx, job)
	if err == nil {
		return p.forget(job)
	}
	job.Attempts++
	job.LastError = err.Error()
	if serr := p.Spool.Put(job); serr != nil {
		return fmt.Errorf("%v, and the job could not be kept for reprint: %v", err, serr)
	}
	return &JobError{ID: job.ID, Err: err}
}

// PrintSpooled prints a job the spool holds and lets it go only once the
// printer confirms it. Before the first byte goes out the job is marked
// Started in the spool, so that after a crash a job that may be on paper is
// told from one that is not: the first waits for the operator, the second
// can be printed. A failure clears the mark, records the attempt and
// returns a *JobError; the job stays in the spool.
func (p *Printer) PrintSpooled(ctx context.Context, job Job) error {
	if job.Printer == "" {
		job.Printer = p.URI
	}
	job.Started = p.now()
	if err := p.Spool.Put(job); err != nil {
		return fmt.Errorf("job %s could not be marked as printing in the spool, so it was not sent: %w", job.ID, err)
	}
	err := p.attempt(ctx, job)
	if err == nil {
		if p.Sent != nil {
			p.Sent(job)
		}
		return p.forget(job)
	}
	job.Started = time.Time{}
	job.Attempts++
	job.LastError = err.Error()
	if serr := p.Spool.Put(job); serr != nil {
		return fmt.Errorf("%v, and the attempt could not be recorded in the spool: %v", err, serr)
	}
	return &JobError{ID: job.ID, Err: err}
}

// forget removes a printed job from the spool: a reprint that succeeds
// leaves it (a first print was never in it), and so does every copy kept
// from an earlier failed attempt at the same document on the same printer,
// which the kiosk's reprint button sends as a new job. What is on paper
// must not stay on disk: jobs hold certificates with personal data.
func (p *Printer) forget(job Job) error {
	if err := p.Spool.Delete(job.ID); err != nil && !errors.Is(err, ErrNoJob) {
		return fmt.Errorf("job %s printed but could not be removed from the spool: %w", job.ID, err)
	}
	kept, err := p.Spool.List()
	if err != nil {
		// A damaged job cannot be matched anyway; the print succeeded.
		return nil
	}
	for _, k := range kept {
		if k.Printer != job.Printer || !bytes.Equal(k.Data, job.Data) {
			continue
		}
		if err := p.Spool.Delete(k.ID); err != nil && !errors.Is(err, ErrNoJob) {
			return fmt.Errorf("job %s printed but its earlier copy %s could not be removed from the spool: %w", job.ID, k.ID, err)
		}
	}
	return nil
}

func (p *Printer) attempt(ctx context.Context, job Job) error {
	if err := p.check(ctx, "before printing"); err != nil {
		return err
	}
	if err := p.Transport.Send(ctx, job); err != nil {
		return fmt.Errorf("sending to %s failed: %w", p.URI, err)
	}
	return p.check(ctx, "after printing")
}

func (p *Printer) check(ctx context.Context, when string) error {
	st, err := p.Transport.Status(ctx)
	switch {
	case errors.Is(err, ErrNoStatus):
		return nil
	case err != nil:
		return fmt.Errorf("reading the status of %s %s failed: %w", p.URI, when, err)
	}
	if serr := st.Err(); serr != nil {
		return fmt.Errorf("%w %s", serr, when)
	}
	return nil
}

// Reprint sends a spooled job again.
func (p *Printer) Reprint(ctx context.Context, id string) error {
	job, err := p.Spool.Get(id)
	if err != nil {
		return err
	}
	return p.Print(ctx, job)
}

func (p *Printer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
