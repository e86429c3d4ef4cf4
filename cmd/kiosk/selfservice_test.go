package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/internal/payment/gpd/gpdtest"
	"github.com/sportello/sportello/printer/escpos/escposdec"
)

// TestSelfServiceHubDownCollect is issue 15's "Done when" for a
// self-service kiosk, against the real hub: with the hub stopped, a new
// customer is served on the CIE tap the kiosk verifies itself and leaves
// with a claim receipt; nothing is paid and nothing printed. The hub comes
// back and the kiosk's sender has it confirm the request (the hub checks
// the tap and prices it: the payment); still nothing prints into the
// unattended tray. The citizen returns, types the claim code, taps the
// same CIE, types the PIN, pays at the shop's till (confirmed by the
// shop's counter kiosk, with its clerk's session), and only then is the
// certificate issued, naming the payment, and printed.
func TestSelfServiceHubDownCollect(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	ctx := context.Background()
	data := t.TempDir()
	h := startHub(t, data)
	self := newKiosk(t, h, kiosk.SelfService, tillNow)
	counter := newKiosk(t, h, kiosk.Operator)
	h.stop()

	// A new customer, the hub away: the card and its PIN, checked here.
	if err := self.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := self.flow.EnterPIN(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	v := self.flow.View()
	if v.Step != kiosk.StepChoose || v.Person == nil {
		t.Fatalf("with the hub away the citizen was not served: step %s, problem %v", v.Step, v.Problem)
	}
	if err := self.flow.Choose(kiosk.Choice{SubjectCF: v.Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	if err := self.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	v = self.flow.View()
	if v.Step != kiosk.StepDone || v.Result == nil || v.Result.Claim == "" {
		t.Fatalf("offline confirm: step %s, result %+v, problem %v", v.Step, v.Result, v.Problem)
	}
	code := v.Result.Claim
	claims := files(t, self.rcptDir, ".bin")
	if len(claims) != 1 || len(files(t, self.a4Dir, ".pdf")) != 0 {
		t.Fatalf("offline: %d receipts, %d certificates; want the claim receipt alone", len(claims), len(files(t, self.a4Dir, ".pdf")))
	}
	raw, _ := os.ReadFile(claims[0])
	doc, err := escposdec.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(doc.Text()), " ")
	for _, w := range []string{"RICEVUTA DI PRENOTAZIONE", code, "Non hai pagato nulla", "avrà confermato la tua identità", "ritiralo a questo chiosco con il codice"} {
		if !strings.Contains(text, w) {
			t.Errorf("the claim receipt does not say %q:\n%s", w, doc.Text())
		}
	}
	self.flow.Next()

	// The hub returns (on a new port); the sender has it confirm the
	// request. Nothing prints: nobody is at the kiosk.
	h2 := startHub(t, data)
	self.profile.HubURL, counter.profile.HubURL = h2.url, h2.url
	var log strings.Builder
	sender := self.ob.NewSender(kiosk.SelfServiceDeliverer(self.hub, kiosk.NewClientPayments(self.hub.C), []string{api.PayAtTill}),
		outbox.SenderOptions{OnResult: func(o outbox.Outcome) { settleOutcome(ctx, self.flow, o, slog.New(slog.NewTextHandler(&log, nil))) }})
	if n, err := sender.Drain(ctx); err != nil || n != 1 {
		t.Fatalf("drained %d: %v (%s)", n, err, log.String())
	}
	c, err := (&kiosk.Queue{Outbox: self.ob}).Lookup(ctx, code)
	if err != nil || !c.Kept || c.Payment == nil || c.Payment.Method != api.PayAtTill {
		t.Fatalf("after the hub confirmed it: %+v, %v (%s)", c, err, log.String())
	}
	if len(files(t, self.a4Dir, ".pdf")) != 0 || len(files(t, self.rcptDir, ".bin")) != 1 {
		t.Fatal("the kiosk printed by itself into its unattended tray")
	}
	if jobs, _ := self.ob.Jobs(); len(jobs) != 0 {
		t.Fatalf("%d print jobs wait in the spool of a self-service kiosk", len(jobs))
	}

	// The citizen collects it: the code, the same card, its PIN, the pay
	// screen.
	if err := self.flow.StartCollect(); err != nil {
		t.Fatal(err)
	}
	if err := self.flow.Collect(ctx, strings.ToLower(code)); err != nil {
		t.Fatal(err)
	}
	if err := self.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := self.flow.EnterPIN(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	v = self.flow.View()
	if v.Step != kiosk.StepPay || v.Payment == nil || v.Payment.Code == "" {
		t.Fatalf("collection: step %s, payment %+v, problem %v", v.Step, v.Payment, v.Problem)
	}
	// Not paid yet: polling changes nothing and nothing is issued.
	if err := self.flow.PollPayment(ctx); err != nil {
		t.Fatal(err)
	}
	if v := self.flow.View(); v.Step != kiosk.StepPay || len(files(t, self.a4Dir, ".pdf")) != 0 {
		t.Fatalf("before the till took the money: step %s", v.Step)
	}
	// The shop's till takes the money; its counter confirms the code.
	if err := counter.flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	if p, err := kiosk.NewClientPayments(counter.hub.C).ConfirmTill(ctx, v.Payment.Code); err != nil || p.State != api.PaymentPaid {
		t.Fatalf("the counter confirming the till payment: %+v, %v", p, err)
	}
	if err := self.flow.PollPayment(ctx); err != nil {
		t.Fatal(err)
	}
	v = self.flow.View()
	if v.Step != kiosk.StepDone || v.Result == nil || v.Result.Issued == nil || v.Result.Issued.Protocol == "" {
		t.Fatalf("after paying: step %s, result %+v, problem %v", v.Step, v.Result, v.Problem)
	}
	if len(files(t, self.a4Dir, ".pdf")) != 1 || len(files(t, self.rcptDir, ".bin")) != 2 {
		t.Fatalf("printed %d certificates and %d receipts; want the certificate and its receipt after the claim receipt",
			len(files(t, self.a4Dir, ".pdf")), len(files(t, self.rcptDir, ".bin")))
	}
	// A reprint is one copy, the hub's COPIA, with a receipt saying so;
	// never a second original.
	if err := self.flow.Reprint(ctx); err != nil {
		t.Fatal(err)
	}
	pdfs := files(t, self.a4Dir, ".pdf")
	if len(pdfs) != 2 {
		t.Fatalf("after the reprint: %d certificates", len(pdfs))
	}
	copies := 0
	for _, p := range pdfs {
		out, err := exec.Command("pdftotext", p, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext (Debian poppler-utils) %s: %v", p, err)
		}
		if strings.Contains(string(out), "COPIA") {
			copies++
		}
	}
	if copies != 1 {
		t.Errorf("%d of the 2 certificates printed say COPIA, want the reprint alone", copies)
	}
	rcpts := files(t, self.rcptDir, ".bin")
	copied := 0
	for _, p := range rcpts {
		raw, _ := os.ReadFile(p)
		if d, err := escposdec.Decode(raw); err == nil && strings.Contains(d.Text(), "COPIA") {
			copied++
		}
	}
	if len(rcpts) != 3 || copied != 1 {
		t.Errorf("receipts %d, %d saying COPIA; want the claim receipt, the receipt and its copy", len(rcpts), copied)
	}
	var p *kiosk.Problem
	if err := self.flow.Reprint(ctx); !errors.As(err, &p) || p.Key != "reprint_once" {
		t.Errorf("a second reprint: %v, want reprint_once", err)
	}
	if n := len(files(t, self.a4Dir, ".pdf")); n != 2 {
		t.Errorf("a second reprint printed: %d certificates", n)
	}

	// The code is spent: it prints nothing a second time.
	self.flow.Next()
	self.flow.StartCollect()
	if err := self.flow.Collect(ctx, code); err == nil {
		t.Fatal("a collected claim code was accepted again")
	}
}

// tillNow configures a self-service kiosk to take payment at the shop's
// till and to ask the hub whenever the test polls (no wait).
func tillNow(c *kiosk.Config) { c.PayMethods, c.PayPoll = []string{api.PayAtTill}, time.Nanosecond }

// payAtTill is the shop's till taking the money for the code on r's pay
// screen: the shop's counter kiosk confirms it with its clerk's session,
// and r sees it paid, then issues and prints.
func payAtTill(tb testing.TB, h *demoHub, r *kioskRig) {
	tb.Helper()
	ctx := context.Background()
	v := r.flow.View()
	if v.Step != kiosk.StepPay || v.Payment == nil || v.Payment.Code == "" {
		tb.Fatalf("not on the pay screen: step %s, payment %+v, problem %v", v.Step, v.Payment, v.Problem)
	}
	counter := newKiosk(tb, h, kiosk.Operator)
	if err := counter.flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
		tb.Fatal(err)
	}
	if p, err := kiosk.NewClientPayments(counter.hub.C).ConfirmTill(ctx, v.Payment.Code); err != nil || p.State != api.PaymentPaid {
		tb.Fatalf("the counter confirming the till payment: %+v, %v", p, err)
	}
	if err := r.flow.PollPayment(ctx); err != nil {
		tb.Fatal(err)
	}
}

// TestSelfServicePagoPA: at an unattended kiosk the citizen gets a pagoPA
// notice (its number, the creditor and the QR a banking app reads), the
// hub creates the debt position at the city's GPD service (here its local
// stand-in, gpdtest, which follows GPD's published API) and the kiosk
// prints only once the citizen has paid the notice.
func TestSelfServicePagoPA(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	ctx := context.Background()
	const creditor = "01199250158"
	gpdSrv := gpdtest.New("gpd-key", creditor, time.Now)
	defer gpdSrv.Close()
	keyFile := filepath.Join(t.TempDir(), "gpd.key")
	if err := os.WriteFile(keyFile, []byte("gpd-key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHub(t, t.TempDir(), "--pagopa-url", gpdSrv.URL, "--pagopa-key-file", keyFile, "--pagopa-creditor", creditor,
		"--pagopa-segregation-code", "07", "--pagopa-iban", "IT60X0542811101000000123456", "--pagopa-category", "9/0101108TS/")
	r := newKiosk(t, h, kiosk.SelfService, func(c *kiosk.Config) { c.PayMethods, c.PayPoll = []string{api.PayPagoPA}, time.Nanosecond })
	if err := r.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.EnterPIN(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	v := r.flow.View()
	if err := r.flow.Choose(kiosk.Choice{SubjectCF: v.Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	if err := r.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	v = r.flow.View()
	p := v.Payment
	if v.Step != kiosk.StepPay || p == nil || p.Method != api.PayPagoPA || len(p.NoticeNumber) != 18 || p.CreditorFiscalCode != creditor ||
		!strings.HasPrefix(p.QR, "PAGOPA|002|"+p.NoticeNumber+"|"+creditor+"|") {
		t.Fatalf("pay screen: step %s, payment %+v, problem %v", v.Step, p, v.Problem)
	}
	if err := r.flow.PollPayment(ctx); err != nil {
		t.Fatal(err)
	}
	if v := r.flow.View(); v.Step != kiosk.StepPay || len(files(t, r.a4Dir, ".pdf")) != 0 {
		t.Fatalf("before the notice was paid: step %s, %d certificates", v.Step, len(files(t, r.a4Dir, ".pdf")))
	}
	// The citizen pays the notice in a banking app.
	if !gpdSrv.Pay(p.NoticeNumber, time.Now()) {
		t.Fatalf("the notice %s is not payable at the GPD stand-in", p.NoticeNumber)
	}
	if err := r.flow.PollPayment(ctx); err != nil {
		t.Fatal(err)
	}
	v = r.flow.View()
	if v.Step != kiosk.StepDone || v.Result == nil || v.Result.Issued == nil || len(files(t, r.a4Dir, ".pdf")) != 1 {
		t.Fatalf("after paying: step %s, result %+v, problem %v, %d certificates", v.Step, v.Result, v.Problem, len(files(t, r.a4Dir, ".pdf")))
	}
}
