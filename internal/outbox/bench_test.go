package outbox

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/bbolt"
)

// The payload is about the size of a certificate request with its fee lines.
var benchPayload = []byte(`{"cf":"RSSMRA80A01F205X","types":["residenza","stato_di_famiglia"],"exemption":{"code":0,"text":""},` +
	`"requester_cf":"RSSMRA80A01F205X","fees":[{"label":"diritti di segreteria","cents":52},{"label":"imposta di bollo","cents":1600}]}`)

// BenchmarkEnqueue measures one committed, fsynced Enqueue: the time the
// screen waits before it may say "queued".
func BenchmarkEnqueue(b *testing.B) {
	for _, personal := range []bool{false, true} {
		b.Run(fmt.Sprintf("personal=%v", personal), func(b *testing.B) {
			o, _ := openTest(b, Options{Key: testKey, MaxCount: -1, MaxAge: -1})
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, err := o.Enqueue(ctx, Op{Kind: "certificate.request", IdempotencyKey: fmt.Sprint("bench-", i),
					Payload: benchPayload, PersonalData: personal, AmountCents: 1652}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDrain measures delivering queued operations to an in-process hub:
// the local cost per operation (decrypt, tombstone commit with fsync), not
// the network. The final compaction is included once per batch.
func BenchmarkDrain(b *testing.B) {
	const batch = 100
	o, _ := openTest(b, Options{Key: testKey, MaxCount: -1, MaxAge: -1})
	ctx := context.Background()
	s := o.NewSender(newFakeHub(), SenderOptions{})
	n := 0
	for b.Loop() {
		b.StopTimer()
		for range batch {
			n++
			if _, err := o.Enqueue(ctx, Op{Kind: "certificate.request", IdempotencyKey: fmt.Sprint("drain-", n),
				Payload: benchPayload, PersonalData: true, AmountCents: 1652}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if got, err := s.Drain(ctx); err != nil || got != batch {
			b.Fatalf("Drain = %d, %v", got, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/op-delivered")
}

// BenchmarkCompact measures the scrub of free pages with a month of
// tombstones (about 200 a day) in the file; Enqueue waits while it runs.
func BenchmarkCompact(b *testing.B) {
	const tombstones = 6000
	o, _ := openTest(b, Options{Key: testKey})
	now := o.clock.Now()
	err := o.update(func(tx *bbolt.Tx) error {
		for i := range tombstones {
			id := uint64(i + 1)
			t := &tombstone{ID: id, Kind: "certificate.request", Key: fmt.Sprintf("key-%06d", i), Claim: fmt.Sprintf("CLM-%06d", i),
				Amount: 1652, State: Delivered, Enqueued: now, DoneAt: now, Ref: fmt.Sprintf("CERT-%06d", i)}
			if err := putJSON(tx.Bucket(bDone), id, t); err != nil {
				return err
			}
			if err := errors.Join(tx.Bucket(bClaims).Put([]byte(t.Claim), idKey(id)), tx.Bucket(bKeys).Put([]byte(t.Key), idKey(id))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := o.Compact(); err != nil {
			b.Fatal(err)
		}
	}
}
