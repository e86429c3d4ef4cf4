package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"
)

// Job is a document to print, kept in the outbox file from the commit that
// delivers its operation until the printer confirms it. Keeping the spool
// in the same bbolt file is what makes "delivered" and "its certificate and
// receipt are waiting to print" one commit: a crash can leave an operation
// pending (it is sent again under its key and the hub answers the same
// certificate) or delivered with every job still in the spool, never
// delivered with its paper lost.
//
// Data is opaque to the outbox (the kiosk keeps a printer.Job there). Jobs
// hold certificates, so they are sealed with the outbox key like personal
// payloads, and a job that leaves is scrubbed from the file's free pages by
// the next compaction.
type Job struct {
	ID   string
	Data []byte
}

// ErrNoJob is returned for a print job the outbox does not hold.
var ErrNoJob = errors.New("no such print job in the outbox")

// MaxJobID is the longest print job id accepted.
const MaxJobID = 255

// sealedJob is a job as stored: its data sealed, and the order it came in.
type sealedJob struct {
	Seq  uint64 `json:"seq"`
	Data []byte `json:"data"`
}

func jobAAD(id string) string { return "print job " + id }

func (o *Outbox) sealJob(j Job) (Job, error) {
	switch {
	case j.ID == "" || len(j.ID) > MaxJobID:
		return Job{}, fmt.Errorf("print job id %q is empty or longer than %d bytes", j.ID, MaxJobID)
	case len(j.Data) > MaxPayload*16:
		return Job{}, fmt.Errorf("print job %s has %d bytes, more than the spool holds", j.ID, len(j.Data))
	case o.seal == nil:
		return Job{}, errors.New("print jobs hold certificates, but the outbox has no key to encrypt them with")
	}
	// Id 0 is never an operation's, so a job's ciphertext never opens as
	// a payload, nor a payload's as a job.
	data, err := o.seal.seal(0, jobAAD(j.ID), j.Data)
	if err != nil {
		return Job{}, err
	}
	return Job{ID: j.ID, Data: data}, nil
}

func (o *Outbox) sealJobs(jobs []Job) ([]Job, error) {
	out := make([]Job, 0, len(jobs))
	for _, j := range jobs {
		s, err := o.sealJob(j)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// putJobs stores sealed jobs in tx, each after every job already there.
func putJobs(tx *bbolt.Tx, sealed []Job) error {
	b := tx.Bucket(bJobs)
	for _, j := range sealed {
		seq := uint64(0)
		if old := b.Get([]byte(j.ID)); old != nil {
			// A replaced job (a failed attempt recorded) keeps its place.
			var sj sealedJob
			if json.Unmarshal(old, &sj) == nil {
				seq = sj.Seq
			}
		}
		if seq == 0 {
			var err error
			if seq, err = b.NextSequence(); err != nil {
				return err
			}
		}
		v, err := json.Marshal(sealedJob{Seq: seq, Data: j.Data})
		if err != nil {
			return err
		}
		if err := b.Put([]byte(j.ID), v); err != nil {
			return err
		}
	}
	return nil
}

// PutJob adds a print job to the spool, or replaces the one with its id
// (to record a failed attempt, or a reprint kept after it failed).
func (o *Outbox) PutJob(j Job) error {
	s, err := o.sealJob(j)
	if err != nil {
		return err
	}
	return o.update(func(tx *bbolt.Tx) error {
		if err := putJobs(tx, []Job{s}); err != nil {
			return err
		}
		// The replaced version's pages held the certificate too.
		return markDirty(tx)
	})
}

func (o *Outbox) openJob(id string, v []byte) (Job, uint64, error) {
	var sj sealedJob
	if err := json.Unmarshal(v, &sj); err != nil {
		return Job{}, 0, fmt.Errorf("print job %s in the outbox is unreadable: %w", id, err)
	}
	if o.seal == nil {
		return Job{}, 0, errUnsealed
	}
	data, err := o.seal.open(0, jobAAD(id), sj.Data)
	if err != nil {
		return Job{}, 0, fmt.Errorf("print job %s: %w", id, err)
	}
	return Job{ID: id, Data: data}, sj.Seq, nil
}

// Job returns the print job with this id, or an error matching ErrNoJob.
func (o *Outbox) Job(id string) (Job, error) {
	var j Job
	err := o.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bJobs).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("print job %q: %w", id, ErrNoJob)
		}
		var err error
		j, _, err = o.openJob(id, v)
		return err
	})
	return j, err
}

// Jobs lists the print jobs in the spool in the order they came in. A job
// that does not open (the file was altered, or the key is not the one it
// was sealed with) does not hide the others: they are listed, and the
// error names it.
func (o *Outbox) Jobs() ([]Job, error) {
	type seqJob struct {
		seq uint64
		j   Job
	}
	var all []seqJob
	var bad []error
	err := o.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bJobs).ForEach(func(k, v []byte) error {
			j, seq, err := o.openJob(string(k), v)
			if err != nil {
				bad = append(bad, err)
				return nil
			}
			all = append(all, seqJob{seq, j})
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b seqJob) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	out := make([]Job, len(all))
	for i, s := range all {
		out[i] = s.j
	}
	return out, errors.Join(bad...)
}

// DeleteJob takes a job out of the spool: the printer confirmed it, or the
// operator gave it up.
func (o *Outbox) DeleteJob(id string) error {
	return o.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bJobs)
		if b.Get([]byte(id)) == nil {
			return fmt.Errorf("print job %q: %w", id, ErrNoJob)
		}
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
		return markDirty(tx)
	})
}

func (o *Outbox) hold(id uint64) {
	o.heldMu.Lock()
	o.held[id] = true
	o.heldMu.Unlock()
}

func (o *Outbox) release(id uint64) {
	o.heldMu.Lock()
	delete(o.held, id)
	o.heldMu.Unlock()
}

func (o *Outbox) isHeld(id uint64) bool {
	o.heldMu.Lock()
	defer o.heldMu.Unlock()
	return o.held[id]
}

// Deliver sends one pending operation now, with d, outside the queue's
// order: the kiosk does so for the citizen at the counter, with the
// operation already written (Op.Now). The outcome is committed as the
// Sender would: delivered, with its print jobs in the same commit;
// refused, to the refused list; or still pending with the failure
// recorded, for the Sender to retry under the same key (the error is then
// the delivery's). An operation no longer pending (delivered or refused
// meanwhile) is returned as it stands, with no error.
func (o *Outbox) Deliver(ctx context.Context, id uint64, d Deliverer) (Outcome, error) {
	o.hold(id)
	defer func() {
		o.release(id)
		// Operations queued behind this one may go now.
		o.wakeup()
	}()
	var e Entry
	var pending bool
	err := o.view(func(tx *bbolt.Tx) error {
		r := getRecord(tx, bPending, id)
		if r == nil {
			return nil
		}
		var err error
		e, err = o.pendingEntry(tx, r)
		pending = true
		return err
	})
	if errors.Is(err, errUnsealed) && pending {
		out, rerr := o.refused(id, &Refusal{Reason: "undecryptable", Message: err.Error()})
		return Outcome{Entry: out}, rerr
	}
	if err != nil {
		return Outcome{}, err
	}
	if !pending {
		cur, err := o.byID(id)
		return Outcome{Entry: cur}, err
	}
	res, derr := d.Deliver(ctx, e)
	derr = Classify(derr)
	if derr == nil {
		done, err := o.delivered(id, res)
		if err != nil {
			// A Sender that took the operation before it was held
			// delivered it first, and committed its own print jobs.
			if cur, cerr := o.byID(id); cerr == nil && cur.State != Pending {
				return Outcome{Entry: cur}, nil
			}
			return Outcome{}, err
		}
		return Outcome{Entry: done, Result: res}, nil
	}
	var why *Refusal
	if errors.As(derr, &why) {
		out, err := o.refused(id, why)
		return Outcome{Entry: out}, err
	}
	if ferr := o.failed(id, derr); ferr != nil {
		return Outcome{}, errors.Join(derr, ferr)
	}
	e.Payload = nil
	e.Attempts++
	e.LastError = derr.Error()
	return Outcome{Entry: e}, derr
}

// byID returns an operation in whatever state it is, without its payload.
func (o *Outbox) byID(id uint64) (Entry, error) {
	var e Entry
	err := o.view(func(tx *bbolt.Tx) error {
		var ok bool
		if e, ok = entryOf(tx, id); !ok {
			return fmt.Errorf("operation %d: %w", id, ErrNotFound)
		}
		return nil
	})
	e.Payload = nil
	return e, err
}

// PendingPayloads lists the queued operations in delivery order with their
// payloads, for a kiosk that starts again after a crash to say what it is
// finishing. An operation whose payload cannot be opened is listed without
// it.
func (o *Outbox) PendingPayloads() ([]Entry, error) { return o.list(bPending, Pending, true) }
