package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/admin/staff/stafftest"
	"github.com/sportello/sportello/internal/appointment/appointmenttest"
	"github.com/sportello/sportello/internal/city/citytest"
	"github.com/sportello/sportello/internal/delegation/delegationtest"
	"github.com/sportello/sportello/internal/notify/notifytest"
	"github.com/sportello/sportello/internal/payment/paymenttest"
	"github.com/sportello/sportello/internal/store"
)

// hubs remembers the database of each store openHub made, so that twin
// can open a second hub on it.
var hubs sync.Map // store.Store → conn string

// openHub opens a hub's store on a new, empty database.
func openHub(t *testing.T) store.Store {
	t.Helper()
	conn := pg.Database(t)
	s, err := OpenStore(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(); hubs.Delete(store.Store(s)) })
	hubs.Store(store.Store(s), conn)
	return s
}

// twin opens a second hub's store on s's database, with its own pool.
func twin(t *testing.T, s store.Store) store.Store {
	t.Helper()
	conn, ok := hubs.Load(s)
	if !ok {
		t.Fatal("twin of a store openHub did not open")
	}
	s2, err := OpenStore(context.Background(), conn.(string))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

func TestPayments(t *testing.T) { paymenttest.Run(t, openHub, twin) }

func TestNotices(t *testing.T) { notifytest.Run(t, openHub, twin) }

func TestStaff(t *testing.T) { stafftest.Run(t, openHub, twin) }

func TestCity(t *testing.T) { citytest.Run(t, openHub, twin) }

func TestDelegations(t *testing.T) { delegationtest.Run(t, openHub, twin) }

func TestAppointments(t *testing.T) { appointmenttest.Run(t, openHub, twin) }
