package operatorstest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/store"
)

// BenchRequests measures the store work of one signed kiosk request
// outside its own business: the device's key and standing read
// (ResolveKey), its nonce recorded (Nonces), its daily counts taken
// (Limits), as the verifier and the limits do it, from parallel clients
// spread over 20 devices of one shop.
func BenchRequests(b *testing.B, s store.Store) {
	svc := Service(s, newClock())
	o := activeShop(b, svc, Shop())
	var keys []string
	for i := range 20 {
		d, _ := enrol(b, svc, o.ID, fmt.Sprintf("Cassa %d", i))
		keys = append(keys, d.KeyID)
	}
	ctx := context.Background()
	var seq atomic.Int64
	now := time.Now()
	day := limits.DayOf(now)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			key := keys[n%int64(len(keys))]
			if _, err := svc.ResolveKey(ctx, key); err != nil {
				b.Error(err)
				return
			}
			fresh, err := s.Nonces().Use(ctx, key, fmt.Sprintf("nonce-%d", n), now, now.Add(5*time.Minute))
			if err != nil || !fresh {
				b.Errorf("nonce %d: fresh %v, %v", n, fresh, err)
				return
			}
			if _, _, err := s.Limits().TakeDaily(ctx, day, []limits.Cap{{Key: "device:" + key, Max: 1 << 30}, {Key: "shop:" + o.ID, Max: 1 << 30}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
