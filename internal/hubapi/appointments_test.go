package hubapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/pgtest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/store/postgres"
	"github.com/sportello/sportello/internal/synth"
)

var pg pgtest.Shared

// apptPub and apptPriv are device "dev-1"'s key in these tests.
var apptPub, apptPriv, _ = ed25519.GenerateKey(nil)

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// apptNow is the hubs' clock: Monday 7 December 2026, 08:00 in Rome.
var apptNow = time.Date(2026, 12, 7, 8, 0, 0, 0, appointment.Rome)

// apptOffice books the CIE on two counters, Mondays 09:00–10:00: three
// slots of 20 minutes, six seats a Monday.
func apptOffice() *appointment.Office {
	return &appointment.Office{ID: "centro", Name: "Anagrafe Centrale", Address: "Via Larga 12",
		Counters: []appointment.Counter{{Number: 1}, {Number: 2}},
		Calendars: []appointment.Calendar{{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{1, 2},
			Hours: []appointment.Hours{{Weekday: time.Monday, From: "09:00", To: "10:00"}}}}}
}

// apptCity seeds a synthetic registry into st, puts the office and
// returns the codici fiscali of n living persons.
func apptCity(t *testing.T, st store.Store, n int) []string {
	t.Helper()
	cfg := synth.Config{Persons: 3 * n, Seed: 17, Today: registry.DateOf(apptNow)}
	if _, err := synth.Seed(context.Background(), store.RegistryOf(st), cfg, nil); err != nil {
		t.Fatal(err)
	}
	var cfs []string
	err := synth.Generate(cfg, func(b *synth.Batch) error {
		for _, p := range b.Persons {
			if p.Alive() && len(cfs) < n {
				cfs = append(cfs, p.CF)
			}
		}
		return nil
	})
	if err != nil || len(cfs) < n {
		t.Fatalf("%d living persons, want %d: %v", len(cfs), n, err)
	}
	if err := st.Update(context.Background(), func(tx store.Tx) error { return tx.Appointments().PutOffice(apptOffice()) }); err != nil {
		t.Fatal(err)
	}
	return cfs
}

// apptHub serves the API over st for device "dev-1" holding priv's key.
// The citizen is identified by the codice fiscale of document evidence
// looked up in st's registry: identification has its own tests; these
// are about booking.
func apptHub(t *testing.T, st store.Store) *httptest.Server {
	t.Helper()
	clock := func() time.Time { return apptNow }
	s := &Server{Store: store.RegistryOf(st), Now: clock, Log: slog.New(slog.DiscardHandler),
		Verifier:     &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "dev-1", Key: apptPub}, Clock: clock},
		Appointments: store.AppointmentsOf(st, clock),
		IdentifyRequester: func(r *http.Request, ev api.RequesterEvidence, _ bool) (*registry.Person, error) {
			var p *registry.Person
			err := st.View(r.Context(), func(tx store.Tx) (err error) { p, err = tx.Registry().PersonByCF(ev.CF); return err })
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrIdentification, err)
			}
			return p, nil
		},
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}

type apptClient struct {
	url    string
	signer *httpsig.Signer
}

func newApptClient(url string) apptClient {
	return apptClient{url: url, signer: &httpsig.Signer{Key: apptPriv, KeyID: "dev-1", Clock: func() time.Time { return apptNow }}}
}

func (c apptClient) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, c.url+path, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, out := send(t, req, c.signer, b)
	return resp.StatusCode, out
}

func who(cf string) api.AppointmentIdentity {
	return api.AppointmentIdentity{Channel: api.ChannelCounter, Requester: api.RequesterEvidence{Method: "document", CF: cf}}
}

func (c apptClient) slots(t *testing.T, day string) api.AppointmentSlots {
	t.Helper()
	st, body := c.do(t, "GET", api.PathAppointmentSlots+"?office=centro&service=cie_rilascio&day="+day, nil)
	var out api.AppointmentSlots
	if st != http.StatusOK || json.Unmarshal(body, &out) != nil {
		t.Fatalf("slots: %d %s", st, body)
	}
	return out
}

func (c apptClient) book(t *testing.T, cf string, start time.Time) (int, api.Appointment, string) {
	t.Helper()
	st, body := c.do(t, "POST", api.PathAppointments, api.AppointmentBooking{AppointmentIdentity: who(cf), Office: "centro", Service: "cie_rilascio", Start: start})
	var a api.Appointment
	json.Unmarshal(body, &a)
	return st, a, reasonOf(body)
}

func openBoltHub(t *testing.T) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestAppointmentsOverHTTP books, moves and cancels through the signed
// API, with the refusals a kiosk shows.
func TestAppointmentsOverHTTP(t *testing.T) {
	st := openBoltHub(t)
	cfs := apptCity(t, st, 3)
	srv := apptHub(t, st)
	c := newApptClient(srv.URL)

	stc, body := c.do(t, "GET", api.PathAppointmentOffices, nil)
	if stc != http.StatusOK || !strings.Contains(string(body), `"cie_rilascio"`) {
		t.Fatalf("offices: %d %s", stc, body)
	}
	if s := c.slots(t, "2026-12-08"); s.Closed != "Immacolata Concezione" || len(s.Slots) != 0 {
		t.Errorf("8 December: %+v, want closed for the holiday", s)
	}
	s := c.slots(t, "2026-12-14")
	if len(s.Slots) != 3 || s.Slots[0].Free != 2 {
		t.Fatalf("Monday 14: %+v, want three slots of two counters", s)
	}
	first := s.Slots[0].Start
	stc, a, reason := c.book(t, cfs[0], first)
	if stc != http.StatusCreated || a.Counter != "Sportello 1" || !strings.HasPrefix(a.QR, appointment.QRPrefix) || len(a.Ref) != 8 {
		t.Fatalf("book: %d %s %+v", stc, reason, a)
	}
	// Sent again (its answer lost): the same booking.
	if stc, again, _ := c.book(t, cfs[0], first); stc != http.StatusOK || again.Ref != a.Ref {
		t.Errorf("the same booking again: %d %+v, want 200 and %s", stc, again, a.Ref)
	}
	// Another slot for the same service: one at a time.
	if stc, _, reason := c.book(t, cfs[0], s.Slots[1].Start); stc != http.StatusConflict || reason != api.ReasonAppointmentAlreadyBooked {
		t.Errorf("a second booking of the service: %d %s", stc, reason)
	}
	if stc, _, reason := c.book(t, cfs[1], first.Add(7*time.Minute)); stc != http.StatusUnprocessableEntity || reason != api.ReasonAppointmentNotASlot {
		t.Errorf("a time between slots: %d %s", stc, reason)
	}
	if stc, b, _ := c.book(t, cfs[1], first); stc != http.StatusCreated || b.Counter != "Sportello 2" {
		t.Errorf("the second counter: %d %+v", stc, b)
	}
	if stc, _, reason := c.book(t, cfs[2], first); stc != http.StatusConflict || reason != api.ReasonSlotTaken {
		t.Errorf("the full slot: %d %s, want 409 %s", stc, reason, api.ReasonSlotTaken)
	}
	// Someone else cannot cancel or move it.
	if stc, body := c.do(t, "POST", "/api/v1/appointments/"+a.Ref+"/cancel", who(cfs[2])); stc != http.StatusForbidden || reasonOf(body) != api.ReasonAppointmentNotYours {
		t.Errorf("cancel by another: %d %s", stc, body)
	}
	// The person moves it (the printed form of the reference will do), then
	// cancels it; its counter is free again.
	move := api.AppointmentMove{AppointmentIdentity: who(cfs[0]), Office: "centro", Start: s.Slots[2].Start}
	stc, body = c.do(t, "POST", "/api/v1/appointments/"+strings.ToLower(a.RefPrinted)+"/move", move)
	var moved api.Appointment
	if json.Unmarshal(body, &moved); stc != http.StatusOK || moved.Ref != a.Ref || !moved.Start.Equal(s.Slots[2].Start) {
		t.Fatalf("move: %d %s", stc, body)
	}
	stc, body = c.do(t, "POST", api.PathAppointmentsMine, who(cfs[0]))
	var mine api.AppointmentsOfPerson
	if json.Unmarshal(body, &mine); stc != http.StatusOK || len(mine.Upcoming) != 1 || mine.Upcoming[0].Ref != a.Ref || len(mine.Offer) == 0 {
		t.Errorf("mine: %d %s", stc, body)
	}
	if stc, body := c.do(t, "POST", "/api/v1/appointments/"+a.Ref+"/cancel", who(cfs[0])); stc != http.StatusOK || !strings.Contains(string(body), `"cancelled"`) {
		t.Errorf("cancel: %d %s", stc, body)
	}
	if stc, body := c.do(t, "POST", "/api/v1/appointments/"+a.Ref+"/cancel", who(cfs[0])); stc != http.StatusConflict || reasonOf(body) != api.ReasonAppointmentNotOpen {
		t.Errorf("cancel again: %d %s", stc, body)
	}
	if got := c.slots(t, "2026-12-14"); got.Slots[0].Free != 1 || got.Slots[2].Free != 2 {
		t.Errorf("after the move and the cancellation: %+v", got.Slots)
	}
	// Unsigned, nothing.
	req, _ := http.NewRequest("GET", srv.URL+api.PathAppointmentOffices, nil)
	if resp, _ := send(t, req, nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %d", resp.StatusCode)
	}
}

// race has 100 clients book the last seats of a Monday at once through
// the hubs: exactly as many get a confirmation as there were seats, every
// other a 409 appointment_slot_taken, and no seat is held twice.
func race(t *testing.T, stores []store.Store, urls []string, cfs []string) {
	t.Helper()
	a := store.AppointmentsOf(stores[0], func() time.Time { return apptNow })
	day := registry.Date{Year: 2026, Month: time.December, Day: 14}
	var clients []apptClient
	for _, u := range urls {
		clients = append(clients, newApptClient(u))
	}
	av, err := a.Available(context.Background(), "centro", appointment.CIEIssue, day)
	if err != nil || len(av.Slots) != 3 {
		t.Fatalf("slots: %+v %v", av, err)
	}
	// Two seats are taken before the race: four are left.
	for i := range 2 {
		if _, err := a.Book(context.Background(), appointment.Request{Office: "centro", Service: appointment.CIEIssue,
			Start: av.Slots[i].Start, CF: cfs[i], By: appointment.Actor{Channel: appointment.Console, Audit: audit.Actor{Kind: audit.Staff, ID: "sportello.anagrafe"}}}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 100
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     []string
		refused int
		other   []string
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[i%len(clients)]
			cf := cfs[2+i]
			<-start
			// Each client tries the slots in turn, from its own, until one
			// books or every one is refused.
			for k := range 3 {
				sl := av.Slots[(i+k)%3].Start
				st, body := c.do(t, "POST", api.PathAppointments, api.AppointmentBooking{AppointmentIdentity: who(cf), Office: "centro", Service: "cie_rilascio", Start: sl})
				mu.Lock()
				switch {
				case st == http.StatusCreated:
					var ap api.Appointment
					json.Unmarshal(body, &ap)
					won = append(won, ap.Ref)
					mu.Unlock()
					return
				case st == http.StatusConflict && reasonOf(body) == api.ReasonSlotTaken:
					refused++
				default:
					other = append(other, fmt.Sprintf("%d %s", st, body))
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(other) > 0 {
		t.Errorf("%d unexpected answers, the first: %s", len(other), other[0])
	}
	if len(won) != 4 {
		t.Errorf("%d confirmations for the last 4 seats", len(won))
	}
	if refused < (n-4)*3-8 {
		t.Errorf("%d refusals", refused)
	}
	bs, err := a.Day(context.Background(), "centro", day)
	if err != nil {
		t.Fatal(err)
	}
	seats := map[string]string{}
	for _, b := range bs {
		k := fmt.Sprintf("%s/%d", b.Start.In(appointment.Rome).Format("15:04"), b.Counter)
		if seats[k] != "" {
			t.Errorf("seat %s held by %s and %s", k, seats[k], b.Ref)
		}
		seats[k] = b.Ref
	}
	if len(bs) != 6 || len(seats) != 6 {
		t.Errorf("the Monday holds %d bookings on %d seats, want 6 on 6", len(bs), len(seats))
	}
	for _, sl := range clients[len(clients)-1].slots(t, day.String()).Slots {
		if sl.Free != 0 {
			t.Errorf("slot %s still shows %d free", sl.Start, sl.Free)
		}
	}
}

// TestHundredClientsLastSeatsBolt is the race on one hub's bbolt file.
func TestHundredClientsLastSeatsBolt(t *testing.T) {
	st := openBoltHub(t)
	cfs := apptCity(t, st, 102)
	srv := apptHub(t, st)
	race(t, []store.Store{st}, []string{srv.URL}, cfs)
}

// TestHundredClientsLastSeatsTwoHubsPostgres is the race through two
// hubs, each with its own store, on one PostgreSQL database.
func TestHundredClientsLastSeatsTwoHubsPostgres(t *testing.T) {
	conn := pg.Database(t)
	var stores []store.Store
	var urls []string
	for range 2 {
		st, err := postgres.OpenStore(context.Background(), conn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	cfs := apptCity(t, stores[0], 102)
	for _, st := range stores {
		urls = append(urls, apptHub(t, st).URL)
	}
	race(t, stores, urls, cfs)
}
