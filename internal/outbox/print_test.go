package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"go.etcd.io/bbolt"
)

// jobsFor is a Deliverer that answers like the hub and hands back the
// documents to print with the answer, as the kiosk's does.
func jobsFor(h *fakeHub, jobs ...Job) Deliverer {
	return DelivererFunc(func(ctx context.Context, e Entry) (Result, error) {
		res, err := h.Deliver(ctx, e)
		if err != nil {
			return res, err
		}
		res.Jobs = jobs
		return res, nil
	})
}

// TestDeliverSpoolsJobsInTheSameCommit: an operation sent at once by its
// caller is delivered with its print jobs in the spool, sealed at rest; a
// job leaves only when deleted, and its bytes are scrubbed from the file.
func TestDeliverSpoolsJobsInTheSameCommit(t *testing.T) {
	ctx := context.Background()
	o, path := openTest(t, Options{Key: testKey})
	h := newFakeHub()
	cert := append([]byte("%PDF-1.7 ROSSI MARIO RSSMRA80A01F205X "), bytes.Repeat([]byte("certificato "), 40)...)
	rcpt := []byte("\x1b@RICEVUTA 2026/0000001 ROSSI")
	e := mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "k-now", Payload: []byte(`{"cf":"RSSMRA80A01F205X"}`), PersonalData: true, AmountCents: 1852, Now: true})
	out, err := o.Deliver(ctx, e.ID, jobsFor(h, Job{ID: "a4-1", Data: cert}, Job{ID: "rc-1", Data: rcpt}))
	if err != nil || out.Entry.State != Delivered || out.Result.Ref != "CERT-0001" {
		t.Fatalf("Deliver = %+v, %v; want delivered as CERT-0001", out, err)
	}
	jobs, err := o.Jobs()
	if err != nil || len(jobs) != 2 || jobs[0].ID != "a4-1" || !bytes.Equal(jobs[0].Data, cert) || jobs[1].ID != "rc-1" || !bytes.Equal(jobs[1].Data, rcpt) {
		t.Fatalf("the spool after delivery: %d jobs %v", len(jobs), err)
	}
	if st, _ := o.Stats(); st.Pending != 0 {
		t.Errorf("%d operations still pending", st.Pending)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("ROSSI")) {
		t.Error("a print job is readable in the outbox file")
	}
	// Replacing a job (a failed attempt recorded) keeps its place.
	if err := o.PutJob(Job{ID: "a4-1", Data: append(cert, '!')}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := o.Jobs(); len(jobs) != 2 || jobs[0].ID != "a4-1" || jobs[0].Data[len(jobs[0].Data)-1] != '!' {
		t.Errorf("after PutJob the spool is %v", jobs)
	}
	for _, id := range []string{"a4-1", "rc-1"} {
		if err := o.DeleteJob(id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.Job("a4-1"); !errors.Is(err, ErrNoJob) {
		t.Errorf("a printed job is still there: %v", err)
	}
	if err := o.DeleteJob("a4-1"); !errors.Is(err, ErrNoJob) {
		t.Errorf("deleting it twice: %v", err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	o2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if jobs, err := o2.Jobs(); err != nil || len(jobs) != 0 {
		t.Errorf("after reopening: %v %v", jobs, err)
	}
}

// TestDeliverFailureSpoolsNothing: a delivery whose answer cannot be
// committed with its jobs leaves the operation pending and the spool empty,
// so the next attempt (same key, same answer) spools them once.
func TestDeliverFailureSpoolsNothing(t *testing.T) {
	ctx := context.Background()
	o, _ := openTest(t, Options{Key: testKey})
	h := newFakeHub()
	e := mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "k-1", Payload: []byte("x"), Now: true})
	// A job the spool cannot take fails the whole commit.
	if _, err := o.Deliver(ctx, e.ID, jobsFor(h, Job{ID: "ok", Data: []byte("a")}, Job{ID: "", Data: []byte("b")})); err == nil {
		t.Fatal("a delivery with a job without id committed")
	}
	if jobs, _ := o.Jobs(); len(jobs) != 0 {
		t.Fatalf("a failed commit left %d jobs in the spool", len(jobs))
	}
	if got, _ := o.LookupKey("k-1"); got.State != Pending {
		t.Fatalf("after a failed commit the operation is %s", got.State)
	}
	out, err := o.Deliver(ctx, e.ID, jobsFor(h, Job{ID: "ok", Data: []byte("a")}))
	if err != nil || out.Entry.State != Delivered || len(h.effects) != 1 {
		t.Fatalf("second delivery %+v %v, %d effects at the hub", out, err, len(h.effects))
	}
	if jobs, _ := o.Jobs(); len(jobs) != 1 {
		t.Errorf("the spool holds %d jobs, want 1", len(jobs))
	}
	// Delivering it again finds it delivered and spools nothing more.
	again, err := o.Deliver(ctx, e.ID, jobsFor(h, Job{ID: "other", Data: []byte("c")}))
	if err != nil || again.Entry.State != Delivered || h.deliveries != 2 {
		t.Errorf("a delivered operation delivered again: %+v %v (%d deliveries)", again, err, h.deliveries)
	}
	if jobs, _ := o.Jobs(); len(jobs) != 1 {
		t.Errorf("the spool holds %d jobs, want 1", len(jobs))
	}
}

// TestNowIsHeldFromTheSender: an operation written to be sent at once is
// not sent by the Sender meanwhile (the hub would see it twice); if its
// delivery fails it waits in the queue like any other, and the Sender
// delivers it under the same key.
func TestNowIsHeldFromTheSender(t *testing.T) {
	ctx := context.Background()
	o, _ := openTest(t, Options{Key: testKey})
	h := newFakeHub()
	s := o.NewSender(h, SenderOptions{})
	e := mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "k-1", Payload: []byte("x"), Now: true})
	if n, err := s.Drain(ctx); n != 0 || err != nil || h.deliveries != 0 {
		t.Fatalf("the Sender sent a held operation: %d, %v, %d deliveries", n, err, h.deliveries)
	}
	offline := errors.New("the hub cannot be reached")
	h.fail = func(Entry, int) error { return offline }
	out, err := o.Deliver(ctx, e.ID, h)
	if !errors.Is(err, offline) || out.Entry.State != Pending || out.Entry.Attempts != 1 {
		t.Fatalf("a failed Deliver = %+v, %v", out, err)
	}
	h.fail = nil
	if n, err := s.Drain(ctx); n != 1 || err != nil || len(h.effects) != 1 {
		t.Fatalf("the Sender after the failed Deliver: %d, %v, %d effects", n, err, len(h.effects))
	}
	if got, _ := o.LookupKey("k-1"); got.State != Delivered {
		t.Errorf("k-1 is %s", got.State)
	}
}

// TestOnlineSkipsOfflineLimits: the offline limits refuse an operation
// while the queue is full, unless the hub answered just before.
func TestOnlineSkipsOfflineLimits(t *testing.T) {
	ctx := context.Background()
	o, _ := openTest(t, Options{Key: testKey, MaxCount: 1})
	mustEnqueue(t, o, Op{Kind: "k", IdempotencyKey: "a", Payload: []byte("x")})
	if _, err := o.Enqueue(ctx, Op{Kind: "k", IdempotencyKey: "b", Payload: []byte("y")}); !errors.Is(err, ErrLimit) {
		t.Fatalf("a second operation offline: %v, want the count limit", err)
	}
	if _, err := o.Enqueue(ctx, Op{Kind: "k", IdempotencyKey: "b", Payload: []byte("y"), Online: true, Now: true}); err != nil {
		t.Fatalf("an operation written with the hub online: %v", err)
	}
}

// TestJobsNeedAKey: without an outbox key nothing with personal data is
// stored, print jobs included.
func TestJobsNeedAKey(t *testing.T) {
	o, _ := openTest(t, Options{})
	if err := o.PutJob(Job{ID: "a", Data: []byte("%PDF")}); err == nil {
		t.Error("a print job was stored without an outbox key")
	}
}

// TestJobsBoundToTheirID: someone with write access to the file but not the
// key swaps two sealed jobs, or moves an operation's sealed payload in as a
// job: neither opens, so the kiosk never prints one citizen's certificate
// under another's name or a request as a document.
func TestJobsBoundToTheirID(t *testing.T) {
	o, path := openTest(t, Options{Key: testKey})
	for _, j := range []Job{{ID: "a", Data: []byte("%PDF ROSSI")}, {ID: "b", Data: []byte("%PDF BIANCHI")}} {
		if err := o.PutJob(j); err != nil {
			t.Fatal(err)
		}
	}
	e := mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "k", Payload: []byte(`{"cf":"X"}`), PersonalData: true})
	o.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		jobs := tx.Bucket(bJobs)
		a, b := bytes.Clone(jobs.Get([]byte("a"))), bytes.Clone(jobs.Get([]byte("b")))
		payload := bytes.Clone(tx.Bucket(bPayload).Get(idKey(e.ID)))
		forged, _ := json.Marshal(sealedJob{Seq: 99, Data: payload})
		return errors.Join(jobs.Put([]byte("a"), b), jobs.Put([]byte("b"), a), jobs.Put([]byte("c"), forged))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	o2, err := Open(path, Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	for _, id := range []string{"a", "b", "c"} {
		if j, err := o2.Job(id); err == nil {
			t.Errorf("job %s opened as %q after the file was altered", id, j.Data)
		}
	}
	if jobs, err := o2.Jobs(); err == nil || len(jobs) != 0 {
		t.Errorf("the altered spool lists %d jobs, error %v", len(jobs), err)
	}
	// A job that still opens is not hidden by the others.
	if err := o2.PutJob(Job{ID: "d", Data: []byte("%PDF VERDI")}); err != nil {
		t.Fatal(err)
	}
	if jobs, err := o2.Jobs(); err == nil || len(jobs) != 1 || jobs[0].ID != "d" {
		t.Errorf("with three altered jobs and a good one: %v, %v", jobs, err)
	}
}
