package main

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/printer/escpos/escposdec"
)

// printedText is the last receipt of r's receipt printer, as it reads on paper.
func printedText(t *testing.T, r *kioskRig) string {
	t.Helper()
	bins := files(t, r.rcptDir, ".bin")
	if len(bins) == 0 {
		t.Fatal("no receipt printed")
	}
	// The newest receipt by time written, not by name: a job's name
	// carries its second and then random digits, so two receipts printed
	// within one second (the claim receipt and the issued one, on a fast
	// machine) sort by chance.
	newest, newestAt := "", time.Time{}
	for _, b := range bins {
		fi, err := os.Stat(b)
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().After(newestAt) {
			newest, newestAt = b, fi.ModTime()
		}
	}
	raw, err := os.ReadFile(newest)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := escposdec.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(doc.Text()), " ")
}

var cieNumber = regexp.MustCompile(`(?m)^  document\s+CIE (\S+) NIS \d{12},.*\(valid\)$`)

// TestCounterHubDownNewCustomer is issue 15's "Done when" at a shop's
// counter, against the real hub: the clerk logged in, the hub stops, and a
// citizen the kiosk never saw is identified by codice fiscale and the
// number of their CIE, checked here; they leave with a claim receipt that
// names the shop's registered operator and says the certificate waits for
// the Comune to confirm their identity. The hub returns on a new port, the
// outbox's sender delivers the request (the hub checks the document in its
// registry), and the claim code prints the certificate and a receipt in
// Rome's time with its protocol number. Then a self-service kiosk of the
// same shop takes a payment at the till and the counter confirms it from
// its till screen, by the code typed as a clerk types it; the day's
// summary has it as a till payment.
func TestCounterHubDownNewCustomer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real hub")
	}
	ctx := context.Background()
	data := t.TempDir()
	h := startHub(t, data)
	res := h.resident(t)
	m := cieNumber.FindStringSubmatch(h.run(t, "person", "show", "--data", h.data, "--cf", res.CF, "--purpose", "test: documento del cliente"))
	if m == nil {
		t.Fatal("the resident's CIE number is not in hub person show")
	}
	doc := m[1]
	shop := func(c *kiosk.Config) {
		c.LegalName, c.PartitaIVA, c.Address = "Rossi Giornali S.n.c.", "01234567897", "Via Padova 12, Milano"
	}
	counter := newKiosk(t, h, kiosk.Operator, shop)
	self := newKiosk(t, h, kiosk.SelfService, tillNow)
	if err := counter.flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	h.stop()

	if err := counter.flow.IdentifyByCF(ctx, res.CF, doc); err != nil {
		t.Fatalf("with the hub away the new customer was not served: %v", err)
	}
	if v := counter.flow.View(); v.Person == nil || v.Person.Provisional == "" {
		t.Fatalf("person %+v", v.Person)
	}
	if err := counter.flow.Choose(kiosk.Choice{SubjectCF: res.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	if err := counter.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	v := counter.flow.View()
	if v.Result == nil || v.Result.Claim == "" || len(files(t, counter.a4Dir, ".pdf")) != 0 {
		t.Fatalf("offline: result %+v, problem %v", v.Result, v.Problem)
	}
	code := v.Result.Claim
	text := printedText(t, counter)
	for _, w := range []string{"RICEVUTA DI PRENOTAZIONE", code, "Rossi Giornali S.n.c.", "P.IVA 01234567897",
		"non ha ancora potuto confermare la tua identità", "sarà rilasciato appena il Comune la confermerà"} {
		if !strings.Contains(text, w) {
			t.Errorf("the claim receipt does not say %q:\n%s", w, text)
		}
	}
	counter.flow.Next()

	// The hub returns; the clerk logs in again (sessions do not outlive
	// the hub's restart) and the sender delivers.
	h2 := startHub(t, data)
	counter.profile.HubURL, self.profile.HubURL = h2.url, h2.url
	counter.flow.Logout()
	if err := counter.flow.LoginCard(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	sender := counter.ob.NewSender(kiosk.Deliverer(counter.hub, counter.flow.Render()),
		outbox.SenderOptions{OnResult: func(o outbox.Outcome) { settleOutcome(ctx, counter.flow, o, slog.New(slog.NewTextHandler(&log, nil))) }})
	if n, err := sender.Drain(ctx); err != nil || n != 1 {
		t.Fatalf("drained %d: %v (%s)", n, err, log.String())
	}
	if err := counter.flow.Redeem(ctx, code); err != nil {
		t.Fatalf("collecting %s: %v (%s)", code, err, log.String())
	}
	v = counter.flow.View()
	if v.Step != kiosk.StepDone || v.Result == nil || v.Result.Issued == nil || len(files(t, counter.a4Dir, ".pdf")) == 0 {
		t.Fatalf("after the hub returned: step %s, result %+v, problem %v", v.Step, v.Result, v.Problem)
	}
	is := v.Result.Issued
	text = printedText(t, counter)
	rome := is.Issued.In(protocol.Rome).Format("02/01/2006 15:04")
	for _, w := range []string{"Prot. " + is.Protocol, rome, "Rossi Giornali S.n.c.", "P.IVA 01234567897"} {
		if !strings.Contains(text, w) {
			t.Errorf("the receipt does not say %q:\n%s", w, text)
		}
	}
	counter.flow.Next()

	// Self-service at the same shop: pay at the till.
	if err := self.flow.TapCard(ctx); err != nil {
		t.Fatal(err)
	}
	if err := self.flow.EnterPIN(ctx, virtual.DemoPIN); err != nil {
		t.Fatal(err)
	}
	sv := self.flow.View()
	if err := self.flow.Choose(kiosk.Choice{SubjectCF: sv.Person.CF, Types: []certificate.Type{certificate.Residenza}}); err != nil {
		t.Fatal(err)
	}
	if err := self.flow.Confirm(ctx); err != nil {
		t.Fatal(err)
	}
	sv = self.flow.View()
	if sv.Step != kiosk.StepPay || sv.Payment == nil || sv.Payment.Code == "" {
		t.Fatalf("self-service: step %s, payment %+v, problem %v", sv.Step, sv.Payment, sv.Problem)
	}
	counter.flow.RefreshStatus(ctx)
	if n := counter.flow.View().Status.TillPending; n != 1 {
		t.Errorf("the counter counts %d till payments waiting, want 1", n)
	}
	if err := counter.flow.ShowTill(ctx); err != nil {
		t.Fatal(err)
	}
	if tl := counter.flow.View().Till; tl == nil || len(tl.Pending) != 1 || tl.Pending[0].Code != sv.Payment.Code || tl.Pending[0].AmountCents != sv.Payment.AmountCents {
		t.Fatalf("the till screen lists %+v, want the kiosk's payment %+v", tl, sv.Payment)
	}
	typed := strings.ToLower(sv.Payment.Code[:3] + " " + sv.Payment.Code[3:])
	if err := counter.flow.ConfirmTill(ctx, typed); err != nil {
		t.Fatalf("confirming %q: %v", typed, err)
	}
	if tl := counter.flow.View().Till; tl.Confirmed == nil || tl.Confirmed.ID != sv.Payment.ID || len(tl.Pending) != 0 {
		t.Errorf("after the confirmation: %+v", tl)
	}
	if err := self.flow.PollPayment(ctx); err != nil {
		t.Fatal(err)
	}
	if sv := self.flow.View(); sv.Step != kiosk.StepDone || sv.Result == nil || sv.Result.Issued == nil {
		t.Fatalf("the self-service kiosk after the till: step %s, problem %v", sv.Step, sv.Problem)
	}
	counter.flow.CloseTill()
	if err := counter.flow.ShowSummary(); err != nil {
		t.Fatal(err)
	}
	if s := counter.flow.View().Summary; s.TillPayments != 1 || s.ByMethod[kiosk.MethodTill] != sv.Payment.AmountCents || s.Transactions != 1 {
		t.Errorf("the counter's day: %+v", s)
	}
}
