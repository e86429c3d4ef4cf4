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
