package hub_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/hub/hubtest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/synth"
)

// fileAddressChange files, at the office, a change of address of a
// resident to a street of the city, and returns it with the street.
func fileAddressChange(t *testing.T, h *hubtest.Hub) (request.Request, string) {
	t.Helper()
	cf := resident(t, h)
	street := synth.DefaultCity().Streets[3].Name
	rec, _, err := h.API.Requests.File(context.Background(), desk.Filing{Kind: request.AddressChange, Channel: certificate.Office, RequesterCF: cf,
		Actor: audit.Actor{Kind: audit.Staff, ID: "mrossi"},
		Form:  request.Form{Address: &request.AddressForm{Persons: []string{cf}, NewAddress: request.NewAddress{Street: street, Number: "7"}, Statement: true}}})
	if err != nil {
		t.Fatal(err)
	}
	return rec, street
}

func getRequest(t *testing.T, h *hubtest.Hub, id string) request.Request {
	t.Helper()
	rec, err := h.API.Requests.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestSilenceAssent: a change of address nobody decided is accepted by the
// office's silence once its 45 days have passed — not a day before — as
// an acceptance would be (the new address in the registry from the day of
// the declaration, the open procedure closed, the audit entry, the
// citizen's notice), marked as accepted by silence in its history, and
// never twice.
func TestSilenceAssent(t *testing.T) {
	h := hubtest.New(t, hubtest.Configure(clerkOptional))
	ctx := context.Background()
	rec, street := fileAddressChange(t, h)
	h.Clock.Set(rec.SilenceAssent.Add(-time.Minute))
	if done, err := h.AssentBySilence(ctx); err != nil || len(done) != 0 {
		t.Fatalf("a minute before the term: accepted %d (%v)", len(done), err)
	}
	h.Clock.Set(rec.SilenceAssent.Add(time.Minute))
	done, err := h.AssentBySilence(ctx)
	if err != nil || len(done) != 1 || done[0].ID != rec.ID {
		t.Fatalf("after the term: accepted %v (%v)", done, err)
	}
	got := getRequest(t, h, rec.ID)
	last := got.History[len(got.History)-1]
	if got.Status != request.Accepted || !got.BySilence || last.Action != request.ActionSilenceAssent || last.Actor != desk.SilenceActor.String() {
		t.Fatalf("after silence-assent: status %s, by silence %v, last step %+v", got.Status, got.BySilence, last)
	}
	if s := got.Summary().StatusText; !strings.Contains(s, "silenzio-assenso") {
		t.Errorf("the citizen's list says %q", s)
	}
	cf := rec.RequesterCF
	var p *registry.Person
	if err := h.Registry.View(ctx, func(r registry.Reader) (err error) { p, err = r.PersonByCF(cf); return err }); err != nil {
		t.Fatal(err)
	}
	res, ok := p.CurrentResidence()
	day := registry.DateOf(rec.Filed.In(protocol.Rome))
	if !ok || !strings.EqualFold(res.Address.Street, street) || res.From.Before(day) || day.Before(res.From) {
		t.Errorf("the registry's residence of %s is %+v, want %s from the declaration", cf, res, street)
	}
	if !p.ProcedureOpen.IsZero() {
		t.Errorf("the open-procedure mark stays after the acceptance: %v", p.ProcedureOpen)
	}
	{
		if _, err := h.API.Requests.Accept(ctx, rec.ID, 0, desk.Staff{User: "mrossi"}, "late"); err == nil {
			t.Error("staff accepted a request the law accepted already")
		}
	}
	if done, err := h.AssentBySilence(ctx); err != nil || len(done) != 0 {
		t.Fatalf("a second run accepted %d again (%v)", len(done), err)
	}
	es, err := h.AuditLog().Search(audit.Query{Subject: cf}, 50)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Request == rec.ID && e.Actor == desk.SilenceActor {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d audit entries of the silence-assent of %s, want 1", n, rec.ID)
	}
	if c := silenceNotices(t, h, rec.ID); c != 1 {
		t.Errorf("%d notices of the silence-assent to the citizen, want 1", c)
	}
}

// silenceNotices counts the notices queued for request id saying it was
// accepted by silence.
func silenceNotices(t *testing.T, h *hubtest.Hub, id string) int {
	t.Helper()
	items, err := store.NoticesOf(h.Stores).List()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range items {
		if strings.Contains(it.ID, id) && strings.Contains(it.Message.Markdown, "silenzio-assenso") {
			n++
		}
	}
	return n
}

// TestSilenceAssentWaitsForTheCitizen: while the office waits for the
// citizen's answer the term stops (art. 2 c. 7 L. 241/1990), at most 30
// days, and only for the first question.
func TestSilenceAssentWaitsForTheCitizen(t *testing.T) {
	h := hubtest.New(t, hubtest.Configure(clerkOptional))
	ctx := context.Background()
	rec, _ := fileAddressChange(t, h)
	h.Clock.Advance(24 * time.Hour)
	asked, err := h.API.Requests.Ask(ctx, rec.ID, 0, desk.Staff{User: "mrossi"}, "Alleghi il contratto di locazione.")
	if err != nil {
		t.Fatal(err)
	}
	// Ten days without an answer move the term ten days on.
	h.Clock.Advance(10 * 24 * time.Hour)
	if due := desk.SilenceDue(asked, h.Clock.Now()); !due.Equal(rec.SilenceAssent.Add(10 * 24 * time.Hour)) {
		t.Errorf("ten days waiting: due %v, want %v", due, rec.SilenceAssent.Add(10*24*time.Hour))
	}
	// Unanswered for months, the suspension is 30 days at most.
	h.Clock.Set(rec.SilenceAssent.Add(desk.Suspension - time.Hour))
	if done, err := h.AssentBySilence(ctx); err != nil || len(done) != 0 {
		t.Fatalf("inside the suspension: accepted %d (%v)", len(done), err)
	}
	h.Clock.Set(rec.SilenceAssent.Add(desk.Suspension + time.Hour))
	if done, err := h.AssentBySilence(ctx); err != nil || len(done) != 1 {
		t.Fatalf("past 45 days and the longest suspension: accepted %d (%v)", len(done), err)
	}
}

// TestSilenceAssentOnceAcrossHubs: two hubs on one PostgreSQL database run
// the silence-assent at the same moment; each request is accepted once.
func TestSilenceAssentOnceAcrossHubs(t *testing.T) {
	db := pg.Database(t)
	a := hubtest.New(t, hubtest.Database(db), hubtest.Configure(clerkOptional))
	b := hubtest.New(t, hubtest.Database(db), hubtest.Persons(0), hubtest.Configure(clerkOptional))
	rec, _ := fileAddressChange(t, a)
	at := rec.SilenceAssent.Add(time.Hour)
	a.Clock.Set(at)
	b.Clock.Set(at)
	// Both read the queue before either accepts: the second acts on a
	// stale read, as when the two runs overlap.
	var due [2][]request.Request
	for i, h := range []*hubtest.Hub{a, b} {
		d, err := h.API.Requests.SilenceDueNow(context.Background())
		if err != nil || len(d) != 1 {
			t.Fatalf("hub %d sees %d due (%v)", i, len(d), err)
		}
		due[i] = d
	}
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, h := range []*hubtest.Hub{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done, err := h.API.Requests.AcceptBySilence(context.Background(), due[i])
			if err != nil {
				t.Error(err)
			}
			counts[i] = len(done)
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != 1 {
		t.Fatalf("the two hubs accepted %v times", counts)
	}
	got := getRequest(t, a, rec.ID)
	steps := 0
	for _, e := range got.History {
		if e.Action == request.ActionSilenceAssent {
			steps++
		}
	}
	if steps != 1 || got.Status != request.Accepted {
		t.Errorf("status %s with %d silence-assent steps", got.Status, steps)
	}
	if c := silenceNotices(t, a, rec.ID); c != 1 {
		t.Errorf("%d notices of the silence-assent, want 1", c)
	}
}
