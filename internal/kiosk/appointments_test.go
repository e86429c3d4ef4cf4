package kiosk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
	"github.com/sportello/sportello/internal/synth"
	"github.com/sportello/sportello/printer/escpos"
	"github.com/sportello/sportello/printer/receipt"
)

// signedHub is AppointmentHub over the signed API, as the kiosk's client
// sends it, without the enrolment the client's own tests cover.
type signedHub struct {
	url    string
	signer *httpsig.Signer
}

func (h signedHub) do(ctx context.Context, method, path string, body, out any) error {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, h.url+path, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := h.signer.SignRequest(req, b); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var p struct{ Reason, Message string }
		json.Unmarshal(data, &p)
		return &api.Refusal{Status: resp.StatusCode, Reason: p.Reason, Message: p.Message}
	}
	return json.Unmarshal(data, out)
}

func (h signedHub) AppointmentSlots(ctx context.Context, office, service, day string) (*api.AppointmentSlots, error) {
	var out api.AppointmentSlots
	q := url.Values{"office": {office}, "service": {service}, "day": {day}}
	return &out, h.do(ctx, "GET", api.PathAppointmentSlots+"?"+q.Encode(), nil, &out)
}

func (h signedHub) BookAppointment(ctx context.Context, b api.AppointmentBooking) (*api.Appointment, error) {
	var out api.Appointment
	return &out, h.do(ctx, "POST", api.PathAppointments, b, &out)
}

// TestBookSlotGone: two kiosks book the last seat of a slot; the second
// is offered the next free slots at once, books one, and prints its
// confirmation.
func TestBookSlotGone(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 11, 15, 0, 0, 0, appointment.Rome) // a Friday afternoon
	clock := func() time.Time { return now }
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hub.db"), registrybolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := synth.Config{Persons: 30, Seed: 3, Today: registry.DateOf(now)}
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
	appts := store.AppointmentsOf(st, clock)
	// One counter on Mondays 09:00–10:00.
	if err := appts.PutOffice(ctx, &appointment.Office{ID: "nord", Name: "Anagrafe Nord", Address: "Via Padova 5", Counters: []appointment.Counter{{Number: 1}},
		Calendars: []appointment.Calendar{{Service: appointment.Residence, Minutes: 30, Counters: []int{1},
			Hours: []appointment.Hours{{Weekday: time.Monday, From: "09:00", To: "10:00"}}}}}); err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	srv := httptest.NewServer((&hubapi.Server{Store: store.RegistryOf(st), Now: clock, Log: slog.New(slog.DiscardHandler),
		Verifier: &httpsig.Verifier{Keys: httpsig.StaticKey{KeyID: "k", Key: pub}, Clock: clock}, Appointments: appts,
		// Identification has its own tests: here the document's CF is who.
		IdentifyRequester: func(r *http.Request, ev api.RequesterEvidence, _ bool) (p *registry.Person, err error) {
			err = st.View(r.Context(), func(tx store.Tx) error { p, err = tx.Registry().PersonByCF(ev.CF); return err })
			return p, err
		}}).Handler())
	defer srv.Close()
	h := signedHub{url: srv.URL, signer: &httpsig.Signer{Key: priv, KeyID: "k", Clock: clock}}

	offered, err := NextSlots(ctx, h, "nord", "residenza", now, 7, 3)
	if err != nil || len(offered) != 2 {
		t.Fatalf("next slots: %+v %v, want Monday's two", offered, err)
	}
	who := func(cf string) api.AppointmentIdentity {
		return api.AppointmentIdentity{Channel: api.ChannelCounter, Requester: api.RequesterEvidence{Method: "document", CF: cf}}
	}
	first := api.AppointmentBooking{AppointmentIdentity: who(cfs[0]), Office: "nord", Service: "residenza", Start: offered[0].Start}
	if _, _, err := BookSlot(ctx, h, first, 7, 3); err != nil {
		t.Fatal(err)
	}
	second := first
	second.AppointmentIdentity = who(cfs[1])
	a, next, err := BookSlot(ctx, h, second, 7, 3)
	if !errors.Is(err, ErrSlotGone) || a != nil || len(next) != 1 || !next[0].Start.Equal(offered[1].Start) {
		t.Fatalf("the slot that went: %v %+v %+v, want ErrSlotGone and the 09:30 slot offered", err, a, next)
	}
	if r, ok := api.Refused(err); !ok || r.Reason != api.ReasonSlotTaken {
		t.Errorf("the refusal is not in the chain: %v", err)
	}
	second.Start = next[0].Start
	a, _, err = BookSlot(ctx, h, second, 7, 3)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := escpos.Lookup("tm-t20", 80)
	out, err := receipt.EncodeAppointment(Confirmation(*a, receipt.Italian), p, appointment.Rome)
	if err != nil || !bytes.Contains(out, []byte(a.RefPrinted)) || !bytes.Contains(out, []byte("09:30")) {
		t.Errorf("the confirmation: %v\n%q", err, out)
	}
}
