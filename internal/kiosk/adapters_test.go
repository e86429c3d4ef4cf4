package kiosk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/printer"
	"github.com/sportello/sportello/printer/escpos"
)

func TestQueuedRoundTrip(t *testing.T) {
	ctx := context.Background()
	req := IssueRequest{Key: "kiosk-abc", SubjectCF: cfMaria, Types: []certificate.Type{certificate.Residenza, certificate.StatoDiFamiglia},
		Exemption: fees.Exemption{Code: 99, Text: "art. 1 legge"}, Channel: certificate.SelfService,
		Requester: withPIN(fakeTap(nisMario, 7)), PaymentID: "pay-7"}
	dir := t.TempDir()
	ob, err := outbox.Open(filepath.Join(dir, "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	hub := newFakeHub(testNow)
	q := &Queue{Outbox: ob, Hub: hub}
	claim, err := q.Enqueue(ctx, req, 1652, false)
	if err != nil || claim == "" {
		t.Fatalf("enqueue: %q %v", claim, err)
	}
	if n, _ := q.Pending(); n != 1 {
		t.Fatalf("pending %d", n)
	}
	// Sent at once while the hub is away: it stays, and the sender hands
	// the hub exactly what was confirmed once it is back.
	hub.offline = true
	if _, err := q.Deliver(ctx, req.Key, nil); !errors.Is(err, ErrOffline) {
		t.Fatalf("deliver with the hub away: %v", err)
	}
	if u, err := q.Unfinished(ctx); err != nil || len(u) != 1 || u[0].Claim != claim || u[0].AmountCents != 1652 || !reflect.DeepEqual(u[0].Types, []string{"residenza", "stato_di_famiglia"}) {
		t.Fatalf("unfinished %+v %v", u, err)
	}
	hub.offline = false
	if _, err := ob.NewSender(Deliverer(hub, nil), outbox.SenderOptions{}).Drain(ctx); err != nil {
		t.Fatal(err)
	}
	// The tap's evidence (its bytes, its time, the PIN) is in what the
	// sender hands the hub: the hub checks it again, after the wait.
	if len(hub.issued) != 1 || !reflect.DeepEqual(hub.issued[0], req) {
		t.Fatalf("delivered %+v, want %+v", hub.issued, req)
	}
	// A refusal at the counter is the hub's word, and is dismissed once seen.
	hub.refuse = &Refusal{Status: 422, Reason: "not_eligible", Message: "no"}
	q.Enqueue(ctx, IssueRequest{Key: "kiosk-def", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Requester: fakeTap(nisMario, 8)}, 0, false)
	var r *Refusal
	if _, err := q.Deliver(ctx, "kiosk-def", nil); !errors.As(err, &r) || r.Reason != "not_eligible" {
		t.Fatalf("a refused delivery: %v", err)
	}
	if st, _ := ob.Stats(); st.Pending != 0 || st.Refused != 1 {
		t.Errorf("after a refusal: %+v", st)
	}
	if err := q.Dismiss(ctx, "kiosk-def"); err != nil {
		t.Fatal(err)
	}
	if st, _ := ob.Stats(); st.Refused != 0 {
		t.Errorf("after dismissing: %+v", st)
	}
	if _, err := DecodeQueued([]byte("{")); err == nil {
		t.Error("a broken payload decoded")
	}
}

func withPIN(ev *api.RequesterEvidence) *api.RequesterEvidence {
	ev.PINProved = true
	return ev
}

// TestQueuedBeforeEvidence: a request a kiosk queued before it sent
// requester evidence (its payload has none, as old outbox files hold) still
// opens, and is refused for the operator with the hub's reason for it, at
// once: it is never sent (the hub must refuse it, and no tap can be added
// now) and never retried; the request behind it is delivered.
func TestQueuedBeforeEvidence(t *testing.T) {
	ctx := context.Background()
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	// The payload exactly as kiosks wrote it before requester evidence.
	old := `{"key":"kiosk-old","body":{"cf":"` + cfMario + `","types":["residenza"],"exemption":{"code":0},"requester_cf":"` + cfMario + `","channel":"counter"}}`
	if _, err := ob.Enqueue(ctx, outbox.Op{Kind: QueueKind, IdempotencyKey: "kiosk-old", Payload: []byte(old), PersonalData: true, AmountCents: 1802}); err != nil {
		t.Fatal(err)
	}
	hub := newFakeHub(testNow)
	q := &Queue{Outbox: ob, Hub: hub}
	if u, err := q.Unfinished(ctx); err != nil || len(u) != 1 || !reflect.DeepEqual(u[0].Types, []string{"residenza"}) {
		t.Fatalf("the old request read back as %+v %v", u, err)
	}
	queueRequest(t, ob, IssueRequest{Key: "kiosk-new", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Requester: fakeTap(nisMario, 1)})
	var outcomes []outbox.Outcome
	s := ob.NewSender(Deliverer(hub, nil), outbox.SenderOptions{OnResult: func(o outbox.Outcome) { outcomes = append(outcomes, o) }})
	if _, err := s.Drain(ctx); err != nil {
		t.Fatalf("a round with the old request failed, so it would be retried: %v", err)
	}
	if len(hub.issued) != 1 || hub.issued[0].Key != "kiosk-new" {
		t.Errorf("the hub was sent %+v, want only the new request", hub.issued)
	}
	e, err := ob.LookupKey("kiosk-old")
	if err != nil || e.State != outbox.Refused || e.Refusal == nil || e.Refusal.Reason != api.ReasonRequesterEvidenceRequired || e.Attempts > 1 {
		t.Fatalf("the old request: %+v %v, want refused for %s", e, err, api.ReasonRequesterEvidenceRequired)
	}
	c, err := q.Lookup(ctx, e.ClaimCode)
	if err != nil || c.State != ClaimRefused || c.Reason != api.ReasonRequesterEvidenceRequired || c.Message == "" {
		t.Errorf("its claim code says %+v %v", c, err)
	}
	if len(outcomes) != 2 || outcomes[0].Entry.State != outbox.Refused {
		t.Errorf("outcomes %+v, want the refusal for the operator, then the delivery", outcomes)
	}
}

// TestQueueDeliverSpoolsAndPrints: the real outbox and printers. A sale
// sent at the counter is committed with its certificate and receipt in the
// spool (sealed in the outbox file), each leaves the spool only once
// printed, and one the printer fails on stays, with the attempt, for a
// reprint. A PDF that cannot be downloaded after the issue leaves the
// request pending, and the sender's next try gets the same certificate.
func TestQueueDeliverSpoolsAndPrints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ob, err := outbox.Open(filepath.Join(dir, "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	hub := newFakeHub(testNow)
	q := &Queue{Outbox: ob, Hub: hub}
	spool := &JobSpool{Outbox: ob}
	a4 := &flakyTransport{DirTransport: DirTransport{Dir: filepath.Join(dir, "a4")}}
	prof, _ := escpos.Lookup("tm-t20", 0)
	prn := &DevicePrinters{A4: &printer.Printer{URI: "dir:a4", Transport: a4, Spool: spool},
		Receipt: &printer.Printer{URI: "dir:rc", Transport: &DirTransport{Dir: filepath.Join(dir, "rc")}, Spool: spool}, Profile: prof}
	f, err := New(Config{Mode: Operator, Shop: "Edicola"}, Deps{Hub: hub, Reader: &fakeReader{}, Printers: prn, Outbox: q})
	if err != nil {
		t.Fatal(err)
	}
	req := IssueRequest{Key: "kiosk-1", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Channel: certificate.Counter,
		Requester: fakeTap(nisMario, 1)}
	if _, err := q.Enqueue(ctx, req, 1802, false); err != nil {
		t.Fatal(err)
	}
	d, err := q.Deliver(ctx, req.Key, f.Render())
	if err != nil || d.Issued.Protocol != "2026/0000001" || len(d.Jobs) != 2 {
		t.Fatalf("deliver: %+v %v", d, err)
	}
	jobs, err := prn.Spooled()
	if err != nil || len(jobs) != 2 || jobs[0].ID != d.Jobs[0] || jobs[0].Format != printer.FormatPDF || jobs[1].Format != printer.FormatESCPOS {
		t.Fatalf("the spool after the delivery: %+v %v", jobs, err)
	}
	if e, _ := ob.LookupKey(req.Key); e.State != outbox.Delivered {
		t.Fatalf("the request is %s", e.State)
	}
	a4.fail = errors.New("paper jam")
	if err := prn.PrintJob(ctx, d.Jobs[0]); err == nil {
		t.Fatal("printed on a jammed printer")
	}
	if err := prn.PrintJob(ctx, d.Jobs[1]); err != nil {
		t.Fatal(err)
	}
	jobs, _ = prn.Spooled()
	if len(jobs) != 1 || jobs[0].ID != d.Jobs[0] || jobs[0].Attempts != 1 || !jobs[0].Started.IsZero() {
		t.Fatalf("after a failed A4 the spool holds %+v", jobs)
	}
	a4.fail = nil
	if err := prn.PrintJob(ctx, d.Jobs[0]); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := prn.Spooled(); len(jobs) != 0 {
		t.Errorf("printed jobs left in the spool: %+v", jobs)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "a4", "*.pdf")); len(m) != 1 {
		t.Errorf("A4 printed %d times", len(m))
	}

	// The PDF does not come: the request stays pending, nothing is spooled.
	req2 := IssueRequest{Key: "kiosk-2", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza}, Requester: fakeTap(nisMario, 2)}
	q.Enqueue(ctx, req2, 1802, false)
	hub.pdfFails = true
	if _, err := q.Deliver(ctx, req2.Key, f.Render()); !errors.Is(err, ErrOffline) {
		t.Fatalf("deliver without the PDF: %v", err)
	}
	if e, _ := ob.LookupKey(req2.Key); e.State != outbox.Pending {
		t.Fatalf("without its PDF the request is %s", e.State)
	}
	if jobs, _ := prn.Spooled(); len(jobs) != 0 {
		t.Errorf("jobs spooled without a delivery: %+v", jobs)
	}
	hub.pdfFails = false
	var got []outbox.Outcome
	s := ob.NewSender(Deliverer(hub, f.Render()), outbox.SenderOptions{OnResult: func(o outbox.Outcome) { got = append(got, o) }})
	if _, err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Result.Jobs) != 2 || hub.n != 3 {
		t.Fatalf("the sender's outcome %+v; the hub issued %d times", got, hub.n)
	}
	if jobs, _ := prn.Spooled(); len(jobs) != 2 {
		t.Errorf("the sender's delivery spooled %d jobs", len(jobs))
	}
}

// flakyTransport is a file printer that fails while fail is set.
type flakyTransport struct {
	DirTransport
	fail error
}

func (f *flakyTransport) Send(ctx context.Context, j printer.Job) error {
	if f.fail != nil {
		return f.fail
	}
	return f.DirTransport.Send(ctx, j)
}

func TestDirTransport(t *testing.T) {
	d := &DirTransport{Dir: filepath.Join(t.TempDir(), "out")}
	for _, j := range []printer.Job{{ID: "a", Format: printer.FormatPDF, Data: []byte("%PDF")}, {ID: "b", Format: printer.FormatESCPOS, Data: []byte{0x1b, 0x40}}} {
		if err := d.Send(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{"a.pdf": "%PDF", "b.bin": "\x1b@"} {
		if b, err := os.ReadFile(filepath.Join(d.Dir, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	if _, err := d.Status(context.Background()); !errors.Is(err, printer.ErrNoStatus) {
		t.Errorf("status: %v", err)
	}
}

// TestQueuedForCollection: a self-service request queued unpaid is, when
// the hub answers, a request for its payment (the hub confirms the
// requester and prices it), kept sealed for its collection; a paid one
// the sender delivers is issued and kept too; neither leaves anything to
// print.
func TestQueuedForCollection(t *testing.T) {
	ctx := context.Background()
	req := IssueRequest{Key: "kiosk-abc", SubjectCF: cfMario, Types: []certificate.Type{certificate.Residenza},
		Channel: certificate.SelfService, Requester: withPIN(fakeTap(nisMario, 7))}
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "o.db"), outbox.Options{Key: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	hub := newFakeHub(testNow)
	pay := &fakePayments{hub: hub, offer: []string{api.PayAtTill}}
	q := &Queue{Outbox: ob, Hub: hub, Payments: pay}
	hub.offline = true
	claim, err := q.Enqueue(ctx, req, 1652, false)
	if err != nil {
		t.Fatal(err)
	}
	paid := req
	paid.Key, paid.PaymentID = "kiosk-def", "pay-9"
	claim2, err := q.Enqueue(ctx, paid, 1652, false)
	if err != nil {
		t.Fatal(err)
	}
	// Paid, then the hub went away while the kiosk sent it.
	if _, err := q.Deliver(ctx, paid.Key, nil); !errors.Is(err, ErrOffline) {
		t.Fatalf("deliver with the hub away: %v", err)
	}
	if c, err := q.Lookup(ctx, claim); err != nil || c.State != ClaimQueued || c.Kept || c.Payment != nil {
		t.Fatalf("queued: %+v %v", c, err)
	}
	hub.offline = false
	sender := ob.NewSender(SelfServiceDeliverer(hub, pay, DefaultPayMethods()), outbox.SenderOptions{})
	if n, err := sender.Drain(ctx); err != nil || n != 2 {
		t.Fatalf("drained %d, %v", n, err)
	}
	// The hub was asked for the payment of exactly the request queued,
	// by the method it offers (pagoPA refused, the till then).
	if len(pay.created) != 1 || !reflect.DeepEqual(pay.created[0], req) || !reflect.DeepEqual(pay.methods, []string{api.PayPagoPA, api.PayAtTill}) {
		t.Fatalf("payments asked %+v by %v", pay.created, pay.methods)
	}
	c, err := q.Lookup(ctx, claim)
	if err != nil || c.State != ClaimQueued || !c.Kept || c.Payment == nil || c.Payment.ID != "pay-1" || c.Payment.Method != api.PayAtTill {
		t.Fatalf("confirmed: %+v %v", c, err)
	}
	if got, err := q.Kept(ctx, claim); err != nil || !reflect.DeepEqual(got, req) {
		t.Fatalf("kept %+v %v", got, err)
	}
	c2, err := q.Lookup(ctx, claim2)
	if err != nil || c2.State != ClaimIssued || !c2.Kept || c2.Issued == nil || c2.Issued.ID == "" {
		t.Fatalf("issued while away: %+v %v", c2, err)
	}
	if len(hub.issued) != 1 || hub.issued[0].PaymentID != "pay-9" {
		t.Fatalf("issued %+v", hub.issued)
	}
	if jobs, err := ob.Jobs(); err != nil || len(jobs) != 0 {
		t.Fatalf("a self-service delivery left %d print jobs (%v)", len(jobs), err)
	}
	if err := q.Release(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Kept(ctx, claim); err == nil {
		t.Error("a released claim still keeps its request")
	}
}
