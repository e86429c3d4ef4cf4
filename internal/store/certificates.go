package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
)

// LegacyPDFs is implemented by a certificates' view that may still hold
// PDFs kept inside the database before they moved to the blob store (a
// bbolt file of an older hub): LegacyPDF returns a copy, or false.
type LegacyPDFs interface {
	LegacyPDF(id string) ([]byte, bool)
}

// CertificatePDF returns the issued PDF of rec from blobs (checked against
// its SHA-256): certificate.ErrPDFExpired once retention deleted it,
// certificate.ErrNotFound when it is not kept.
func CertificatePDF(ctx context.Context, s Store, blobs blob.Store, rec certificate.Record) ([]byte, error) {
	if !rec.PDFDeleted.IsZero() {
		return nil, fmt.Errorf("%w: the document of certificate %s was deleted on %s, at the end of the re-download window; the record is kept and the certificate can still be verified",
			certificate.ErrPDFExpired, rec.ID, rec.PDFDeleted.In(protocol.Rome).Format("02/01/2006"))
	}
	sum, err := blob.ParseSum(rec.DocSHA256)
	if err != nil {
		return nil, fmt.Errorf("the record of certificate %s names no document: %w", rec.ID, err)
	}
	var pdf []byte
	if blobs != nil {
		pdf, err = blobs.Get(ctx, sum)
		if err == nil || !errors.Is(err, blob.ErrNotFound) {
			return pdf, err
		}
	}
	var found bool
	verr := s.View(ctx, func(tx Tx) error {
		if l, ok := tx.Certificates().(LegacyPDFs); ok {
			pdf, found = l.LegacyPDF(rec.ID)
		}
		return nil
	})
	switch {
	case verr != nil:
		return nil, verr
	case found && blob.Of(pdf) == sum:
		return pdf, nil
	case found:
		return nil, fmt.Errorf("the document of certificate %s: %w", rec.ID, blob.ErrCorrupt)
	}
	return nil, fmt.Errorf("%w: no document for certificate %q", certificate.ErrNotFound, rec.ID)
}

// CertificatesOf is s seen as a certificate.Store, each call one
// transaction, with the PDFs in blobs: what the console, the API's pages
// and the staff's commands read and change of the issued certificates.
func CertificatesOf(s Store, blobs blob.Store) certificate.Store { return certStore{s, blobs} }

type certStore struct {
	s     Store
	blobs blob.Store
}

func viewCerts[T any](s Store, fn func(certificate.Tx) (T, error)) (v T, err error) {
	err = s.View(context.Background(), func(tx Tx) error { v, err = fn(tx.Certificates()); return err })
	return v, err
}

func (c certStore) Get(id string) (certificate.Record, error) {
	return viewCerts(c.s, func(t certificate.Tx) (certificate.Record, error) { return t.Get(id) })
}

func (c certStore) PDF(id string) ([]byte, error) {
	rec, err := c.Get(id)
	if err != nil {
		return nil, err
	}
	pdf, err := CertificatePDF(context.Background(), c.s, c.blobs, rec)
	return bytes.Clone(pdf), err
}

func (c certStore) ByDay(d protocol.Day) ([]certificate.Record, error) {
	return viewCerts(c.s, func(t certificate.Tx) ([]certificate.Record, error) { return t.ByDay(d) })
}

func (c certStore) ByOperator(op string, from, to protocol.Day) ([]certificate.Record, error) {
	return viewCerts(c.s, func(t certificate.Tx) ([]certificate.Record, error) { return t.ByOperator(op, from, to) })
}

func (c certStore) ByCF(cf string, limit int) ([]certificate.Record, error) {
	return viewCerts(c.s, func(t certificate.Tx) ([]certificate.Record, error) { return t.ByCF(cf, limit) })
}

func (c certStore) ByProtocol(n protocol.Number) (certificate.Record, error) {
	return viewCerts(c.s, func(t certificate.Tx) (certificate.Record, error) { return t.ByProtocol(n) })
}

func (c certStore) Revoke(id, reason, authorisedBy string, at time.Time) (rec certificate.Record, err error) {
	err = c.s.Update(context.Background(), func(tx Tx) error {
		rec, err = tx.Certificates().Revoke(id, reason, authorisedBy, at)
		return err
	})
	return rec, err
}

func (c certStore) ProtocolDay(d protocol.Day) (es []protocol.Entry, err error) {
	err = c.s.View(context.Background(), func(tx Tx) error { es, err = tx.Protocol().Day(d); return err })
	return es, err
}

// CertificateRetention is the certificates' side of retention
// (retention.Certificates) on s, with the PDFs in blobs: each batch its
// own transaction, so a large hub never holds one huge transaction, and a
// dry run only reads. A record is marked before its PDF is deleted, so a
// crash between the two leaves an orphan document no record names (which
// the next sweep of blobs may delete), never a record naming a document
// that is gone without saying so.
func CertificateRetention(s Store, blobs blob.Store) CertRetention {
	return CertRetention{s: s, blobs: blobs}
}

// CertRetention implements retention.Certificates.
type CertRetention struct {
	s     Store
	blobs blob.Store
}

func (r CertRetention) ExpiredPDFs(cutoff time.Time) (int, error) {
	rs, err := viewCerts(r.s, func(t certificate.Tx) ([]certificate.Record, error) { return t.ExpiredPDFs(cutoff, 0) })
	return len(rs), err
}

func (r CertRetention) DeletePDFs(cutoff, at time.Time, limit int) (int, error) {
	ctx := context.Background()
	var rs []certificate.Record
	err := r.s.Update(ctx, func(tx Tx) (err error) {
		c := tx.Certificates()
		if rs, err = c.ExpiredPDFs(cutoff, limit); err != nil {
			return err
		}
		for _, rec := range rs {
			if err := c.PDFDeleted(rec.ID, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(rs), r.deleteDocs(ctx, rs)
}

func (r CertRetention) ExpiredRecords(cutoff time.Time) (int, error) {
	return viewCerts(r.s, func(t certificate.Tx) (int, error) { return t.ExpiredRecords(cutoff) })
}

func (r CertRetention) PurgeRecords(cutoff, at time.Time, limit int) (int, error) {
	ctx := context.Background()
	var rs []certificate.Record
	err := r.s.Update(ctx, func(tx Tx) (err error) {
		rs, err = tx.Certificates().PurgeRecords(cutoff, at, limit)
		return err
	})
	if err != nil {
		return 0, err
	}
	var kept []certificate.Record
	for _, rec := range rs {
		if rec.PDFDeleted.IsZero() {
			kept = append(kept, rec)
		}
	}
	return len(rs), r.deleteDocs(ctx, kept)
}

func (r CertRetention) OldestIssued(since time.Time) (t time.Time, ok bool, err error) {
	err = r.s.View(context.Background(), func(tx Tx) error {
		t, ok, err = tx.Certificates().OldestIssued(since)
		return err
	})
	return t, ok, err
}

// DeleteOrphans deletes the documents written before before that no
// certificate record names with its PDF kept (retention.OrphanSweeper):
// the PDF of an issuance whose transaction failed after the document was
// kept, and one whose record retention marked just before a crash. The
// caller's bound (an hour ago) leaves alone the documents of issuances
// still under way, kept and not yet committed. Blob stores that cannot
// tell a document's age (not a blob.Ager) are not swept.
//
// The records are read after the documents were listed, so a record
// committed meanwhile is seen; the PDFs kept are those of the re-download
// window (retention.MaxPDFDays at most), so the set read is bounded.
func (r CertRetention) DeleteOrphans(ctx context.Context, before time.Time) (int, error) {
	ager, ok := r.blobs.(blob.Ager)
	if !ok {
		return 0, nil
	}
	var old []blob.Sum
	err := r.blobs.Walk(ctx, func(sum blob.Sum) (bool, error) {
		w, err := ager.Written(ctx, sum)
		switch {
		case errors.Is(err, blob.ErrNotFound):
			// Deleted meanwhile (retention on another hub).
		case err != nil:
			return false, err
		case w.Before(before):
			old = append(old, sum)
		}
		return true, nil
	})
	if err != nil || len(old) == 0 {
		return 0, err
	}
	named := map[blob.Sum]bool{}
	err = r.s.View(ctx, func(tx Tx) error {
		// Every record whose PDF is kept: issued before a cutoff later
		// than any record's issue.
		rs, err := tx.Certificates().ExpiredPDFs(before.AddDate(10, 0, 0), 0)
		if err != nil {
			return err
		}
		for _, rec := range rs {
			if sum, err := blob.ParseSum(rec.DocSHA256); err == nil {
				named[sum] = true
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sum := range old {
		if named[sum] {
			continue
		}
		if err := r.blobs.Delete(ctx, sum); err != nil {
			return n, fmt.Errorf("the orphan document %s could not be deleted: %w", sum, err)
		}
		n++
	}
	return n, nil
}

// deleteDocs deletes the PDFs of rs from the blob store.
func (r CertRetention) deleteDocs(ctx context.Context, rs []certificate.Record) error {
	if r.blobs == nil {
		return nil
	}
	for _, rec := range rs {
		sum, err := blob.ParseSum(rec.DocSHA256)
		if err != nil {
			continue // a record naming no document has none to delete
		}
		if err := r.blobs.Delete(ctx, sum); err != nil {
			return fmt.Errorf("the document of certificate %s could not be deleted: %w", rec.ID, err)
		}
	}
	return nil
}
