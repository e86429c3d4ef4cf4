package hubclient_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/paybolt"
)

// TestPaymentsAtTheTill drives the payment methods against the hub's real
// handler: a shop's self-service kiosk takes a till payment, the shop's
// counter lists and confirms it with its clerk logged in, and the kiosk
// then issues against it; another payment is cancelled.
func TestPaymentsAtTheTill(t *testing.T) {
	ctx := context.Background()
	d := issuancetest.New(t, 120, 5, now)
	ops := operators.NewService(bolt.New(d.Store), store.Tx.Operators, nil, clock, operators.Policy{Calendar: operators.Milan})
	pays, err := paybolt.New(d.Store.DB())
	if err != nil {
		t.Fatal(err)
	}
	d.Service.Payments = pays
	_, hubPriv, _ := ed25519.GenerateKey(nil)
	csca, err := virtual.TestCSCA()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&hubapi.Server{Store: d.Store, Desk: d.Service, Operators: ops, Clerks: ops, Now: clock, Log: slog.New(slog.DiscardHandler),
		CSCAs:     []*x509.Certificate{csca},
		Verifier:  &httpsig.Verifier{Keys: ops, Clock: clock},
		HubSigner: &httpsig.Signer{Key: hubPriv, KeyID: "hub", Clock: clock},
		Payments:  &payment.Service{Store: pays, Now: clock},
	}).Handler())
	t.Cleanup(srv.Close)

	o := &operators.Operator{LegalName: "Edicola Loreto", PartitaIVA: "01199250158", Category: operators.Edicola,
		Address:   operators.Address{Street: "Piazzale Loreto", Number: "1", CAP: "20131", City: "Milano", Lat: 45.4859, Lon: 9.2165},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 1, Day: 1}, FeeCents: 200, Types: []certificate.Type{certificate.Residenza}}}
	if err := ops.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	ops.SetStatus(o.ID, operators.Approved, "staff", "")
	ops.SetStatus(o.ID, operators.Active, "staff", "")
	enrol := func(name string) *hubclient.Client {
		code, _, err := ops.IssueCode(o.ID, "staff", 0)
		if err != nil {
			t.Fatal(err)
		}
		c := &hubclient.Client{Clock: clock}
		p, err := c.Enrol(ctx, srv.URL, code, name)
		if err != nil {
			t.Fatal(err)
		}
		c = hubclient.New(p)
		c.Clock = clock
		return c
	}
	kiosk, counter := enrol("Totem"), enrol("Cassa")

	// The citizen, who is also the shop's clerk: a resident with a CIE.
	cf := d.Identifiable(t, 1)[0]
	nis := issuancetest.CIENIS(t, d.Store, cf, now)
	var name string
	d.Store.View(ctx, func(r registry.Reader) error {
		p, err := r.PersonByCF(cf)
		if err == nil {
			name = p.GivenNames + " " + p.Surname
		}
		return err
	})
	clerk := &operators.Clerk{CF: cf, Name: name, OperatorID: o.ID,
		Trained: registry.Date{Year: 2026, Month: 1, Day: 15}, EnabledUntil: registry.Date{Year: 2027, Month: 6, Day: 30}}
	if err := ops.AddClerk(clerk, "staff"); err != nil {
		t.Fatal(err)
	}
	tap := func(c *hubclient.Client) *api.RequesterEvidence {
		return issuancetest.API(issuancetest.CIETap(t, virtual.Genuine, c.Profile.KeyID, nis, clock(), true))
	}
	req := hubclient.CertificateRequest{CF: cf, Types: []string{"residenza"}, Channel: api.ChannelSelfService, Requester: tap(kiosk), IdempotencyKey: "sale-1"}

	p, err := kiosk.CreatePayment(ctx, api.PaymentRequest{Request: req, Method: api.PayAtTill}, req.IdempotencyKey)
	if err != nil || p.State != api.PaymentPending || p.Code == "" || p.AmountCents <= 0 {
		t.Fatalf("create: %+v %v", p, err)
	}
	if again, err := kiosk.Payment(ctx, p.ID); err != nil || again.ID != p.ID || again.State != api.PaymentPending {
		t.Fatalf("payment: %+v %v", again, err)
	}
	if _, err := counter.PendingPayments(ctx); !isReason(err, api.ReasonClerkLoginRequired) {
		t.Errorf("pending without a clerk: %v", err)
	}
	sess, err := counter.LogInClerk(ctx, api.ClerkLogin{CIE: tap(counter)})
	if err != nil {
		t.Fatal(err)
	}
	counter.SetClerk(sess.Token)
	list, err := counter.PendingPayments(ctx)
	if err != nil || len(list.Payments) != 1 || list.Payments[0].Code != p.Code {
		t.Fatalf("pending: %+v %v", list, err)
	}
	paid, err := counter.ConfirmPayment(ctx, api.PaymentConfirm{Code: p.Code})
	if err != nil || paid.State != api.PaymentPaid || paid.ConfirmedBy != name {
		t.Fatalf("confirm: %+v %v", paid, err)
	}
	req.PaymentID = p.ID
	cert, err := kiosk.IssueCertificate(ctx, req)
	if err != nil || cert.TotalCents != p.AmountCents {
		t.Fatalf("issue: %+v %v", cert, err)
	}
	if used, err := kiosk.Payment(ctx, p.ID); err != nil || used.State != api.PaymentUsed {
		t.Errorf("after issue: %+v %v", used, err)
	}

	// A payment the citizen gave up.
	req2 := req
	req2.IdempotencyKey, req2.PaymentID, req2.Requester = "sale-2", "", tap(kiosk)
	p2, err := kiosk.CreatePayment(ctx, api.PaymentRequest{Request: req2, Method: api.PayAtTill}, req2.IdempotencyKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := kiosk.CancelPayment(ctx, p2.ID); err != nil {
		t.Fatal(err)
	}
	if gone, err := kiosk.Payment(ctx, p2.ID); err != nil || gone.State != api.PaymentCancelled {
		t.Errorf("after cancel: %+v %v", gone, err)
	}
	if _, err := counter.ConfirmPayment(ctx, api.PaymentConfirm{Code: p2.Code}); !isReason(err, api.ReasonPaymentExpired) {
		t.Errorf("confirm a cancelled payment: %v", err)
	}
}
