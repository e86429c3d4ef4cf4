package hubapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
)

// TestDelegateAppointmentsOverHTTP: through the signed API a delegate,
// identified as usual, lists, books, moves and cancels the delegator's
// appointments (for_cf) when a delegation in force grants the
// appointments scope; each act is recorded under the delegation, in the
// audit log under both names, and notified to the delegator. Without a
// delegation, beyond its scope, or once it is revoked: 403 with the
// catalogued reasons, and nothing recorded.
func TestDelegateAppointmentsOverHTTP(t *testing.T) {
	st := openBoltHub(t)
	cfs := apptCity(t, st, 4)
	p, q, stranger, other := cfs[0], cfs[1], cfs[2], cfs[3]
	srv := apptHub(t, st)
	c := newApptClient(srv.URL)
	ctx := context.Background()
	g := delegation.Delegation{ID: "D00000000000000B1", DelegatorCF: p, DelegateCF: q, Scope: delegation.Scope{Appointments: true},
		Until: registry.DateOf(apptNow.AddDate(0, 2, 0)), Created: apptNow, Channel: "office"}
	narrow := delegation.Delegation{ID: "D00000000000000B2", DelegatorCF: other, DelegateCF: q, Scope: delegation.Scope{Requests: []string{"historical"}},
		Until: registry.DateOf(apptNow.AddDate(0, 2, 0)), Created: apptNow, Channel: "office"}
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Delegations().Put(g); err != nil {
			return err
		}
		return tx.Delegations().Put(narrow)
	})
	if err != nil {
		t.Fatal(err)
	}
	uses := func() int {
		t.Helper()
		var us []delegation.Use
		if err := st.View(ctx, func(tx store.Tx) (err error) { us, err = tx.Delegations().Uses(g.ID); return err }); err != nil {
			t.Fatal(err)
		}
		return len(us)
	}
	forP := who(q)
	forP.ForCF = strings.ToLower(p)
	slots := c.slots(t, "2026-12-14").Slots

	stc, body := c.do(t, "POST", api.PathAppointments, api.AppointmentBooking{AppointmentIdentity: forP, Office: "centro", Service: "cie_rilascio", Start: slots[0].Start})
	var a api.Appointment
	if json.Unmarshal(body, &a); stc != http.StatusCreated || a.Ref == "" {
		t.Fatalf("the delegate's booking: %d %s", stc, body)
	}
	bs, err := store.AppointmentsOf(st, nil).ByPerson(ctx, p)
	if err != nil || len(bs) != 1 || bs[0].Ref != a.Ref || bs[0].RequesterCF != "" {
		t.Fatalf("the delegator's bookings: %+v (%v), want %s, with no requester of its own", bs, err, a.Ref)
	}
	if n := uses(); n != 1 {
		t.Errorf("uses after the booking: %d, want 1", n)
	}
	es, err := store.AuditLog{S: st}.Search(audit.Query{Subject: q}, 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, e := range es {
		seen = seen || e.Request == a.Ref && strings.Contains(e.Data, p)
	}
	if !seen {
		t.Errorf("no audit entry under the delegate's name for booking %s: %+v", a.Ref, es)
	}
	r := reminder.Reminder{Kind: reminder.DelegationUsed, Key: g.ID + "/" + a.Ref + "-prenotazione-" + strconv.FormatInt(apptNow.Unix(), 10)}
	if it, err := store.NoticesOf(st).Get(r.ID()); err != nil || it.Message.CF != p {
		t.Errorf("the delegator's notice %s: %+v (%v)", r.ID(), it, err)
	}

	// The delegate's kiosk lists the delegator's appointments.
	stc, body = c.do(t, "POST", api.PathAppointmentsMine, forP)
	var mine api.AppointmentsOfPerson
	if json.Unmarshal(body, &mine); stc != http.StatusOK || len(mine.Upcoming) != 1 || mine.Upcoming[0].Ref != a.Ref {
		t.Errorf("the delegator's appointments to the delegate: %d %s", stc, body)
	}
	// Without the delegation, nobody acts for p; a delegation for other
	// services does not cover appointments.
	strangerForP := who(stranger)
	strangerForP.ForCF = p
	if stc, body := c.do(t, "POST", api.PathAppointments, api.AppointmentBooking{AppointmentIdentity: strangerForP, Office: "centro", Service: "cie_rilascio", Start: slots[1].Start}); stc != http.StatusForbidden || reasonOf(body) != delegation.ReasonNotFound {
		t.Errorf("a booking for another without a delegation: %d %s", stc, body)
	}
	if stc, body := c.do(t, "POST", api.PathAppointmentsMine, strangerForP); stc != http.StatusForbidden || reasonOf(body) != delegation.ReasonNotFound {
		t.Errorf("another's appointments without a delegation: %d %s", stc, body)
	}
	forOther := who(q)
	forOther.ForCF = other
	if stc, body := c.do(t, "POST", api.PathAppointments, api.AppointmentBooking{AppointmentIdentity: forOther, Office: "centro", Service: "cie_rilascio", Start: slots[1].Start}); stc != http.StatusForbidden || reasonOf(body) != delegation.ReasonOutOfScope {
		t.Errorf("a booking under a delegation for requests only: %d %s", stc, body)
	}
	// The delegate moves it for p; in their own name they may not.
	if stc, body := c.do(t, "POST", "/api/v1/appointments/"+a.Ref+"/move", api.AppointmentMove{AppointmentIdentity: forP, Office: "centro", Start: slots[2].Start}); stc != http.StatusOK {
		t.Fatalf("the delegate's move: %d %s", stc, body)
	}
	if n := uses(); n != 2 {
		t.Errorf("uses after the move: %d, want 2", n)
	}
	if stc, body := c.do(t, "POST", "/api/v1/appointments/"+a.Ref+"/cancel", who(q)); stc != http.StatusForbidden || reasonOf(body) != api.ReasonAppointmentNotYours {
		t.Errorf("the delegate cancelling in their own name: %d %s", stc, body)
	}
	// Revoked: the delegate can no longer cancel it; p still can.
	if err := st.Update(ctx, func(tx store.Tx) error { _, err := tx.Delegations().Revoke(g.ID, apptNow, "citizen"); return err }); err != nil {
		t.Fatal(err)
	}
	if stc, body := c.do(t, "POST", "/api/v1/appointments/"+a.Ref+"/cancel", forP); stc != http.StatusForbidden || reasonOf(body) != delegation.ReasonNotFound {
		t.Errorf("a cancellation under a revoked delegation: %d %s", stc, body)
	}
	if n := uses(); n != 2 {
		t.Errorf("uses after the refusals: %d, want 2", n)
	}
	if stc, body := c.do(t, "POST", "/api/v1/appointments/"+a.Ref+"/cancel", who(p)); stc != http.StatusOK {
		t.Errorf("the delegator's own cancellation: %d %s", stc, body)
	}
}
