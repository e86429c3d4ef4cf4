// Package remindertest is the suite every backend's reminder.Tx must pass
// (store.Tx.Reminders), with reminder.Enqueue and the CIE scan on top of
// it, so that PostgreSQL behaves as bbolt does.
package remindertest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/reminder"
	"github.com/sportello/sportello/internal/store"
)

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// CF makes a codice fiscale with a correct check character from its
// first 15.
func CF(first15 string) string { return first15 + string(codicefiscale.CheckChar(first15)) }

// Resident is a valid living resident of Milan with a CIE expiring on
// expires (none when zero) and e-mail address email.
func Resident(cf, surname string, expires registry.Date, email string) *registry.Person {
	p := &registry.Person{CF: cf, Surname: surname, GivenNames: "MARIA", Sex: registry.Female,
		BirthDate: registry.Date{Year: 1980, Month: time.March, Day: 4}, BirthPlace: "F205",
		Citizenships: []string{registry.Italy}, CivilStatus: registry.Single, Email: email,
		Residences: []registry.Residence{{Address: registry.Address{Street: "Via Giuseppe Verdi", Number: "12", CAP: "20121", Comune: "F205"},
			From: registry.Date{Year: 1980, Month: time.March, Day: 4}}}}
	if !expires.IsZero() {
		p.Documents = []registry.Document{{Kind: registry.CIE, Number: "CA" + cf[:5] + "AA",
			Issued: registry.Date{Year: expires.Year - 10, Month: expires.Month, Day: expires.Day}, Expires: expires}}
	}
	return p
}

func put(t *testing.T, s store.Store, ps ...*registry.Person) {
	t.Helper()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, p := range ps {
			if err := tx.Registry().PutPerson(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func prefs(t *testing.T, s store.Store, cf string) reminder.Preferences {
	t.Helper()
	var p reminder.Preferences
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		p, err = tx.Reminders().Preferences(cf)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func set(s store.Store, cf string, k reminder.Kind, c reminder.Choice, by string, at time.Time) error {
	return s.Update(context.Background(), func(tx store.Tx) error { return tx.Reminders().SetPreference(cf, k, c, by, at) })
}

func enqueue(t *testing.T, s store.Store, r reminder.Reminder) bool {
	t.Helper()
	var ok bool
	err := s.Update(context.Background(), func(tx store.Tx) (err error) {
		ok, err = reminder.Enqueue(tx, r, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func delegation(cf, act string) reminder.Reminder {
	return reminder.DelegationActed{DelegatorCF: cf, DelegationID: "D1", ActID: act, DelegateName: "ROSSI ANNA",
		What: "Certificato di residenza", At: t0, Place: "Edicola Centrale"}.Reminder()
}

// Run runs the suite; open gives a new, empty hub store closed by the
// test's cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	cfA, cfB := CF("BNCMRA80C44F205"), CF("VRDLGU70A01F205")
	t.Run("DefaultsAndChoices", func(t *testing.T) {
		s := open(t)
		p := prefs(t, s, cfA)
		if len(p.Choices) != 0 || p.Choice(reminder.CIEExpiry) != reminder.Both {
			t.Fatalf("a citizen who never chose: %+v, choice %s; want none and both", p, p.Choice(reminder.CIEExpiry))
		}
		if err := set(s, cfA, reminder.CIEExpiry, reminder.Email, "staff:anna", t0); err != nil {
			t.Fatal(err)
		}
		// Lower case is the same citizen.
		if err := set(s, "bncmra80c44f205"+cfA[15:], reminder.Appointment, reminder.None, "citizen:kiosk-1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := set(s, cfA, reminder.CIEExpiry, reminder.AppIO, "staff:bruno", t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		p = prefs(t, s, cfA)
		if p.Choice(reminder.CIEExpiry) != reminder.AppIO || p.Choice(reminder.Appointment) != reminder.None ||
			p.Choice(reminder.RequestStatus) != reminder.Both || len(p.Choices) != 2 {
			t.Fatalf("choices = %v", p.Choices)
		}
		if p.By != "citizen:kiosk-1" || !p.Updated.Equal(t0.Add(time.Hour)) {
			t.Errorf("last change by %q at %v, want citizen:kiosk-1 at %v", p.By, p.Updated, t0.Add(time.Hour))
		}
		if o := prefs(t, s, cfB); len(o.Choices) != 0 {
			t.Errorf("another citizen's choices: %v", o.Choices)
		}
	})
	t.Run("All", func(t *testing.T) {
		s := open(t)
		all := func() []reminder.Chosen {
			t.Helper()
			var cs []reminder.Chosen
			if err := s.View(context.Background(), func(tx store.Tx) (err error) { cs, err = tx.Reminders().All(); return err }); err != nil {
				t.Fatal(err)
			}
			return cs
		}
		if cs := all(); len(cs) != 0 {
			t.Errorf("every choice of an empty store: %v", cs)
		}
		for _, c := range []struct {
			cf string
			k  reminder.Kind
			c  reminder.Choice
			by string
			at time.Time
		}{
			{cfB, reminder.RequestStatus, reminder.None, "citizen:kiosk-2", t0},
			{cfA, reminder.CIEExpiry, reminder.Email, "staff:anna", t0.Add(time.Hour)},
			{cfA, reminder.Appointment, reminder.AppIO, "citizen:kiosk-1", t0.Add(2 * time.Hour)},
		} {
			if err := set(s, c.cf, c.k, c.c, c.by, c.at); err != nil {
				t.Fatal(err)
			}
		}
		// Each choice keeps its own author and time, by cf then kind.
		want := []reminder.Chosen{
			{CF: cfA, Kind: reminder.Appointment, Stored: reminder.Stored{Choice: reminder.AppIO, By: "citizen:kiosk-1", Updated: t0.Add(2 * time.Hour)}},
			{CF: cfA, Kind: reminder.CIEExpiry, Stored: reminder.Stored{Choice: reminder.Email, By: "staff:anna", Updated: t0.Add(time.Hour)}},
			{CF: cfB, Kind: reminder.RequestStatus, Stored: reminder.Stored{Choice: reminder.None, By: "citizen:kiosk-2", Updated: t0}},
		}
		got := all()
		if len(got) != len(want) {
			t.Fatalf("every choice: %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i].CF != want[i].CF || got[i].Kind != want[i].Kind || got[i].Choice != want[i].Choice || got[i].By != want[i].By || !got[i].Updated.Equal(want[i].Updated) {
				t.Errorf("choice %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	})
	t.Run("Refusals", func(t *testing.T) {
		s := open(t)
		for _, bad := range []struct {
			cf string
			k  reminder.Kind
			c  reminder.Choice
		}{{"SHORT", reminder.CIEExpiry, reminder.None}, {cfA, "birthday", reminder.None}, {cfA, reminder.CIEExpiry, "sms"}} {
			if err := set(s, bad.cf, bad.k, bad.c, "staff:anna", t0); !errors.Is(err, reminder.ErrInvalid) {
				t.Errorf("SetPreference(%q, %q, %q) = %v, want ErrInvalid", bad.cf, bad.k, bad.c, err)
			}
		}
		err := s.View(context.Background(), func(tx store.Tx) error {
			return tx.Reminders().SetPreference(cfA, reminder.CIEExpiry, reminder.None, "staff:anna", t0)
		})
		if err == nil {
			t.Error("a View recorded a preference")
		}
		boom := errors.New("boom")
		err = s.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.Reminders().SetPreference(cfA, reminder.CIEExpiry, reminder.None, "staff:anna", t0); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update = %v", err)
		}
		if p := prefs(t, s, cfA); len(p.Choices) != 0 {
			t.Errorf("a failed Update left %v", p.Choices)
		}
	})
	t.Run("ConcurrentKinds", func(t *testing.T) {
		// Two hubs (or two kiosks) recording two kinds of one citizen at
		// once keep both.
		s := open(t)
		var wg sync.WaitGroup
		errs := make([]error, len(reminder.Kinds))
		for i, k := range reminder.Kinds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = set(s, cfA, k, reminder.Email, "staff:anna", t0)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if p := prefs(t, s, cfA); len(p.Choices) != len(reminder.Kinds) {
			t.Errorf("choices = %v, want all %d kinds", p.Choices, len(reminder.Kinds))
		}
	})
	t.Run("EnqueueOnceWithChoice", func(t *testing.T) {
		s := open(t)
		put(t, s, Resident(cfA, "BIANCHI", registry.Date{}, "maria@example.org"))
		r := delegation(cfA, "C1")
		if !enqueue(t, s, r) {
			t.Fatal("a first reminder was not queued")
		}
		if enqueue(t, s, r) {
			t.Fatal("the same reminder was queued twice")
		}
		it, err := store.NoticesOf(s).Get(r.ID())
		if err != nil {
			t.Fatal(err)
		}
		if it.Message.Email != "maria@example.org" || it.Message.CF != cfA || len(it.Deliveries) != 0 {
			t.Errorf("queued %+v; want the registry's e-mail and both channels pending", it)
		}
		// E-mail only: App IO is skipped from the start, so no sender sends it.
		if err := set(s, cfA, reminder.DelegationUsed, reminder.Email, "citizen:kiosk-1", t0); err != nil {
			t.Fatal(err)
		}
		r2 := delegation(cfA, "C2")
		enqueue(t, s, r2)
		it, err = store.NoticesOf(s).Get(r2.ID())
		if err != nil {
			t.Fatal(err)
		}
		if d := it.Delivery("appio"); d.State != notify.Skipped {
			t.Errorf("App IO delivery %+v, want skipped", d)
		}
		if d := it.Delivery("email"); d.State != notify.Pending {
			t.Errorf("e-mail delivery %+v, want pending", d)
		}
		// None: nothing queued.
		if err := set(s, cfA, reminder.DelegationUsed, reminder.None, "citizen:kiosk-1", t0); err != nil {
			t.Fatal(err)
		}
		r3 := delegation(cfA, "C3")
		if enqueue(t, s, r3) {
			t.Error("a reminder the citizen turned off was queued")
		}
		if _, err := store.NoticesOf(s).Get(r3.ID()); !errors.Is(err, notify.ErrNotFound) {
			t.Errorf("Get = %v, want ErrNotFound", err)
		}
		// A bad reminder is refused and leaves nothing.
		bad := r
		bad.Key = ""
		err = s.Update(context.Background(), func(tx store.Tx) error { _, err := reminder.Enqueue(tx, bad, t0); return err })
		if err == nil {
			t.Error("a reminder without key was queued")
		}
	})
	t.Run("CIEScan", func(t *testing.T) {
		s := open(t)
		today := registry.DateOf(t0)
		in := func(days int) registry.Date { return registry.DateOf(t0.AddDate(0, 0, days)) }
		soon := Resident(cfA, "BIANCHI", in(30), "maria@example.org")
		edge := Resident(CF("NRIPLA60A41F205"), "NERI", in(reminder.CIEWindow), "")
		later := Resident(cfB, "VERDI", in(reminder.CIEWindow+1), "")
		gone := Resident(CF("GLLLRA75A41F205"), "GALLI", in(-1), "")
		dead := Resident(CF("MRTGNN40A01F205"), "MORTI", in(10), "")
		dead.DeathDate = registry.Date{Year: 2026, Month: time.January, Day: 2}
		renewed := Resident(CF("RNVLSA90A41F205"), "RINNOVI", in(20), "")
		renewed.Documents = append(renewed.Documents, registry.Document{Kind: registry.CIE, Number: "CA99999ZZ", Issued: today, Expires: in(3650)})
		put(t, s, soon, edge, later, gone, dead, renewed)
		scan := &reminder.Scan[store.Tx]{Store: s, Now: func() time.Time { return t0 },
			Sources: []reminder.Source[store.Tx]{reminder.CIEExpiringSource[store.Tx]("https://hub.example/appuntamenti/")}}
		n, err := scan.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("first scan queued %d, want 2 (in 30 days and in exactly %d)", n, reminder.CIEWindow)
		}
		if n, err := scan.RunOnce(context.Background()); err != nil || n != 0 {
			t.Errorf("second scan queued %d (%v), want 0", n, err)
		}
		items, err := store.NoticesOf(s).List()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, it := range items {
			got[it.Message.CF] = true
		}
		if !got[soon.CF] || !got[edge.CF] || len(got) != 2 {
			t.Errorf("reminded %v, want %s and %s", got, soon.CF, edge.CF)
		}
	})
	t.Run("AppointmentsTomorrow", func(t *testing.T) {
		// t0 is Saturday 5 December 2026, 11:00 in Rome: tomorrow is the
		// 6th, whatever the bookings' offices open on.
		s := open(t)
		rome := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, protocol.Rome) }
		office := &appointment.Office{ID: "centro", Name: "Anagrafe centrale", Address: "Via Larga 12",
			Counters: []appointment.Counter{{Number: 1}},
			Calendars: []appointment.Calendar{{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{1},
				Hours: []appointment.Hours{{Weekday: time.Sunday, From: "00:00", To: "23:40"}, {Weekday: time.Monday, From: "00:00", To: "23:40"}}}}}
		// One booking per person and service: each its own citizen.
		book := func(ref string, start time.Time, state appointment.State) *appointment.Booking {
			return &appointment.Booking{Ref: ref, OfficeID: "centro", Service: appointment.CIEIssue, Start: start, Minutes: 20,
				CF: CF("BNCMRA80C44" + map[string]string{"TOMORROW": "F205", "LATE": "F206", "TODAY": "F207", "AFTER": "F208", "GONE": "F209"}[ref]), Name: "BIANCHI MARIA", Channel: appointment.Kiosk, By: "dev-1", State: state, Created: t0, Updated: t0}
		}
		err := s.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.Appointments().PutOffice(office); err != nil {
				return err
			}
			for _, b := range []*appointment.Booking{book("TOMORROW", rome(6, 9), appointment.Booked), book("LATE", rome(6, 23), appointment.Booked),
				book("TODAY", rome(5, 15), appointment.Booked), book("AFTER", rome(7, 9), appointment.Booked)} {
				if err := tx.Appointments().Book(b, []int{1}); err != nil {
					return err
				}
			}
			gone := book("GONE", rome(6, 10), appointment.Booked)
			if err := tx.Appointments().Book(gone, []int{1}); err != nil {
				return err
			}
			gone.State = appointment.Cancelled
			return tx.Appointments().Put(gone)
		})
		if err != nil {
			t.Fatal(err)
		}
		scan := &reminder.Scan[store.Tx]{Store: s, Now: func() time.Time { return t0 },
			Sources: []reminder.Source[store.Tx]{reminder.AppointmentsTomorrowSource[store.Tx]}}
		if n, err := scan.RunOnce(context.Background()); err != nil || n != 2 {
			t.Fatalf("scan queued %d (%v), want 2: tomorrow's at 9 and 23, not today's, the day after's or the cancelled one", n, err)
		}
		if n, err := scan.RunOnce(context.Background()); err != nil || n != 0 {
			t.Errorf("second scan queued %d (%v), want 0", n, err)
		}
		items, err := store.NoticesOf(s).List()
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, it := range items {
			texts = append(texts, it.Message.Markdown)
		}
		if len(texts) != 2 || !strings.Contains(strings.Join(texts, ""), "06/12/2026 alle 09:00") ||
			!strings.Contains(texts[0], "Anagrafe centrale") || !strings.Contains(strings.Join(texts, ""), "23:00") {
			t.Errorf("reminders:\n%s", strings.Join(texts, "\n---\n"))
		}
	})
	t.Run("AppointmentMissedWhileDown", func(t *testing.T) {
		// The hub was stopped all of Saturday 5 December, when Sunday's
		// reminders were due; it comes back on Sunday at 7:00 in Rome.
		s := open(t)
		rome := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, protocol.Rome) }
		office := &appointment.Office{ID: "centro", Name: "Anagrafe centrale", Address: "Via Larga 12",
			Counters: []appointment.Counter{{Number: 1}},
			Calendars: []appointment.Calendar{{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{1},
				Hours: []appointment.Hours{{Weekday: time.Sunday, From: "00:00", To: "23:40"}, {Weekday: time.Monday, From: "00:00", To: "23:40"}}}}}
		book := func(ref, cf string, start, created time.Time) *appointment.Booking {
			return &appointment.Booking{Ref: ref, OfficeID: "centro", Service: appointment.CIEIssue, Start: start, Minutes: 20,
				CF: CF("BNCMRA80C44" + cf), Name: "BIANCHI MARIA", Channel: appointment.Kiosk, By: "dev-1", State: appointment.Booked, Created: created, Updated: created}
		}
		missed := book("MISSED", "F205", rome(6, 10), rome(2, 12))      // due Saturday, not sent
		begun := book("BEGUN", "F206", rome(6, 6), rome(2, 12))         // began before the hub came back
		lastMinute := book("LASTMIN", "F207", rome(6, 15), rome(5, 18)) // booked Saturday evening: never reminded
		monday := book("MONDAY", "F208", rome(7, 9), rome(2, 12))       // tomorrow's, as every day
		err := s.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.Appointments().PutOffice(office); err != nil {
				return err
			}
			for _, b := range []*appointment.Booking{missed, begun, lastMinute, monday} {
				if err := tx.Appointments().Book(b, []int{1}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		now := rome(6, 7)
		scan := &reminder.Scan[store.Tx]{Store: s, Now: func() time.Time { return now },
			Sources: []reminder.Source[store.Tx]{reminder.AppointmentsTomorrowSource[store.Tx]}}
		if n, err := scan.RunOnce(context.Background()); err != nil || n != 2 {
			t.Fatalf("the scan at restart queued %d (%v), want 2: the missed one of today and tomorrow's", n, err)
		}
		// Later that day, and again before the appointment: not twice.
		now = rome(6, 9)
		if n, err := scan.RunOnce(context.Background()); err != nil || n != 0 {
			t.Errorf("a second scan queued %d (%v), want 0", n, err)
		}
		items, err := store.NoticesOf(s).List()
		if err != nil {
			t.Fatal(err)
		}
		var today *notify.Item
		for i := range items {
			if items[i].Message.CF == missed.CF {
				today = &items[i]
			}
		}
		if today == nil || !strings.Contains(today.Message.Markdown, "di oggi") || !today.Expires.Equal(missed.Start) {
			t.Fatalf("the missed reminder: %+v; want today's wording, expiring at the appointment", today)
		}
		// Once the appointment began nothing is queued for it any more.
		now = rome(6, 11)
		s2 := open(t)
		if err := s2.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.Appointments().PutOffice(office); err != nil {
				return err
			}
			return tx.Appointments().Book(book("MISSED", "F205", rome(6, 10), rome(2, 12)), []int{1})
		}); err != nil {
			t.Fatal(err)
		}
		scan.Store = s2
		if n, err := scan.RunOnce(context.Background()); err != nil || n != 0 {
			t.Errorf("after the appointment began the scan queued %d (%v)", n, err)
		}
	})
}
