package issuance_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/audit/anchorlog"
	"github.com/sportello/sportello/internal/blob/blobdir"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/identify"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/pgtest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/postgres"
	"github.com/sportello/sportello/internal/synth"
)

var pg pgtest.Shared

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// pgDesk is a desk whose every domain is in a private PostgreSQL: the
// registry seeded with persons residents, numbers from the database, the
// audit entries in the issuing transaction.
func pgDesk(tb testing.TB, persons int) (*issuance.Service, []string) {
	tb.Helper()
	ctx := context.Background()
	st, err := postgres.OpenStore(ctx, pg.Database(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	reg := store.RegistryOf(st)
	cfg := synth.Config{Persons: persons, Seed: 5, Today: registry.DateOf(now), City: synth.DefaultCity()}
	if _, err := synth.Seed(ctx, reg, cfg, nil); err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	clock := func() time.Time { return now }
	keys, err := seal.LoadOrCreate(filepath.Join(dir, "keys"), clock)
	if err != nil {
		tb.Fatal(err)
	}
	blobs, err := blobdir.Open(filepath.Join(dir, "pdf"))
	if err != nil {
		tb.Fatal(err)
	}
	csca, err := virtual.TestCSCA()
	if err != nil {
		tb.Fatal(err)
	}
	// Every commit's audit head is anchored, as in the hub: through the
	// store, as data, the way a hub on a database anchors.
	anchors, err := anchorlog.Open(filepath.Join(dir, anchorlog.FileName))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { anchors.Close() })
	stores, err := store.AnchorAudit(ctx, st, audit.NewAnchorer(keys.TokenKey, keys.KeyID, clock, audit.Head{}, anchors), nil)
	if err != nil {
		tb.Fatal(err)
	}
	d := &issuance.Service{Registry: reg, Stores: stores, Blobs: blobs, Certs: store.CertificatesOf(stores, blobs), Keys: keys,
		PublicURL: "https://hub.example", Identify: &identify.Verifier{CSCAs: []*x509.Certificate{csca}},
		Issuer: certificate.Issuer{Comune: "Comune di Milano", Belfiore: "F205", Place: "Milano"}, Now: clock}
	var cfs []string
	err = reg.View(ctx, func(r registry.Reader) error {
		return r.Persons(0, func(p *registry.Person) (bool, error) {
			if _, ok := p.CurrentResidence(); ok && p.Alive() && !p.AIRE && !p.PartlyCertifiable {
				cfs = append(cfs, p.CF)
			}
			return true, nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return d, cfs
}

// The whole issuance on PostgreSQL: numbered in order by the database,
// the record, the protocol entry and the audit entry committed together,
// the PDF kept by content, a replay answered with the first certificate.
func TestIssueOnPostgres(t *testing.T) {
	d, cfs := pgDesk(t, 60)
	ctx := context.Background()
	var first issuance.Result
	for i := range 3 {
		req := issuance.Request{SubjectCF: cfs[i], Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk, IdempotencyKey: fmt.Sprint("pg-", i)}
		res, err := d.Issue(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("2026/%07d", i+1); res.Record.Protocol != want {
			t.Errorf("certificate %d: protocol %s, want %s", i, res.Record.Protocol, want)
		}
		if i == 0 {
			first = res
		}
	}
	again, err := d.Issue(ctx, issuance.Request{SubjectCF: cfs[0], Types: []string{"residenza"}, Channel: certificate.Office, Actor: clerk, IdempotencyKey: "pg-0"})
	if err != nil || !again.Replayed || again.Record.ID != first.Record.ID || string(again.PDF) != string(first.PDF) {
		t.Fatalf("replay: %v %v %v", again.Replayed, again.Record.ID, err)
	}
	err = d.Stores.View(ctx, func(tx store.Tx) error {
		es, err := tx.Protocol().Day(protocol.DayOf(now))
		if err != nil {
			return err
		}
		if len(es) != 3 || es[0].Ref != first.Record.ID {
			t.Errorf("register: %d entries", len(es))
		}
		n, err := tx.Audit().Count()
		if err != nil {
			return err
		}
		if n != 3 {
			t.Errorf("audit entries: %d, want 3", n)
		}
		if head, err := tx.Audit().Head(); err != nil || head != d.Stores.(*store.Anchoring).Anchored() {
			t.Errorf("the log's head %+v is not the one anchored (%v)", head, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if pdf, err := d.Certs.PDF(first.Record.ID); err != nil || string(pdf) != string(first.PDF) {
		t.Errorf("the PDF from the blob store: %d bytes, %v", len(pdf), err)
	}
}

// BenchmarkIssueParallelPostgres is BenchmarkIssueParallel with every
// domain in PostgreSQL (issue 16's target: 300 certificates/s).
func BenchmarkIssueParallelPostgres(b *testing.B) {
	d, cfs := pgDesk(b, 2000)
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			if _, err := d.Issue(context.Background(), issuance.Request{SubjectCF: cfs[int(i)%len(cfs)], Types: []string{"residenza"}, Channel: certificate.Office, IdempotencyKey: fmt.Sprint(i), Actor: clerk}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "certs/s")
}
