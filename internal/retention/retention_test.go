package retention

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
)

// The hub's clock, injected: every test runs at a fixed instant.
var now = time.Date(2030, 1, 6, 10, 0, 0, 0, time.UTC)

// certs is an in-memory Certificates: one certificate per issue time, with
// or without its PDF.
type certs struct {
	issued  []time.Time
	pdf     []bool
	gone    []bool
	batches []int // what each change removed, in order
}

func newCerts(issued ...time.Time) *certs {
	c := &certs{issued: issued}
	for range issued {
		c.pdf = append(c.pdf, true)
		c.gone = append(c.gone, false)
	}
	return c
}

func (c *certs) count(cutoff time.Time, pdf bool) int {
	n := 0
	for i, t := range c.issued {
		if !c.gone[i] && t.Before(cutoff) && (!pdf || c.pdf[i]) {
			n++
		}
	}
	return n
}

func (c *certs) remove(cutoff time.Time, limit int, pdf bool) int {
	n := 0
	for i, t := range c.issued {
		if n < limit && !c.gone[i] && t.Before(cutoff) && (!pdf || c.pdf[i]) {
			if pdf {
				c.pdf[i] = false
			} else {
				c.gone[i], c.pdf[i] = true, false
			}
			n++
		}
	}
	c.batches = append(c.batches, n)
	return n
}

func (c *certs) ExpiredPDFs(cutoff time.Time) (int, error)    { return c.count(cutoff, true), nil }
func (c *certs) ExpiredRecords(cutoff time.Time) (int, error) { return c.count(cutoff, false), nil }
func (c *certs) DeletePDFs(cutoff, _ time.Time, limit int) (int, error) {
	return c.remove(cutoff, limit, true), nil
}
func (c *certs) PurgeRecords(cutoff, _ time.Time, limit int) (int, error) {
	return c.remove(cutoff, limit, false), nil
}
func (c *certs) OldestIssued(since time.Time) (time.Time, bool, error) {
	for i, t := range c.issued {
		if !c.gone[i] && !t.Before(since) {
			return t, true, nil
		}
	}
	return time.Time{}, false, nil
}

// log is an in-memory AuditLog: entry i+1 recorded at times[i].
type log struct {
	times   []time.Time
	pruned  audit.Pruned
	batches []int
	record  []audit.Entry
	order   *[]string
}

func head(seq uint64) audit.Head { return audit.Head{Seq: seq, Hash: audit.Hash{byte(seq)}} }

func (l *log) Expired(cutoff time.Time) (int, audit.Head, error) {
	n, last := 0, audit.Head{}
	for seq := l.pruned.Through.Seq + 1; seq <= uint64(len(l.times)) && l.times[seq-1].Before(cutoff); seq++ {
		n, last = n+1, head(seq)
	}
	return n, last, nil
}
func (l *log) Pruned() (audit.Pruned, error) { return l.pruned, nil }
func (l *log) Prune(at audit.Head, limit int) (int, bool, error) {
	*l.order = append(*l.order, "prune")
	from := l.pruned.Through.Seq
	to := min(at.Seq, from+uint64(limit))
	l.pruned = audit.Pruned{Through: head(to), At: at}
	l.batches = append(l.batches, int(to-from))
	return int(to - from), to == at.Seq, nil
}

// anchors are signed at given times for given entries.
type anchors map[uint64]time.Time

func (a anchors) Before(max uint64, cutoff time.Time) (audit.SignedHead, bool, error) {
	var best audit.SignedHead
	for seq, t := range a {
		if seq <= max && t.Before(cutoff) && seq > best.Seq {
			best = audit.SignedHead{Head: head(seq), Time: t}
		}
	}
	return best, best.Seq > 0, nil
}

// rig is a hub 37 months into its life: certificates issued 40 and 38
// months ago, 2 months ago and yesterday; audit entries 1–6 at those
// times and more, anchored as the hub anchors (each at its own time).
func rig() (*Job, *certs, *log, *[]string) {
	ago := func(months, days int) time.Time { return now.AddDate(0, -months, -days) }
	c := newCerts(ago(40, 0), ago(38, 0), ago(2, 0), ago(0, 1))
	order := &[]string{}
	l := &log{times: []time.Time{ago(40, 0), ago(39, 0), ago(38, 0), ago(37, 0), ago(2, 0), ago(0, 1)}, order: order}
	a := anchors{1: ago(40, 0), 2: ago(39, 0), 4: ago(37, 0), 5: ago(2, 0), 6: ago(0, 1)}
	j := &Job{Certs: c, Audit: l, Anchors: a, Batch: 2, Record: func(_ context.Context, e audit.Entry) error {
		*order = append(*order, "record")
		l.record = append(l.record, e)
		return nil
	}}
	return j, c, l, order
}

// A run at the injected clock removes what is past each period, in batches
// of the Job's size, records its own entry before removing anything, and
// prunes the log up to the last anchored entry before the cutoff.
func TestRun(t *testing.T) {
	j, c, l, order := rig()
	r, err := j.Run(context.Background(), Policy{}, now, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.PDFs != 3 || r.Records != 2 || r.Entries != 4 || r.Pruned.Through.Seq != 4 || r.HeldEntries != 0 {
		t.Errorf("report %+v", r)
	}
	// 3 PDFs in twos until a batch finds none, then 2 records.
	if fmt.Sprint(c.batches) != "[2 1 0 2 0]" || fmt.Sprint(l.batches) != "[2 2]" {
		t.Errorf("batches: certificates %v, audit %v", c.batches, l.batches)
	}
	for _, b := range append(append([]int{}, c.batches...), l.batches...) {
		if b > 2 {
			t.Errorf("a batch of %d, beyond the Job's 2: %v %v", b, c.batches, l.batches)
		}
	}
	if c.gone[0] != true || c.gone[1] != true || c.gone[2] || c.pdf[2] || !c.pdf[3] {
		t.Errorf("after: gone %v, pdf %v", c.gone, c.pdf)
	}
	if len(*order) == 0 || (*order)[0] != "record" || len(l.record) != 1 {
		t.Fatalf("the run's entry is not recorded first: %v", *order)
	}
	e := l.record[0]
	if e.Actor != Actor || e.Subject != "-" || !e.Time.Equal(now) || !strings.Contains(e.Data, "retention run: 3 PDF, 2 registrazioni di rilascio, 4 voci") {
		t.Errorf("entry %+v", e)
	}
	if !r.HasOldRecord || !r.OldestRecord.Equal(now.AddDate(0, -2, 0)) {
		t.Errorf("oldest kept %v", r.OldestRecord)
	}
	// A second run at the same clock finds nothing and records nothing.
	r, err = j.Run(context.Background(), Policy{}, now, false)
	if err != nil || r.PDFs+r.Records+r.Entries != 0 || len(l.record) != 1 {
		t.Errorf("second run: %+v, %v, %d entries recorded", r, err, len(l.record))
	}
}

// A dry run reports the same counts and changes nothing.
func TestDryRun(t *testing.T) {
	j, c, l, order := rig()
	r, err := j.Run(context.Background(), Policy{}, now, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.PDFs != 3 || r.Records != 2 || r.Entries != 4 || r.Pruned.Through.Seq != 4 || !r.DryRun {
		t.Errorf("report %+v", r)
	}
	if len(*order) != 0 || len(c.batches) != 0 || !l.pruned.IsZero() || c.count(now, true) != 4 {
		t.Errorf("a dry run changed something: %v %v %+v", *order, c.batches, l.pruned)
	}
}

// Entries past the period stay when no anchor was signed for them before
// the cutoff: entry 3 is 38 months old but the last anchor before the
// cutoff is entry 2's... and with no anchors at all nothing is pruned.
func TestAuditEntriesWaitForAnAnchor(t *testing.T) {
	j, _, l, _ := rig()
	j.Anchors = anchors{2: now.AddDate(0, -39, 0), 5: now.AddDate(0, -2, 0)}
	r, err := j.Run(context.Background(), Policy{}, now, false)
	if err != nil || r.Entries != 2 || l.pruned.Through.Seq != 2 || r.HeldEntries != 2 || !strings.Contains(r.EntriesHeldWhy, "after entry 2") {
		t.Errorf("report %+v, %v; pruned %+v", r, err, l.pruned)
	}
	j, _, l, _ = rig()
	j.Anchors = nil
	r, err = j.Run(context.Background(), Policy{}, now, false)
	if err != nil || r.Entries != 0 || !l.pruned.IsZero() || r.HeldEntries != 4 || r.Records != 2 {
		t.Errorf("without anchors: %+v, %v", r, err)
	}
}

// A longer period keeps more: at 39 months only the 40-month-old
// certificate and entry 1 go (entry 2 is exactly 39 months old), and with
// a 90-day window the 2-month-old PDF stays.
func TestLongerPeriod(t *testing.T) {
	j, c, l, _ := rig()
	r, err := j.Run(context.Background(), Policy{RecordsMonths: 39, PDFDays: 90}, now, false)
	if err != nil || r.Records != 1 || r.Entries != 1 || r.PDFs != 2 || l.pruned.Through.Seq != 1 {
		t.Errorf("report %+v, %v", r, err)
	}
	if !c.gone[0] || c.gone[1] || c.pdf[1] || !c.pdf[2] || !c.pdf[3] {
		t.Errorf("after: gone %v, pdf %v", c.gone, c.pdf)
	}
}

// A run that only deletes PDFs is not recorded in the log of reads: the
// records note the deletion themselves.
func TestPDFOnlyRunIsNotRecorded(t *testing.T) {
	j, c, l, order := rig()
	r, err := j.Run(context.Background(), Policy{}, now.AddDate(0, -37, 5), false)
	if err != nil || r.PDFs != 2 || r.Records+r.Entries != 0 || len(l.record) != 0 || c.pdf[0] || c.pdf[1] || !c.pdf[2] {
		t.Errorf("report %+v, %v; recorded %v, order %v", r, err, l.record, *order)
	}
}

// A run that cannot record itself removes nothing.
func TestUnrecordedRunRemovesNothing(t *testing.T) {
	j, c, l, _ := rig()
	j.Record = func(context.Context, audit.Entry) error { return errors.New("disk full") }
	if _, err := j.Run(context.Background(), Policy{}, now, false); err == nil || !strings.Contains(err.Error(), "nothing was removed") {
		t.Errorf("run: %v", err)
	}
	if len(c.batches) != 0 || !l.pruned.IsZero() {
		t.Errorf("removed anyway: %v %+v", c.batches, l.pruned)
	}
}

func TestPolicy(t *testing.T) {
	if got := (Policy{}).Effective(); got != (Policy{RecordsMonths: 36, PDFDays: 30}) {
		t.Errorf("defaults %+v", got)
	}
	for _, p := range []Policy{{RecordsMonths: 35, PDFDays: 30}, {RecordsMonths: 121, PDFDays: 30}, {RecordsMonths: 36, PDFDays: -1}, {RecordsMonths: 36, PDFDays: 367}} {
		if err := p.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", p, err)
		}
	}
	if _, err := (&Job{}).Run(context.Background(), Policy{RecordsMonths: 12}, now, true); !errors.Is(err, ErrInvalid) {
		t.Errorf("a run under 36 months: %v", err)
	}
	rec, pdf := (Policy{RecordsMonths: 36, PDFDays: 30}).Cutoffs(now)
	if !rec.Equal(time.Date(2027, 1, 6, 10, 0, 0, 0, time.UTC)) || !pdf.Equal(time.Date(2029, 12, 7, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("cutoffs %v %v", rec, pdf)
	}
}
