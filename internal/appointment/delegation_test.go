package appointment_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/synth"
)

// now is Monday 7 December 2026, 08:00 in Rome.
var now = time.Date(2026, 12, 7, 8, 0, 0, 0, appointment.Rome)

func reason(err error) string {
	var f *fault.Error
	if errors.As(err, &f) {
		return f.Reason
	}
	return ""
}

// TestDelegateActsOnAppointments: on the service, a delegate books,
// moves and cancels the delegator's appointment only under a delegation
// in force granting the appointments scope; a delegation for other
// services is delegation_out_of_scope, none (or a revoked one)
// delegation_not_found, and each act is written, in its transaction,
// under the delegation and in the audit log under both names.
func TestDelegateActsOnAppointments(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := synth.Config{Persons: 12, Seed: 17, Today: registry.DateOf(now)}
	if _, err := synth.Seed(ctx, store.RegistryOf(st), cfg, nil); err != nil {
		t.Fatal(err)
	}
	var cfs []string
	synth.Generate(cfg, func(b *synth.Batch) error {
		for _, p := range b.Persons {
			if p.Alive() {
				cfs = append(cfs, p.CF)
			}
		}
		return nil
	})
	if len(cfs) < 3 {
		t.Fatalf("%d living persons", len(cfs))
	}
	p, q, other := cfs[0], cfs[1], cfs[2]
	office := &appointment.Office{ID: "centro", Name: "Anagrafe Centrale", Counters: []appointment.Counter{{Number: 1}},
		Calendars: []appointment.Calendar{{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{1},
			Hours: []appointment.Hours{{Weekday: time.Monday, From: "09:00", To: "10:00"}}}}}
	g := delegation.Delegation{ID: "D00000000000000C1", DelegatorCF: p, DelegateCF: q, Scope: delegation.Scope{Appointments: true},
		Until: registry.DateOf(now.AddDate(0, 1, 0)), Created: now, Channel: "office"}
	narrow := delegation.Delegation{ID: "D00000000000000C2", DelegatorCF: other, DelegateCF: q, Scope: delegation.Scope{Certificates: []string{"residenza"}},
		Until: registry.DateOf(now.AddDate(0, 1, 0)), Created: now, Channel: "office"}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Appointments().PutOffice(office); err != nil {
			return err
		}
		if err := tx.Delegations().Put(g); err != nil {
			return err
		}
		return tx.Delegations().Put(narrow)
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := store.AppointmentsOf(st, func() time.Time { return now })
	by := appointment.Actor{Audit: audit.Actor{Kind: audit.Device, ID: "dev-1"}, Channel: appointment.Shop, ForCF: p}
	monday := time.Date(2026, 12, 14, 9, 0, 0, 0, appointment.Rome)

	b, err := svc.Book(ctx, appointment.Request{Office: "centro", Service: appointment.CIEIssue, Start: monday, CF: q, RequesterCF: q, By: by})
	if err != nil || b.CF != p || b.RequesterCF != "" {
		t.Fatalf("the delegate's booking: %+v (%v), want %s's with no requester", b, err, p)
	}
	if _, err := svc.Move(ctx, b.Ref, q, "centro", monday.Add(20*time.Minute), by); err != nil {
		t.Fatalf("the delegate's move: %v", err)
	}
	var uses []delegation.Use
	if err := st.View(ctx, func(tx store.Tx) (err error) { uses, err = tx.Delegations().Uses(g.ID); return err }); err != nil || len(uses) != 2 || uses[0].Ref != b.Ref {
		t.Fatalf("the delegation's uses: %+v (%v), want the booking and the move", uses, err)
	}
	for _, cf := range []string{p, q} {
		es, err := store.AuditLog{S: st}.Search(audit.Query{Subject: cf}, 20)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Request == b.Ref && strings.Contains(e.Purpose, g.ID) {
				n++
			}
		}
		if n != 2 {
			t.Errorf("audit entries of %s naming the delegation: %d, want 2 (%+v)", cf, n, es)
		}
	}

	narrowBy := by
	narrowBy.ForCF = other
	if _, err := svc.Book(ctx, appointment.Request{Office: "centro", Service: appointment.CIEIssue, Start: monday, CF: q, By: narrowBy}); reason(err) != delegation.ReasonOutOfScope {
		t.Errorf("a booking under a delegation for certificates: %v, want %s", err, delegation.ReasonOutOfScope)
	}
	if _, err := svc.Cancel(ctx, b.Ref, other, by); reason(err) != delegation.ReasonNotFound {
		t.Errorf("a cancellation by someone with no delegation: %v, want %s", err, delegation.ReasonNotFound)
	}
	if err := st.Update(ctx, func(tx store.Tx) error { _, err := tx.Delegations().Revoke(g.ID, now, "citizen"); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Cancel(ctx, b.Ref, q, by); reason(err) != delegation.ReasonNotFound {
		t.Errorf("a cancellation under a revoked delegation: %v, want %s", err, delegation.ReasonNotFound)
	}
	if got, err := svc.Get(ctx, b.Ref); err != nil || got.State != appointment.Booked {
		t.Errorf("after the refusals: %+v (%v), want still booked", got, err)
	}
}
