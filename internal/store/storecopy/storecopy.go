// Package storecopy moves a whole city from one store.Store to another
// (issue 16: `hub migrate --from bolt DIR --to postgres://…`), domain by
// domain, through the domains' views only, so it works between any two
// backends. Identities are kept: registry IDs, audit sequence numbers and
// hashes (the copied chain verifies and ends at the source's head),
// certificate ids and their documents' hashes, staff password hashes.
// Every domain's records are counted on both sides after the copy, and a
// difference fails it.
package storecopy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
)

// Count is how many records of one kind a domain's copy moved.
type Count struct {
	Domain string // "registry", "audit", …
	What   string // "persons", "entries", …
	N      int
}

// Counts are the counts of a copy, in the order the domains were copied.
type Counts []Count

// String is the counts as one line per domain: "registry: 300 persons, …".
func (c Counts) String() string {
	var b strings.Builder
	for i, n := range c {
		switch {
		case i == 0:
		case c[i-1].Domain == n.Domain:
			b.WriteString(", ")
		default:
			b.WriteString("\n")
		}
		if i == 0 || c[i-1].Domain != n.Domain {
			fmt.Fprintf(&b, "%s: ", n.Domain)
		}
		fmt.Fprintf(&b, "%d %s", n.N, n.What)
	}
	return b.String()
}

// ErrNotEmpty is a destination that already holds records of some domain:
// a copy is only into an empty store, so nothing is merged or overwritten.
var ErrNotEmpty = errors.New("the destination store is not empty")

// Skipped is what a copy leaves behind because the views cannot move it,
// each a sentence for the operator.
type Skipped []string

// domain is one domain's copy: empty says whether dst holds none of its
// records; copy moves them and returns its counts, already checked
// against the destination.
type domain struct {
	name string
	// views are the store.Tx methods whose records the copy moves; every
	// method of store.Tx is some domain's (TestEveryViewMoves), so a view
	// added to the hub's store is not silently left behind.
	views []string
	empty func(ctx context.Context, s store.Store) (bool, error)
	copy  func(ctx context.Context, dst, src store.Store) (Counts, Skipped, error)
}

// domains in the order they are copied: what an entry refers to is
// copied before it.
var domains = []domain{
	{"registry", []string{"Registry"}, registryEmpty, copyRegistry},
	{"city settings", []string{"City"}, cityEmpty, copyCity},
	{"staff", []string{"Staff"}, staffEmpty, copyStaff},
	{"operators", []string{"Operators"}, operatorsEmpty, copyOperators},
	{"protocol register", []string{"Protocol"}, protocolEmpty, copyProtocol},
	{"certificates", []string{"Certificates"}, certificatesEmpty, copyCertificates},
	{"audit log", []string{"Audit"}, auditEmpty, copyAudit},
	{"notices", []string{"Notices"}, noticesEmpty, copyNotices},
	{"payments", []string{"Payments"}, paymentsEmpty, copyPayments},
	{"limits' alerts", nil, alertsEmpty, copyAlerts},
	{"appointments", []string{"Appointments"}, appointmentsEmpty, copyAppointments},
	{"requests", []string{"Requests"}, requestsEmpty, copyRequests},
	{"delegations", []string{"Delegations"}, delegationsEmpty, copyDelegations},
	{"reminder preferences", []string{"Reminders"}, remindersEmpty, copyReminders},
}

// Copy moves every domain of src into dst, which must be empty (ErrNotEmpty
// otherwise: checked for every domain before anything is written). src is
// only read. It returns the counts of what moved, each checked on dst, and
// what could not be moved. On an error dst holds part of the city and
// must be emptied (dropped) before another try.
func Copy(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	for _, d := range domains {
		ok, err := d.empty(ctx, dst)
		if err != nil {
			return nil, nil, fmt.Errorf("checking the destination's %s: %w", d.name, err)
		}
		if !ok {
			return nil, nil, fmt.Errorf("%w: it holds %s", ErrNotEmpty, d.name)
		}
	}
	var all Counts
	var skipped Skipped
	for _, d := range domains {
		n, s, err := d.copy(ctx, dst, src)
		all = append(all, n...)
		skipped = append(skipped, s...)
		if err != nil {
			return all, skipped, fmt.Errorf("copying the %s: %w", d.name, err)
		}
	}
	return all, skipped, nil
}

// mismatch is the error of a domain whose destination count differs.
func mismatch(what string, src, dst int) error {
	return fmt.Errorf("the source holds %d %s but the destination %d after the copy", src, what, dst)
}

func registryEmpty(ctx context.Context, s store.Store) (bool, error) {
	empty := true
	err := s.View(ctx, func(tx store.Tx) error {
		r := tx.Registry()
		n, err := r.CountPersons()
		if err != nil || n > 0 {
			empty = false
			return err
		}
		ps, err := r.Places()
		if err != nil || len(ps) > 0 {
			empty = false
			return err
		}
		return r.Families(0, func(*registry.Family) (bool, error) { empty = false; return false, nil })
	})
	return empty, err
}

func copyRegistry(ctx context.Context, dst, src store.Store) (Counts, Skipped, error) {
	n, err := registry.Copy(ctx, store.RegistryOf(dst), store.RegistryOf(src))
	return Counts{
		{"registry", "persons", n.Persons},
		{"registry", "families", n.Families},
		{"registry", "events", n.Events},
		{"registry", "places", n.Places},
	}, nil, err
}
