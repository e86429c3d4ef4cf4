package bolt

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit/audittest"
	"github.com/sportello/sportello/internal/store"
)

func TestStoreAudit(t *testing.T) {
	audittest.Run(t, audittest.Backend{
		Open: func(t *testing.T) store.Store {
			s, err := Open(filepath.Join(t.TempDir(), "hub.db"), testOptions)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		SetRecord: func(t *testing.T, s store.Store, seq uint64, record []byte) {
			err := s.(*Store).db.Update(func(tx *bbolt.Tx) error {
				b, k := tx.Bucket([]byte("audit")), binary.BigEndian.AppendUint64(nil, seq)
				if record == nil {
					return b.Delete(k)
				}
				return b.Put(k, record)
			})
			if err != nil {
				t.Fatal(err)
			}
		},
	})
}
