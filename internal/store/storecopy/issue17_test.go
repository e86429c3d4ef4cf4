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
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/store/postgres"
	"github.com/sportello/sportello/internal/store/storecopy"
)

// The domains of issue 17 move with ids, times and states: an office's
// closure; a cancelled booking whose seat a later booking of the same
// person took, and a checked-in one; a request at version 3 with an
// attachment; a revoked delegation with its two uses; two reminder
// choices by different people at different times.
func TestCopyIssue17Domains(t *testing.T) {
	ctx := context.Background()
	src, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	day := time.Date(2026, time.March, 2, 9, 0, 0, 0, protocol.Rome)
	const mario, anna = "RSSMRA50B17A558W", "MRTMRA83T56A269B"
	office := appointment.Office{ID: "centro", Name: "Anagrafe centrale", Counters: []appointment.Counter{{Number: 1}, {Number: 2}},
		Calendars: []appointment.Calendar{{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{1, 2},
			Hours: []appointment.Hours{{Weekday: time.Monday, From: "08:30", To: "12:30"}}}}}
	booking := func(ref, cf string, start time.Time, created time.Time) *appointment.Booking {
		return &appointment.Booking{Ref: ref, OfficeID: "centro", Service: appointment.CIEIssue, Start: start, Minutes: 20,
			CF: cf, Name: "Persona " + cf, Channel: appointment.Kiosk, By: "dev-1", State: appointment.Booked, Created: created, Updated: created}
	}
	attachment := []byte("%PDF-1.7 contratto di locazione")
	err = src.Update(ctx, func(tx store.Tx) error {
		a := tx.Appointments()
		if err := a.PutOffice(&office); err != nil {
			return err
		}
		if err := a.PutClosure(&appointment.Closure{ID: "c1", OfficeID: "centro", From: registry.Date{Year: 2026, Month: 4, Day: 25},
			To: registry.Date{Year: 2026, Month: 4, Day: 25}, Reason: "Festa della Liberazione"}); err != nil {
			return err
		}
		// B1 cancelled; B2, the same person's later booking, took its seat.
		b1 := booking("B1", mario, day.Add(7*24*time.Hour), day)
		if err := a.Book(b1, []int{1}); err != nil {
			return err
		}
		b1.State, b1.Updated = appointment.Cancelled, day.Add(time.Hour)
		if err := a.Put(b1); err != nil {
			return err
		}
		if err := a.Book(booking("B2", mario, day.Add(7*24*time.Hour), day.Add(2*time.Hour)), []int{1, 2}); err != nil {
			return err
		}
		b3 := booking("B3", anna, day.Add(time.Hour), day.Add(-time.Hour))
		if err := a.Book(b3, []int{2}); err != nil {
			return err
		}
		b3.State, b3.CheckedIn = appointment.CheckedIn, day.Add(50*time.Minute)
		if err := a.Put(b3); err != nil {
			return err
		}

		q := tx.Requests()
		sum, err := q.PutAttachment(attachment)
		if err != nil {
			return err
		}
		r := &request.Request{ID: "R1", Kind: request.AddressChange, Protocol: "2026/0000042", Filed: day, SHA256: strings.Repeat("ab", 32),
			Channel: "kiosk", Actor: "device:k1", RequesterCF: mario, Persons: []string{mario}, Status: request.Filed,
			Attachments: []request.Attachment{{Name: "contratto.pdf", MediaType: "application/pdf", Size: int64(len(attachment)), SHA256: sum}},
			History:     []request.Event{{Time: day, Actor: "device:k1"}}, IdempotencyKey: "k1/1"}
		if err := q.Create(r); err != nil {
			return err
		}
		for _, st := range []request.Status{request.MoreInfo, request.Accepted} {
			r.Status = st
			if err := q.Put(r); err != nil {
				return err
			}
		}

		d := tx.Delegations()
		if err := d.Put(delegation.Delegation{ID: "D1", DelegatorCF: mario, DelegateCF: anna, Created: day,
			Until: registry.Date{Year: 2027, Month: 3, Day: 31}, Channel: "self_service"}); err != nil {
			return err
		}
		for i, ref := range []string{"cert-1", "cert-2"} {
			if err := d.RecordUse(delegation.Use{DelegationID: "D1", At: day.Add(time.Duration(i+1) * time.Hour), Service: "certificato residenza", Ref: ref, Channel: "kiosk"}); err != nil {
				return err
			}
		}
		if _, err := d.Revoke("D1", day.Add(24*time.Hour), "citizen:k1"); err != nil {
			return err
		}

		if err := tx.Reminders().SetPreference(mario, reminder.CIEExpiry, reminder.Email, "staff:m.bianchi", day); err != nil {
			return err
		}
		return tx.Reminders().SetPreference(anna, reminder.Appointment, reminder.None, "citizen:k2", day.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	dst, err := postgres.OpenStore(ctx, pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	n, _, err := storecopy.Copy(ctx, dst, src)
	if err != nil {
		t.Fatal(err)
	}
	got := n.String()
	for _, want := range []string{"appointments: 1 offices, 1 closures, 3 bookings", "requests: 1 requests, 1 attachments",
		"delegations: 1 delegations, 2 uses", "reminder preferences: 2 choices"} {
		if !strings.Contains(got, want) {
			t.Errorf("the counts say\n%s\nwant %q", got, want)
		}
	}
	err = dst.View(ctx, func(tx store.Tx) error {
		a := tx.Appointments()
		if b, err := a.Get("B1"); err != nil || b.State != appointment.Cancelled || b.Counter != 1 || !b.Updated.Equal(day.Add(time.Hour)) {
			t.Errorf("B1 reads back as %+v, %v", b, err)
		}
		if live, err := a.Day("centro", day.Add(7*24*time.Hour), day.Add(7*24*time.Hour+time.Minute)); err != nil || len(live) != 1 || live[0].Ref != "B2" || live[0].Counter != 1 {
			t.Errorf("the seat B1 released reads back held by %+v, %v; want B2 on counter 1", live, err)
		}
		if b, err := a.Get("B3"); err != nil || b.State != appointment.CheckedIn || !b.CheckedIn.Equal(day.Add(50*time.Minute)) {
			t.Errorf("B3 reads back as %+v, %v", b, err)
		}
		r, err := tx.Requests().ByKey("k1/1")
		if err != nil || r.ID != "R1" || r.Version != 3 || r.Status != request.Accepted || r.Protocol != "2026/0000042" || !r.Filed.Equal(day) {
			t.Errorf("request R1 reads back as %+v, %v", r, err)
		}
		if data, err := tx.Requests().Attachment(request.SumOf(attachment)); err != nil || string(data) != string(attachment) {
			t.Errorf("the attachment reads back as %q, %v", data, err)
		}
		d, err := tx.Delegations().Get("D1")
		if err != nil || d.Uses != 2 || !d.Revoked.Equal(day.Add(24*time.Hour)) || d.RevokedBy != "citizen:k1" {
			t.Errorf("D1 reads back as %+v, %v", d, err)
		}
		if us, err := tx.Delegations().Uses("D1"); err != nil || len(us) != 2 || us[1].Ref != "cert-2" {
			t.Errorf("D1's uses read back as %+v, %v", us, err)
		}
		p, err := tx.Reminders().Preferences(anna)
		if err != nil || p.Choice(reminder.Appointment) != reminder.None || p.By != "citizen:k2" || !p.Updated.Equal(day.Add(time.Hour)) {
			t.Errorf("anna's preferences read back as %+v, %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A stale desk copy stays stale after the move.
	err = dst.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Requests().Get("R1")
		if err != nil {
			return err
		}
		r.Version = 2
		return tx.Requests().Put(&r)
	})
	if !errors.Is(err, request.ErrStale) {
		t.Errorf("saving a copy of R1 at version 2 after the move: %v, want ErrStale", err)
	}
	if _, _, err := storecopy.Copy(ctx, dst, src); !errors.Is(err, storecopy.ErrNotEmpty) {
		t.Errorf("a second copy = %v, want ErrNotEmpty", err)
	}
}
