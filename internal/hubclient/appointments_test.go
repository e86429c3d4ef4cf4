package hubclient_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
)

// TestAppointmentsFromAKiosk books, lists and cancels from an enrolled
// self-service kiosk, the citizens identified by their CIE tap and PIN,
// against the hub's real handler; a slot that went first is a refusal
// with its reason.
func TestAppointmentsFromAKiosk(t *testing.T) {
	ctx := context.Background()
	d := issuancetest.New(t, 120, 5, now)
	st := bolt.New(d.Store)
	ops := operators.NewService(st, store.Tx.Operators, nil, clock, operators.Policy{Calendar: operators.Milan})
	appts := store.AppointmentsOf(st, clock)
	// One counter, Wednesdays 09:00–10:00: three slots of one seat.
	err := appts.PutOffice(ctx, &appointment.Office{ID: "centro", Name: "Anagrafe centrale", Counters: []appointment.Counter{{Number: 1}},
		Calendars: []appointment.Calendar{{Service: appointment.CIERenewal, Minutes: 20, Counters: []int{1},
			Hours: []appointment.Hours{{Weekday: time.Wednesday, From: "09:00", To: "10:00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, hubPriv, _ := ed25519.GenerateKey(nil)
	csca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&hubapi.Server{Store: d.Store, Desk: d.Service, Operators: ops, Clerks: ops, Now: clock, Log: slog.New(slog.DiscardHandler),
		CSCAs: []*x509.Certificate{csca}, Verifier: &httpsig.Verifier{Keys: ops, Clock: clock},
		HubSigner: &httpsig.Signer{Key: hubPriv, KeyID: "hub", Clock: clock}, Appointments: appts,
	}).Handler())
	t.Cleanup(srv.Close)
	o := &operators.Operator{LegalName: "Totem Municipio 1", PartitaIVA: "01199250158", Category: operators.Edicola,
		Address:   operators.Address{Street: "Piazza della Scala", Number: "2", CAP: "20121", City: "Milano", Lat: 45.4669, Lon: 9.1900},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 1, Day: 1}, FeeCents: 0, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	ops.SetStatus(o.ID, operators.Approved, "staff", "")
	ops.SetStatus(o.ID, operators.Active, "staff", "")
	code, _, err := ops.IssueCode(o.ID, "staff", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &hubclient.Client{Clock: clock}
	p, err := c.Enrol(ctx, srv.URL, code, "Totem")
	if err != nil {
		t.Fatal(err)
	}
	kiosk := hubclient.New(p)
	kiosk.Clock = clock

	cfs := d.Identifiable(t, 2)
	id := func(cf string) api.AppointmentIdentity {
		nis := issuancetest.CIENIS(t, d.Store, cf, now)
		return api.AppointmentIdentity{Channel: api.ChannelSelfService,
			Requester: *issuancetest.API(issuancetest.CIETap(t, virtual.Genuine, kiosk.Profile.KeyID, nis, clock(), true))}
	}

	offices, err := kiosk.AppointmentOffices(ctx)
	if err != nil || len(offices) != 1 || len(offices[0].Services) != 1 || offices[0].Services[0].Service != "cie_rinnovo" {
		t.Fatalf("offices: %+v %v", offices, err)
	}
	slots, err := kiosk.AppointmentSlots(ctx, "centro", "cie_rinnovo", "2026-04-08")
	if err != nil || len(slots.Slots) != 3 {
		t.Fatalf("slots: %+v %v", slots, err)
	}
	mine, err := kiosk.MyAppointments(ctx, id(cfs[0]))
	if err != nil || len(mine.Upcoming) != 0 || len(mine.Offer) == 0 {
		t.Fatalf("mine before: %+v %v", mine, err)
	}
	a, err := kiosk.BookAppointment(ctx, api.AppointmentBooking{AppointmentIdentity: id(cfs[0]), Office: "centro", Service: "cie_rinnovo", Start: slots.Slots[0].Start})
	if err != nil || a.QR != appointment.QRText(a.Ref) || a.Name != mine.Name {
		t.Fatalf("book: %+v %v", a, err)
	}
	_, err = kiosk.BookAppointment(ctx, api.AppointmentBooking{AppointmentIdentity: id(cfs[1]), Office: "centro", Service: "cie_rinnovo", Start: slots.Slots[0].Start})
	if !isReason(err, api.ReasonSlotTaken) {
		t.Errorf("the slot that went: %v, want %s", err, api.ReasonSlotTaken)
	}
	if _, err := kiosk.CancelAppointment(ctx, a.Ref, id(cfs[1])); !isReason(err, api.ReasonAppointmentNotYours) {
		t.Errorf("cancel by another: %v", err)
	}
	moved, err := kiosk.MoveAppointment(ctx, a.RefPrinted, api.AppointmentMove{AppointmentIdentity: id(cfs[0]), Office: "centro", Start: slots.Slots[1].Start})
	if err != nil || moved.Ref != a.Ref || !moved.Start.Equal(slots.Slots[1].Start) {
		t.Fatalf("move: %+v %v", moved, err)
	}
	if mine, err := kiosk.MyAppointments(ctx, id(cfs[0])); err != nil || len(mine.Upcoming) != 1 || mine.Upcoming[0].Ref != a.Ref {
		t.Errorf("mine after: %+v %v", mine, err)
	}
	if gone, err := kiosk.CancelAppointment(ctx, a.Ref, id(cfs[0])); err != nil || gone.State != "cancelled" {
		t.Errorf("cancel: %+v %v", gone, err)
	}
}
