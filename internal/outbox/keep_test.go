package outbox

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// TestKeep: a delivery with Result.Keep keeps the operation's payload,
// sealed, beside its tombstone until Release, and only until then; the
// file stays consistent; Purge takes an uncollected one with its
// tombstone.
func TestKeep(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	o, path := openTest(t, Options{Key: testKey, Clock: clock, Retention: time.Hour})
	payload := []byte(`{"cf":"RSSMRA80A01F205X"}`)
	kept := mustEnqueue(t, o, Op{Kind: "certificate.payment", IdempotencyKey: "pay-k1", Payload: payload, PersonalData: true, AmountCents: 1652, Now: true})
	plain := mustEnqueue(t, o, Op{Kind: "certificate.request", IdempotencyKey: "k2", Payload: payload, PersonalData: true, AmountCents: 1652, Now: true})
	keep := DelivererFunc(func(context.Context, Entry) (Result, error) { return Result{Ref: `{"payment":"p1"}`, Keep: true}, nil })
	drop := DelivererFunc(func(context.Context, Entry) (Result, error) { return Result{Ref: "CERT-1"}, nil })
	if out, err := o.Deliver(ctx, kept.ID, keep); err != nil || out.Entry.State != Delivered || !out.Entry.Kept {
		t.Fatalf("kept delivery: %+v, %v", out.Entry, err)
	}
	if out, err := o.Deliver(ctx, plain.ID, drop); err != nil || out.Entry.Kept {
		t.Fatalf("plain delivery: %+v, %v", out.Entry, err)
	}
	if e, err := o.Lookup(kept.ClaimCode); err != nil || !e.Kept || e.Payload != nil {
		t.Fatalf("lookup of the kept one: %+v, %v", e, err)
	}
	got, err := o.KeptPayload(kept.ID)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("kept payload %q, %v", got, err)
	}
	if _, err := o.KeptPayload(plain.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a delivery without Keep kept its payload: %v", err)
	}
	// Sealed at rest as it was queued: the file holds no plain text of it.
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := CheckFile(path, testKey); err != nil || len(c.Problems) != 0 {
		t.Fatalf("check with a kept payload: %+v, %v", c, err)
	}
	o, err = Open(path, Options{Key: testKey, Clock: clock, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if got, err := o.KeptPayload(kept.ID); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("kept payload after reopening %q, %v", got, err)
	}
	if err := o.Release(kept.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := o.KeptPayload(kept.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("released payload still there: %v", err)
	}
	if e, err := o.Lookup(kept.ClaimCode); err != nil || e.Kept || e.State != Delivered {
		t.Errorf("after release: %+v, %v", e, err)
	}

	// One never collected goes with its tombstone.
	third := mustEnqueue(t, o, Op{Kind: "certificate.payment", IdempotencyKey: "pay-k3", Payload: payload, PersonalData: true, Now: true})
	if _, err := o.Deliver(ctx, third.ID, keep); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	if n, err := o.Purge(); err != nil || n != 3 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := CheckFile(path, testKey); err != nil || len(c.Problems) != 0 {
		t.Fatalf("check after the purge: %+v, %v", c, err)
	}
}
