package storecopy_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/store/postgres"
	"github.com/sportello/sportello/internal/store/storecopy"
)

// A source holding records of a domain the copy does not move yet is
// refused before anything is written, each such domain named with its
// count; the destination stays empty, so a later release can copy into it.
func TestCopyRefusesUnmovedDomains(t *testing.T) {
	ctx := context.Background()
	src, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	day := time.Date(2026, time.March, 2, 9, 0, 0, 0, protocol.Rome)
	err = src.Update(ctx, func(tx store.Tx) error {
		for _, id := range []string{"D1", "D2"} {
			if err := tx.Delegations().Put(delegation.Delegation{ID: id, DelegatorCF: "RSSMRA50B17A558W", DelegateCF: "BNCLRA80A41F205X", Created: day}); err != nil {
				return err
			}
		}
		for _, k := range []reminder.Kind{reminder.CIEExpiry, reminder.Appointment, reminder.RequestStatus} {
			if err := tx.Reminders().SetPreference("RSSMRA50B17A558W", k, reminder.Email, "staff:m.bianchi", day); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := postgres.OpenStore(ctx, pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	_, _, err = storecopy.Copy(ctx, dst, src)
	if !errors.Is(err, storecopy.ErrUnmoved) {
		t.Fatalf("copying a source with delegations and reminder preferences = %v, want ErrUnmoved", err)
	}
	for _, want := range []string{"2 delegations", "3 reminder preferences"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "bookings") || strings.Contains(err.Error(), "requests") {
		t.Errorf("the refusal %q names a domain the source does not hold", err)
	}
	if err := dst.View(ctx, func(tx store.Tx) error {
		ds, err := tx.Delegations().All()
		if err != nil || len(ds) != 0 {
			t.Errorf("the destination holds delegations %v, %v after the refusal", ds, err)
		}
		as, err := tx.Staff().Accounts()
		if err != nil || len(as) != 0 {
			t.Errorf("the destination holds staff %v, %v after the refusal", as, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Offices alone are configuration and move.
	src2, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	office := appointment.Office{ID: "anagrafe-centrale", Name: "Anagrafe centrale", Counters: []appointment.Counter{{Number: 1}}}
	if err := src2.Update(ctx, func(tx store.Tx) error { return tx.Appointments().PutOffice(&office) }); err != nil {
		t.Fatal(err)
	}
	n, _, err := storecopy.Copy(ctx, dst, src2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(n.String(), "appointments: 1 offices") {
		t.Errorf("the counts say\n%s\nwant 1 office", n)
	}
}
