package identify_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/registry"
)

// BenchmarkIdentifyCIETap is the hub's own check of a requester's CIE tap,
// which every counter and self-service request now pays: the chip's RSA
// answer, the SOD's hashes and signature, the Document Signer's chain to
// the CSCA, then the registry's holder of the NIS.
func BenchmarkIdentifyCIETap(b *testing.B) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	d := issuancetest.New(b, 400, 3, now)
	cf := d.Cast(b).Requester
	nis := issuancetest.CIENIS(b, d.Store, cf, now)
	ev := issuancetest.CIETap(b, virtual.Genuine, "dev-1", nis, now.Add(-time.Minute), true)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		err := d.Store.View(ctx, func(r registry.Reader) error {
			p, err := d.Identify.Identify(r, ev, true, now)
			if err == nil && p.CF != cf {
				b.Fatalf("identified %s, want %s", p.CF, cf)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
