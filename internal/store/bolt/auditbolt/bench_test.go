package auditbolt

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/anchorlog"
)

func benchDB(b *testing.B) *bbolt.DB {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "hub.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	db.MaxBatchDelay = 2 * time.Millisecond
	b.Cleanup(func() { db.Close() })
	if err := db.Update(Init); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkAppendInTx is the cost an issuance pays for its audit entry when
// it appends inside its own write transaction: the commit is the issuance's.
func BenchmarkAppendInTx(b *testing.B) {
	db := benchDB(b)
	const perTx = 1000
	b.ReportAllocs()
	for done := 0; done < b.N; {
		n := min(perTx, b.N-done)
		if err := db.Update(func(tx *bbolt.Tx) error {
			for i := 0; i < n; i++ {
				if _, err := Append(tx, entryAt((done+i)%testEntries)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		done += n
	}
}

// anchored makes st anchor every commit to an anchor file in a temporary
// directory, as the hub does.
func anchored(b *testing.B, st *Store) {
	f, err := anchorlog.Open(filepath.Join(b.TempDir(), anchorlog.FileName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	if err := st.AnchorTo(audit.NewAnchorer(key, "kid", time.Now, audit.Head{}, f), nil); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRecordSerial is one read recorded on its own: one commit and
// one fsync each.
func BenchmarkRecordSerial(b *testing.B) { benchRecordSerial(b, false) }

// BenchmarkRecordSerialAnchored adds the anchor: a signature, a line
// appended to the anchor file and its fsync, after each commit.
func BenchmarkRecordSerialAnchored(b *testing.B) { benchRecordSerial(b, true) }

func benchRecordSerial(b *testing.B, anchor bool) {
	st, err := New(benchDB(b), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	if anchor {
		anchored(b, st)
	}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if err := st.Record(ctx, entryAt(i%testEntries)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordParallel is many handlers recording at once: Batch lets
// them share commits.
func BenchmarkRecordParallel(b *testing.B) { benchRecordParallel(b, false) }

// BenchmarkRecordParallelAnchored adds one anchor per shared commit.
func BenchmarkRecordParallelAnchored(b *testing.B) { benchRecordParallel(b, true) }

func benchRecordParallel(b *testing.B, anchor bool) {
	st, err := New(benchDB(b), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	if anchor {
		anchored(b, st)
	}
	ctx := context.Background()
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if err := st.Record(ctx, entryAt(i%testEntries)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkVerify is the cost per entry of hub audit verify.
func BenchmarkVerify(b *testing.B) {
	db := benchDB(b)
	const entries = 20000
	if err := db.Update(func(tx *bbolt.Tx) error {
		for i := 0; i < entries; i++ {
			if _, err := Append(tx, entryAt(i%testEntries)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := db.View(func(tx *bbolt.Tx) error {
			h, err := Verify(tx)
			if err == nil && h.Seq != entries {
				b.Fatalf("verified %v", h)
			}
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*entries), "ns/entry")
}

var _ audit.Recorder = (*Store)(nil)
