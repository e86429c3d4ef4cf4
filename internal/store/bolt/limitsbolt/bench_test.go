package limitsbolt

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
)

// benchGuard is a Guard on a bbolt file with the default settings raised
// out of the way, so every request is counted and none refused: the cost
// each signed kiosk request pays before its handler runs.
func benchGuard(b *testing.B) *limits.Guard {
	b.Helper()
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "hub.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	st, err := New(db)
	if err != nil {
		b.Fatal(err)
	}
	set := limits.Defaults()
	set.DeviceRate, set.ClerkRate, set.ShopRate = 1_000_000, 1_000_000, 1_000_000
	set.DeviceDaily, set.ClerkDaily, set.ShopDaily = 1_000_000_000, 1_000_000_000, 1_000_000_000
	set.RepeatAlert, set.RepeatSuspend = 1_000_000_000, 1_000_000_001
	set.NightAlert, set.NightSuspend = 1_000_000_000, 1_000_000_001
	now := time.Date(2026, time.December, 4, 10, 0, 0, 0, operators.Rome)
	return &limits.Guard{Store: st, Now: func() time.Time { return now },
		Settings: func() (limits.Settings, error) { return set, nil }}
}

// BenchmarkGuardCheck is one request through the limits, one device at a time.
func BenchmarkGuardCheck(b *testing.B) {
	g := benchGuard(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d, err := g.Check(ctx, limits.Request{Device: "dev-1", Shop: "op-1", Clerk: "ck-1", Subject: fmt.Sprint(i % 500)})
		if err != nil || !d.Allowed() {
			b.Fatalf("%+v %v", d, err)
		}
	}
}

// BenchmarkGuardCheckParallel is many kiosks of many shops at once, as the
// hub sees them: the daily counts' commits are what they share.
func BenchmarkGuardCheckParallel(b *testing.B) {
	g := benchGuard(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		k := n.Add(1)
		req := limits.Request{Device: fmt.Sprint("dev-", k), Shop: fmt.Sprint("op-", k%40), Clerk: fmt.Sprint("ck-", k)}
		for i := 0; pb.Next(); i++ {
			req.Subject = fmt.Sprint(i % 500)
			d, err := g.Check(ctx, req)
			if err != nil || !d.Allowed() {
				b.Errorf("%+v %v", d, err)
				return
			}
		}
	})
}
