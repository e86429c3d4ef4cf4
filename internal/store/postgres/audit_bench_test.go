package postgres

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
	storebolt "github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// BenchmarkAuditRecord records reads through store.Recorder, one entry a
// transaction, from many goroutines, on bbolt and on PostgreSQL side by
// side, both durable at each commit. On PostgreSQL every append holds the
// chain's head row until its commit, so this is the rate at which one
// database takes audited reads and issuances from all its hubs.
//
//	go test -run '^$' -bench AuditRecord ./internal/store/postgres
func BenchmarkAuditRecord(b *testing.B) {
	for _, bk := range []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"bolt", func(b *testing.B) store.Store {
			s, err := storebolt.Open(filepath.Join(b.TempDir(), "hub.db"), registrybolt.Options{InitialMmapSize: 1 << 28})
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) store.Store {
			s, err := OpenStore(context.Background(), durable.Database(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	} {
		b.Run(bk.name, func(b *testing.B) {
			s := bk.open(b)
			b.Cleanup(func() { s.Close() })
			at := time.Date(2026, 11, 23, 9, 0, 0, 0, protocol.Rome)
			rec := store.NewRecorder(s, func() time.Time { return at })
			e := audit.Entry{Actor: audit.Actor{Kind: audit.Device, ID: "dev-1"}, Purpose: "rilascio certificato, art. 33 DPR 223/1989",
				Subject: "RSSMRA50B17A558W", Data: "residenza", Channel: "counter"}
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := rec.Record(context.Background(), e); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
