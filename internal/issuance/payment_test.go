package issuance_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/cie/virtual"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt/paybolt"
)

// payments gives d a payment store in its own file and answers it.
func payments(t *testing.T, d *issuancetest.Desk) *paybolt.Store {
	t.Helper()
	st, err := paybolt.New(d.Store.DB())
	if err != nil {
		t.Fatal(err)
	}
	d.Payments = st
	return st
}

// paidFor takes a till payment for req (its key set when empty), confirms
// it as the shop's counter would, and names it in req.
func paidFor(t *testing.T, d *issuancetest.Desk, st payment.Store, req *issuance.Request) payment.Payment {
	t.Helper()
	p := pendingFor(t, d, st, req)
	pays := &payment.Service{Store: st, Now: d.Now}
	p, err := pays.ConfirmTill(req.Operator.ID, p.TillCode, "clerk-1", "Anna Bianchi")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pendingFor(t *testing.T, d *issuancetest.Desk, st payment.Store, req *issuance.Request) payment.Payment {
	t.Helper()
	if req.IdempotencyKey == "" {
		req.IdempotencyKey = req.Operator.ID + "/sale-" + string(req.Channel)
	}
	priced, err := d.Price(context.Background(), *req)
	if err != nil {
		t.Fatal(err)
	}
	pays := &payment.Service{Store: st, Now: d.Now}
	p, _, err := pays.Create(context.Background(), payment.Order{Method: payment.Till, AmountCents: priced.TotalCents, RequestKey: req.IdempotencyKey,
		RequestHash: priced.Hash, OperatorID: req.Operator.ID, DeviceKeyID: device, Types: priced.Types, SubjectName: priced.SubjectName})
	if err != nil {
		t.Fatal(err)
	}
	req.PaymentID = p.ID
	return p
}

// TestSelfServiceIssuedOnlyWhenPaid: the desk, not only the API, refuses a
// self-service request with a cost until its payment is paid, and uses
// the payment with the certificate.
func TestSelfServiceIssuedOnlyWhenPaid(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	st := payments(t, d)
	tap := issuancetest.CIETap(t, virtual.Genuine, device, issuancetest.CIENIS(t, d.Store, c.Requester, now), now, true)
	req := counter(c.Requester, tap)
	req.Channel = certificate.SelfService
	req.IdempotencyKey = "op-0001/k1"
	if _, err := d.Issue(ctx, req); !errors.Is(err, payment.ErrRequired) {
		t.Fatalf("unpaid: %v, want ErrRequired", err)
	}
	p := pendingFor(t, d, st, &req)
	if _, err := d.Issue(ctx, req); !errors.Is(err, payment.ErrNotPaid) {
		t.Fatalf("pending: %v, want ErrNotPaid", err)
	}
	if _, err := (&payment.Service{Store: st, Now: d.Now}).ConfirmTill("op-0001", p.TillCode, "clerk-1", "Anna Bianchi"); err != nil {
		t.Fatal(err)
	}
	res, err := d.Issue(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Record.PaymentID != p.ID || res.Record.PaidWith != "till" || res.Record.TotalCents != p.AmountCents {
		t.Errorf("record: payment %q %q total %d, want %s till %d", res.Record.PaymentID, res.Record.PaidWith, res.Record.TotalCents, p.ID, p.AmountCents)
	}
	if used, _ := st.Get(p.ID); used.State != payment.Used || used.Certificate != res.Record.ID {
		t.Errorf("payment after issue: %+v", used)
	}
	again, err := d.Issue(ctx, req)
	if err != nil || !again.Replayed || again.Record.ID != res.Record.ID {
		t.Errorf("retry: %+v %v, want the same certificate", again.Record.ID, err)
	}
	other := req
	other.IdempotencyKey = "op-0001/k2"
	if _, err := d.Issue(ctx, other); !errors.Is(err, payment.ErrUsed) {
		t.Errorf("another request with a used payment: %v, want ErrUsed", err)
	}
	// The counter's requests are paid at the counter: no payment here.
	if _, err := d.Issue(ctx, counter(c.Requester, tap)); err != nil {
		t.Errorf("counter: %v", err)
	}
}

// staleCheck is a payment store whose check answers with the payment as
// it was before another request used it: the use in the issuing
// transaction, which reads the payment as it is, then fails.
type staleCheck struct {
	*paybolt.Store
	seen payment.Payment
}

func (f staleCheck) Check(string, payment.Claim, time.Time) (payment.Payment, error) {
	return f.seen, nil
}

// setPayment stores p as it is, through the hub's store.
func setPayment(t *testing.T, d *issuancetest.Desk, p payment.Payment) {
	t.Helper()
	if err := d.Stores.Update(context.Background(), func(tx store.Tx) error { return tx.Payments().Put(&p) }); err != nil {
		t.Fatal(err)
	}
}

// TestPaymentUsedInTheIssuingTransaction: when the payment cannot be used
// in the transaction that stores the certificate, nothing is issued: no
// certificate under the key, the payment still paid, and the number given
// back (the next certificate takes it).
func TestPaymentUsedInTheIssuingTransaction(t *testing.T) {
	d, c := castDesk(t)
	ctx := context.Background()
	st := payments(t, d)
	tap := issuancetest.CIETap(t, virtual.Genuine, device, issuancetest.CIENIS(t, d.Store, c.Requester, now), now, true)
	prior, err := d.Issue(ctx, counter(c.Requester, tap))
	if err != nil {
		t.Fatal(err)
	}
	req := counter(c.Requester, tap)
	req.Channel = certificate.SelfService
	p := paidFor(t, d, st, &req)
	// Another request uses the payment between the check and the commit.
	d.Payments = staleCheck{st, p}
	used := p
	used.State, used.Certificate = payment.Used, "another-certificate"
	setPayment(t, d, used)
	if _, err := d.Issue(ctx, req); !errors.Is(err, payment.ErrUsed) {
		t.Fatalf("issue with a payment used meanwhile: %v, want ErrUsed", err)
	}
	if got, _ := st.Get(p.ID); got.State != payment.Used || got.Certificate != "another-certificate" {
		t.Errorf("payment after the failed issue: %+v, want the other request's use untouched", got)
	}
	setPayment(t, d, p)
	d.Payments = st
	res, err := d.Issue(ctx, req)
	if err != nil || res.Replayed {
		t.Fatalf("issue once the use works: replayed %v, %v; want a first issuance (nothing was stored before)", res.Replayed, err)
	}
	if got, _ := st.Get(p.ID); got.State != payment.Used || got.Certificate != res.Record.ID {
		t.Errorf("payment: %+v", got)
	}
	// The failed attempt's number went back: this one follows the prior.
	if progressive(t, res.Record.Protocol) != progressive(t, prior.Record.Protocol)+1 {
		t.Errorf("protocol numbers %s then %s: the failed issuance kept a number", prior.Record.Protocol, res.Record.Protocol)
	}
}

// progressive is the number's progressive, after its last slash.
func progressive(t *testing.T, protocol string) int {
	t.Helper()
	n, err := strconv.Atoi(protocol[strings.LastIndex(protocol, "/")+1:])
	if err != nil {
		t.Fatalf("protocol %q: %v", protocol, err)
	}
	return n
}
