package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/blob/blobdir"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/certificate/certtest"
	"github.com/sportello/sportello/internal/retention"
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

// Retention through the hub's store deletes the PDFs from the blob store
// and marks the records; a certificate's PDF is served until then, and
// ErrPDFExpired after.
func TestCertificateRetentionDeletesDocuments(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	blobs, err := blobdir.Open(filepath.Join(t.TempDir(), "pdf"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []certificate.Record
	for i := range 3 {
		pdf := []byte(fmt.Sprintf("%%PDF-1.7 certificate %d", i))
		sum, err := blobs.Put(ctx, pdf)
		if err != nil {
			t.Fatal(err)
		}
		r := certtest.Sample(uint64(i+1), i)
		r.DocSHA256 = sum.String()
		recs = append(recs, r)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		for _, r := range recs {
			if err := tx.Certificates().Put(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	certs := store.CertificatesOf(s, blobs)
	if pdf, err := certs.PDF(recs[0].ID); err != nil || !strings.Contains(string(pdf), "certificate 0") {
		t.Fatalf("PDF before retention: %q, %v", pdf, err)
	}
	ret := store.CertificateRetention(s, blobs)
	cutoff := recs[1].Issued.Add(time.Minute)
	if n, err := ret.ExpiredPDFs(cutoff); err != nil || n != 2 {
		t.Fatalf("expired PDFs: %d, %v", n, err)
	}
	at := recs[2].Issued.AddDate(0, 1, 0)
	if n, err := ret.DeletePDFs(cutoff, at, 10); err != nil || n != 2 {
		t.Fatalf("deleted PDFs: %d, %v", n, err)
	}
	for i, r := range recs {
		sum, _ := blob.ParseSum(r.DocSHA256)
		_, err := blobs.Get(ctx, sum)
		if gone := errors.Is(err, blob.ErrNotFound); gone != (i < 2) {
			t.Errorf("certificate %d's document: %v", i, err)
		}
	}
	if _, err := certs.PDF(recs[0].ID); !errors.Is(err, certificate.ErrPDFExpired) {
		t.Errorf("PDF after its deletion: %v, want ErrPDFExpired", err)
	}
	if n, err := ret.PurgeRecords(recs[2].Issued.Add(time.Minute), at, 10); err != nil || n != 3 {
		t.Fatalf("purged: %d, %v", n, err)
	}
	sum, _ := blob.ParseSum(recs[2].DocSHA256)
	if _, err := blobs.Get(ctx, sum); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("the purged certificate's document is still kept: %v", err)
	}
}

var _ retention.Certificates = store.CertificateRetention(nil, nil)
