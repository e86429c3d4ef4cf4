package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/certificate/certtest"
	"github.com/sportello/sportello/internal/store"
)

func openTestStore(t *testing.T) store.Store {
	t.Helper()
	s, err := OpenStore(context.Background(), pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStoreCertificates(t *testing.T) {
	certtest.Run(t, openTestStore)
}

// Two hubs on one database given one idempotency key at once issue one
// certificate; the other is told it is a replay of it.
func TestCertificatesKeySharedByTwoHubs(t *testing.T) {
	conn := pg.Database(t)
	var hubs [2]store.Store
	for i := range hubs {
		s, err := OpenStore(context.Background(), conn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		hubs[i] = s
	}
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r := certtest.Sample(uint64(i+1), 0)
			r.IdempotencyKey = "one-key"
			errs[i] = hubs[i%2].Update(context.Background(), func(tx store.Tx) error { return tx.Certificates().Put(r) })
		})
	}
	wg.Wait()
	issued := 0
	for i, err := range errs {
		var replay *certificate.ReplayError
		switch {
		case err == nil:
			issued++
		case !errors.As(err, &replay):
			t.Errorf("request %d: %v", i, err)
		}
	}
	if issued != 1 {
		t.Errorf("%d certificates for one key across two hubs", issued)
	}
}

// What a certificate costs the database once its PDF is gone (issue 16:
// at most 2 KB): the table's rows, TOAST and every index.
func TestStoredSizePerCertificate(t *testing.T) {
	s := openTestStore(t).(*Store)
	const n = 1000
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for i := range n {
			r := certtest.Sample(uint64(i+1), i/100)
			r.PDFDeleted = r.Issued.AddDate(0, 1, 0)
			if err := tx.Certificates().Put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ctx := context.Background()
	if _, err := s.db.pool.Exec(ctx, "VACUUM ANALYZE certificates"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.pool.QueryRow(ctx, "SELECT pg_total_relation_size('certificates')").Scan(&total); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.pool.Query(ctx, `SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c WHERE c.relname LIKE 'certificates%' OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE relname = 'certificates')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var size int64
		_ = rows.Scan(&name, &size)
		t.Logf("%s: %d", name, size/n)
	}
	rows.Close()
	var avg float64
	_ = s.db.pool.QueryRow(ctx, "SELECT avg(pg_column_size(record)), avg(octet_length(record)) FROM certificates").Scan(&avg, new(float64))
	t.Logf("avg record column %v", avg)
	per := total / n
	t.Logf("PostgreSQL: %d bytes stored per certificate after the re-download window (row, TOAST and indexes)", per)
	if per > 2048 {
		t.Errorf("%d bytes per certificate, want at most 2048", per)
	}
}
