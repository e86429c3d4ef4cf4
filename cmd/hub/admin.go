package main

import (
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/store"
)

// staff is the console's operations on the hub's storage: on a database
// several hubs share, a session opened on one is valid on all.
func (h *hubFile) staff(now func() time.Time) *staff.Service {
	return staff.NewService(store.Domain(h.stores, store.Tx.Staff), now)
}
