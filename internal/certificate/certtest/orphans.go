package certtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/blob/blobdir"
	"github.com/sportello/sportello/internal/retention"
	"github.com/sportello/sportello/internal/store"
)

// testOrphanDocuments: retention deletes the PDFs no record names once
// they are older than retention.OrphanAge — kept for an issuance whose
// transaction then failed — and keeps the named ones and the young ones
// (an issuance still committing).
func testOrphanDocuments(t *testing.T, s store.Store) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "pdf")
	blobs, err := blobdir.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	put := func(what string, age time.Duration) blob.Sum {
		t.Helper()
		sum, err := blobs.Put(ctx, fmt.Appendf(nil, "%%PDF-1.7 %s", what))
		if err != nil {
			t.Fatal(err)
		}
		// The blob directory's layout: the first two hex digits name the
		// shard (blobdir's TestLayout).
		at := time.Now().Add(-age)
		if err := os.Chtimes(filepath.Join(dir, sum.String()[:2], sum.String()[2:]), at, at); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	named := put("named", 3*time.Hour)
	orphan := put("orphan of a failed issuance", 2*time.Hour)
	young := put("issuance still committing", time.Minute)
	r := Sample(1, 0)
	r.DocSHA256 = named.String()
	// Issued within the re-download window: its PDF is kept.
	r.Issued = time.Now().Add(-3 * time.Hour)
	// A failed issuance's record: rolled back, so it names nothing.
	failed := Sample(2, 0)
	failed.DocSHA256 = orphan.String()
	errFailed := errors.New("the issuance failed after keeping its PDF")
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Certificates().Put(failed); err != nil {
			return err
		}
		return errFailed
	}); !errors.Is(err, errFailed) {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Certificates().Put(r) }); err != nil {
		t.Fatal(err)
	}
	ret := store.CertificateRetention(s, blobs)
	// The retention run, with the hub's clock at the real time (blobs are
	// dated by the file system's).
	job := retention.Job{Certs: ret, Audit: store.AuditLog{S: s}}
	rep, err := job.Run(ctx, retention.Defaults, time.Now(), true)
	if err != nil || rep.Orphans != 0 {
		t.Fatalf("dry run: %d orphans deleted, %v; want none", rep.Orphans, err)
	}
	if _, err := blobs.Get(ctx, orphan); err != nil {
		t.Fatalf("a dry run deleted the orphan: %v", err)
	}
	if rep, err = job.Run(ctx, retention.Defaults, time.Now(), false); err != nil || rep.Orphans != 1 {
		t.Fatalf("retention run: %d orphans deleted, %v; want 1", rep.Orphans, err)
	}
	for _, c := range []struct {
		sum  blob.Sum
		what string
		kept bool
	}{{named, "the named document", true}, {orphan, "the orphan", false}, {young, "the young document", true}} {
		_, err := blobs.Get(ctx, c.sum)
		if kept := err == nil; kept != c.kept {
			t.Errorf("%s: kept %v (%v), want %v", c.what, kept, err, c.kept)
		}
	}
	if pdf, err := store.CertificatesOf(s, blobs).PDF(r.ID); err != nil || string(pdf) != "%PDF-1.7 named" {
		t.Errorf("the named certificate's PDF after the sweep: %q, %v", pdf, err)
	}
}
