package noncebolt

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/httpsig"
)

// BenchmarkUseSerial is the added cost per request when requests arrive one
// at a time: one commit (with its fsync) each. Compare with httpsig's
// BenchmarkMemoryNonceStore for the in-memory store it replaces.
func BenchmarkUseSerial(b *testing.B) {
	db := openDB(b, filepath.Join(b.TempDir(), "hub.db"), false)
	defer db.Close()
	s := openStore(b, db, 0)
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		nonce, _ := httpsig.NewNonce(nil)
		now = now.Add(time.Millisecond)
		if _, err := s.Use(b.Context(), "dev-1", nonce, now, now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUseParallel is many kiosks at once: concurrent requests share
// commits, so the cost per request falls with the load.
func BenchmarkUseParallel(b *testing.B) {
	db := openDB(b, filepath.Join(b.TempDir(), "hub.db"), false)
	defer db.Close()
	s := openStore(b, db, 0)
	var tick atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			nonce, _ := httpsig.NewNonce(nil)
			now := t0.Add(time.Duration(tick.Add(1)) * time.Millisecond)
			if _, err := s.Use(b.Context(), "dev-1", nonce, now, now.Add(time.Minute)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReplayCheck is a replayed nonce: answered from memory, no disk.
func BenchmarkReplayCheck(b *testing.B) {
	db := openDB(b, filepath.Join(b.TempDir(), "hub.db"), false)
	defer db.Close()
	s := openStore(b, db, 0)
	if _, err := s.Use(b.Context(), "dev-1", "n", t0, t0.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if fresh, _ := s.Use(b.Context(), "dev-1", "n", t0, t0.Add(time.Hour)); fresh {
			b.Fatal("replay accepted")
		}
	}
}
