package bolt

import (
	"path/filepath"
	"testing"

	"github.com/sportello/sportello/internal/admin/staff/stafftest"
	"github.com/sportello/sportello/internal/appointment/appointmenttest"
	"github.com/sportello/sportello/internal/city/citytest"
	"github.com/sportello/sportello/internal/delegation/delegationtest"
	"github.com/sportello/sportello/internal/notify/notifytest"
	"github.com/sportello/sportello/internal/payment/paymenttest"
	"github.com/sportello/sportello/internal/store"
)

// openHub opens a new, empty hub file.
func openHub(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "hub.db"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sameHub is the "second hub" of a file only one process opens: the
// same store.
func sameHub(_ *testing.T, s store.Store) store.Store { return s }

func TestPayments(t *testing.T) { paymenttest.Run(t, openHub, sameHub) }

func TestNotices(t *testing.T) { notifytest.Run(t, openHub, sameHub) }

func TestStaff(t *testing.T) { stafftest.Run(t, openHub, sameHub) }

func TestCity(t *testing.T) { citytest.Run(t, openHub, sameHub) }

func TestDelegations(t *testing.T) { delegationtest.Run(t, openHub, sameHub) }

func TestAppointments(t *testing.T) { appointmenttest.Run(t, openHub, sameHub) }
