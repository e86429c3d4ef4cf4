package paybolt_test

import (
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/payment/paymenttest"
	"github.com/sportello/sportello/internal/store/bolt/paybolt"
)

func TestStore(t *testing.T) {
	paymenttest.Run(t, func(t *testing.T) payment.Store {
		db, err := bbolt.Open(filepath.Join(t.TempDir(), "hub.db"), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := paybolt.New(db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
