package bolt

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate/certtest"
	"github.com/sportello/sportello/internal/store"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "hub.db"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStoreCertificates(t *testing.T) {
	certtest.Run(t, openStore)
}

// What a certificate costs the hub's file once its PDF is gone (issue 16:
// at most 2 KB): the record and every index key, measured as the bytes
// bbolt's pages hold for the certificates' buckets.
func TestStoredSizePerCertificate(t *testing.T) {
	s := openStore(t).(*Store)
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
	var used int
	err = s.Registry().DB().View(func(btx *bbolt.Tx) error {
		return btx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if strings.HasPrefix(string(name), "cert") {
				st := b.Stats()
				used += st.LeafInuse + st.BranchInuse + st.InlineBucketInuse
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	per := used / n
	t.Logf("bbolt: %d bytes stored per certificate after the re-download window (record and indexes)", per)
	if per > 2048 {
		t.Errorf("%d bytes per certificate, want at most 2048", per)
	}
}
