package postgres

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sportello/sportello/internal/protocol/protocoltest"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// BenchmarkProtocolRegister numbers and registers protocol entries from
// parallel goroutines, on bbolt and on PostgreSQL side by side, both
// durable at each commit (see the registry's benchmarks):
//
//	go test -run '^$' -bench ProtocolRegister -cpu 8 ./internal/store/postgres
func BenchmarkProtocolRegister(b *testing.B) {
	b.Run("bolt", func(b *testing.B) {
		s, err := bolt.Open(filepath.Join(b.TempDir(), "hub.db"), registrybolt.Options{InitialMmapSize: 1 << 28})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		protocoltest.Bench(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		s, err := OpenStore(context.Background(), durable.Database(b))
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		protocoltest.Bench(b, s)
	})
}
