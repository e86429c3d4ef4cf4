package certbolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/certificate"
)

// bucketContrassegni maps a contrassegno telematico's identifier to the
// certificate it paid the bollo of. An entry is written in the
// transaction that stores the certificate and is never removed: not when
// the certificate is revoked, nor when retention deletes its PDF. A marca
// da bollo is cancelled by being applied to one document (art. 12 DPR
// 642/1972: the marca is annulled so it cannot be used again), and the
// revoked certificate still bears it, so a second certificate on the same
// marca would be a second document on one payment.
var bucketContrassegni = []byte("cert_contrassegni")

// ContrassegnoUsedBy returns the certificate the contrassegno id is on, or
// "" when it is unused.
func (s *Store) ContrassegnoUsedBy(id string) (certID string, err error) {
	err = s.db.View(func(tx *bbolt.Tx) error {
		certID = contrassegnoOwner(tx, id)
		return nil
	})
	return certID, err
}

func contrassegnoOwner(tx *bbolt.Tx, id string) string {
	b := tx.Bucket(bucketContrassegni)
	if b == nil || id == "" {
		return ""
	}
	return string(b.Get([]byte(id)))
}

// claimContrassegno serialises the issuances of one contrassegno in this
// process and refuses one already used, before a protocol number is
// reserved: a refused marca consumes no number. The transaction that
// stores the certificate checks again (pending.check), for a second
// process on the file.
func (s *Store) claimContrassegno(ctx context.Context, id string) (func(), error) {
	if id == "" {
		return func() {}, nil
	}
	unlock, err := s.marks.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	owner, err := s.ContrassegnoUsedBy(id)
	if err == nil && owner != "" {
		err = certificate.ContrassegnoUsed(id, owner)
	}
	if err != nil {
		unlock()
		return nil, err
	}
	return unlock, nil
}
