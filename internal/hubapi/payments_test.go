package hubapi

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pdf"
	"go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	certpdf "github.com/sportello/sportello/internal/certificate/pdf"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/payment/gpd"
	"github.com/sportello/sportello/internal/payment/gpd/gpdtest"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/seal"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt/paybolt"
)

// payFixture is the clerk fixture with payments: a1 is shop A's
// self-service kiosk, a2 its counter where the clerk logs in, b1 shop B's
// kiosk. The citizen is the clerk's card holder, asking at a1 about
// themself with their CIE and PIN.
type payFixture struct {
	*clerkFixture
	pays  *payment.Service
	store *paybolt.Store
}

func newPayFixture(t *testing.T, gw payment.Gateway) *payFixture {
	t.Helper()
	f := newClerkFixture(t)
	st, err := paybolt.New(f.api.Store.(interface{ DB() *bbolt.DB }).DB())
	if err != nil {
		t.Fatal(err)
	}
	f.desk.Payments = st
	f.desk.Now = f.clock // expiry is the desk's business too
	f.api.Payments = &payment.Service{Store: st, Gateway: gw, Now: f.clock}
	return &payFixture{clerkFixture: f, pays: f.api.Payments, store: st}
}

// sendKey signs and sends body from d with Idempotency-Key key (none when
// empty) and the clerk session token when not empty.
func (f *payFixture) sendKey(t *testing.T, d device, method, path, key string, body any, token string) (int, []byte) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(b))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if token != "" {
		req.Header.Set("Sportello-Clerk", token)
	}
	resp, out := send(t, req, &httpsig.Signer{Key: d.priv, KeyID: d.keyID, Clock: f.clock}, b)
	return resp.StatusCode, out
}

// request is the citizen's self-service request for their own residenza,
// identified by a tap of their CIE at d.
func (f *payFixture) request(t *testing.T, d device) api.CertificateRequest {
	return api.CertificateRequest{CF: f.clerk.CF, Types: []string{"residenza"}, Channel: api.ChannelSelfService, Requester: f.tap(t, d.keyID)}
}

func (f *payFixture) pay(t *testing.T, d device, key string, req api.CertificateRequest, method string) (int, api.Payment, string) {
	t.Helper()
	st, body := f.sendKey(t, d, "POST", api.PathPayments, key, api.PaymentRequest{Request: req, Method: method}, "")
	var p api.Payment
	json.Unmarshal(body, &p)
	return st, p, reasonOf(body)
}

func (f *payFixture) issueKey(t *testing.T, d device, key string, req api.CertificateRequest) (int, api.Certificate, string) {
	t.Helper()
	st, body := f.sendKey(t, d, "POST", "/api/v1/certificates", key, req, "")
	var c api.Certificate
	json.Unmarshal(body, &c)
	return st, c, reasonOf(body)
}

func (f *payFixture) clerkAt(t *testing.T, d device) string {
	t.Helper()
	st, reason, sess := f.logIn(t, d, api.ClerkLogin{CIE: f.tap(t, d.keyID)})
	if st != http.StatusCreated {
		t.Fatalf("clerk log-in: %d %s", st, reason)
	}
	return sess.Token
}

func (f *payFixture) getPayment(t *testing.T, d device, id string) (int, api.Payment, string) {
	t.Helper()
	st, body := f.sendKey(t, d, "GET", "/api/v1/payments/"+id, "", nil, "")
	var p api.Payment
	json.Unmarshal(body, &p)
	return st, p, reasonOf(body)
}

func TestTillPaymentThenIssue(t *testing.T) {
	f := newPayFixture(t, nil)
	req := f.request(t, f.a1)

	// Unpaid: refused, whatever the kiosk says; nothing is numbered.
	if st, _, reason := f.issueKey(t, f.a1, "sale-1", req); st != http.StatusPaymentRequired || reason != api.ReasonPaymentRequired {
		t.Fatalf("self-service issue without a payment: %d %s, want 402 %s", st, reason, api.ReasonPaymentRequired)
	}

	st, p, reason := f.pay(t, f.a1, "sale-1", req, api.PayAtTill)
	if st != http.StatusCreated || p.State != api.PaymentPending || p.Method != api.PayAtTill || p.AmountCents <= 0 {
		t.Fatalf("create till payment: %d %s %+v", st, reason, p)
	}
	if len(p.Code) != payment.TillCodeLen || strings.ContainsAny(p.Code, "0O1I") {
		t.Errorf("till code %q: want %d characters without 0, O, 1, I", p.Code, payment.TillCodeLen)
	}
	if !p.Expires.Equal(f.clock().Add(payment.DefaultTTL)) || p.SubjectName == "" || len(p.Types) != 1 {
		t.Errorf("payment %+v: want expiry in %s, the subject's name and the type", p, payment.DefaultTTL)
	}
	// The amount is the hub's own price of the request: what the
	// certificate will cost once issued.
	if st, again, _ := f.pay(t, f.a1, "sale-1", req, api.PayAtTill); st != http.StatusOK || again.ID != p.ID || again.Code != p.Code {
		t.Errorf("repeated key: %d %+v, want 200 and payment %s", st, again, p.ID)
	}

	// Pending: refused.
	req.PaymentID = p.ID
	if st, _, reason := f.issueKey(t, f.a1, "sale-1", req); st != http.StatusConflict || reason != api.ReasonPaymentPending {
		t.Fatalf("issue against a pending payment: %d %s", st, reason)
	}

	// The counter: no clerk, no list and no confirmation.
	if st, body := f.sendKey(t, f.a2, "POST", api.PathPaymentConfirm, "", api.PaymentConfirm{Code: p.Code}, ""); st != http.StatusUnauthorized || reasonOf(body) != api.ReasonClerkLoginRequired {
		t.Errorf("confirm without a clerk: %d %s", st, body)
	}
	token := f.clerkAt(t, f.a2)
	st, body := f.sendKey(t, f.a2, "GET", api.PathPayments, "", nil, token)
	var list api.PaymentList
	json.Unmarshal(body, &list)
	if st != http.StatusOK || len(list.Payments) != 1 || list.Payments[0].Code != p.Code || list.Payments[0].SubjectName != "" || len(list.Payments[0].Types) != 1 {
		t.Fatalf("pending till payments at the counter: %d %s", st, body)
	}
	// Shop B's kiosk takes its own till payment; its code is unknown at A.
	_, pb, _ := f.pay(t, f.b1, "sale-b", api.CertificateRequest{CF: f.clerk.CF, Types: []string{"residenza"}, Channel: api.ChannelSelfService, Requester: f.tap(t, f.b1.keyID)}, api.PayAtTill)
	if pb.Code == "" {
		t.Fatalf("shop B's till payment: %+v", pb)
	}
	if st, body := f.sendKey(t, f.a2, "POST", api.PathPaymentConfirm, "", api.PaymentConfirm{Code: pb.Code}, token); st != http.StatusNotFound || reasonOf(body) != api.ReasonPaymentUnknown {
		t.Errorf("confirm another shop's code: %d %s, want 404 %s", st, body, api.ReasonPaymentUnknown)
	}
	if st, _, reason := f.getPayment(t, f.a1, pb.ID); st != http.StatusNotFound || reason != api.ReasonPaymentUnknown {
		t.Errorf("another shop's payment by id: %d %s", st, reason)
	}
	// Typed in lower case with a dash, as a clerk might.
	typed := strings.ToLower(p.Code[:3] + "-" + p.Code[3:])
	st, body = f.sendKey(t, f.a2, "POST", api.PathPaymentConfirm, "", api.PaymentConfirm{Code: typed}, token)
	var paid api.Payment
	json.Unmarshal(body, &paid)
	if st != http.StatusOK || paid.State != api.PaymentPaid || paid.ConfirmedBy != f.clerk.Name || paid.Paid == nil {
		t.Fatalf("confirm: %d %s", st, body)
	}
	es, err := store.AuditLog{S: f.desk.Stores}.Search(audit.Query{Actor: "clerk:" + f.clerk.ID}, 100)
	if err != nil {
		t.Fatal(err)
	}
	confirmed := false
	for _, e := range es {
		confirmed = confirmed || strings.Contains(e.Purpose, "conferma del pagamento alla cassa") && e.Subject == f.clerk.CF && e.Actor.ID == f.a2.keyID
	}
	if !confirmed {
		t.Errorf("no audit entry of the confirmation naming the clerk, the counter and the subject: %+v", es)
	}

	// Paid: issued, and the payment used in the same transaction.
	st, c, reason := f.issueKey(t, f.a1, "sale-1", req)
	if st != http.StatusCreated || c.TotalCents != p.AmountCents {
		t.Fatalf("issue against the paid payment: %d %s %+v", st, reason, c)
	}
	rec, err := f.desk.Certs.Get(c.ID)
	if err != nil || rec.PaymentID != p.ID || rec.PaidWith != string(payment.Till) {
		t.Errorf("certificate record: payment %q paid with %q (%v), want %s till", rec.PaymentID, rec.PaidWith, err, p.ID)
	}
	if _, used, _ := f.getPayment(t, f.a1, p.ID); used.State != api.PaymentUsed {
		t.Errorf("payment after issue: %+v, want used", used)
	}
	// A retry of the same request: the same certificate.
	if st, again, _ := f.issueKey(t, f.a1, "sale-1", req); st != http.StatusOK || again.ID != c.ID || !again.Replayed {
		t.Errorf("retry: %d %+v, want 200 and certificate %s", st, again, c.ID)
	}
	// Another request naming it: used.
	if st, _, reason := f.issueKey(t, f.a1, "sale-2", req); st != http.StatusConflict || reason != api.ReasonPaymentUsed {
		t.Errorf("another request naming a used payment: %d %s", st, reason)
	}
	// Nothing is left for the counter.
	st, body = f.sendKey(t, f.a2, "GET", api.PathPayments, "", nil, token)
	json.Unmarshal(body, &list)
	if st != http.StatusOK || len(list.Payments) != 0 {
		t.Errorf("pending after issue: %d %s", st, body)
	}
}

func TestPaymentRefusals(t *testing.T) {
	f := newPayFixture(t, nil)
	req := f.request(t, f.a1)
	_, p1, _ := f.pay(t, f.a1, "k1", req, api.PayAtTill)
	token := f.clerkAt(t, f.a2)
	if st, body := f.sendKey(t, f.a2, "POST", api.PathPaymentConfirm, "", api.PaymentConfirm{Code: p1.Code}, token); st != http.StatusOK {
		t.Fatalf("confirm: %d %s", st, body)
	}
	// Paid for k1, named by k2: mismatch.
	req.PaymentID = p1.ID
	if st, _, reason := f.issueKey(t, f.a1, "k2", req); st != http.StatusConflict || reason != api.ReasonPaymentMismatch {
		t.Errorf("payment of another key: %d %s, want 409 %s", st, reason, api.ReasonPaymentMismatch)
	}
	// The same key for another request (another type, another price).
	other := req
	other.Types = []string{"residenza", "stato_di_famiglia"}
	if st, _, reason := f.issueKey(t, f.a1, "k1", other); st != http.StatusConflict || reason != api.ReasonPaymentMismatch {
		t.Errorf("payment of another request: %d %s, want 409 %s", st, reason, api.ReasonPaymentMismatch)
	}
	// An id that does not exist.
	req.PaymentID = "pay-nothing"
	if st, _, reason := f.issueKey(t, f.a1, "k1", req); st != http.StatusNotFound || reason != api.ReasonPaymentUnknown {
		t.Errorf("unknown payment: %d %s", st, reason)
	}

	// Not paid in time: expired, for the kiosk and for the counter.
	req = f.request(t, f.a1)
	_, p3, _ := f.pay(t, f.a1, "k3", req, api.PayAtTill)
	f.add(payment.DefaultTTL + time.Second)
	req = f.request(t, f.a1) // a fresh tap
	req.PaymentID = p3.ID
	if st, _, reason := f.issueKey(t, f.a1, "k3", req); st != http.StatusGone || reason != api.ReasonPaymentExpired {
		t.Errorf("expired payment: %d %s, want 410 %s", st, reason, api.ReasonPaymentExpired)
	}
	token = f.clerkAt(t, f.a2)
	if st, body := f.sendKey(t, f.a2, "POST", api.PathPaymentConfirm, "", api.PaymentConfirm{Code: p3.Code}, token); st != http.StatusGone || reasonOf(body) != api.ReasonPaymentExpired {
		t.Errorf("confirm an expired code: %d %s", st, body)
	}
	// The key takes a new payment once the old one expired.
	req.PaymentID = ""
	if st, p4, reason := f.pay(t, f.a1, "k3", req, api.PayAtTill); st != http.StatusCreated || p4.ID == p3.ID {
		t.Errorf("new payment after expiry: %d %s %+v", st, reason, p4)
	}

	// Cancelled by the kiosk: gone.
	_, p5, _ := f.pay(t, f.a1, "k5", req, api.PayAtTill)
	if st, body := f.sendKey(t, f.a1, "DELETE", "/api/v1/payments/"+p5.ID, "", nil, ""); st != http.StatusOK || !strings.Contains(string(body), `"cancelled"`) {
		t.Errorf("cancel: %d %s", st, body)
	}
	req.PaymentID = p5.ID
	if st, _, reason := f.issueKey(t, f.a1, "k5", req); st != http.StatusGone || reason != api.ReasonPaymentExpired {
		t.Errorf("cancelled payment: %d %s", st, reason)
	}

	// Methods: no pagoPA without a creditor service; none at all for a
	// counter request; no till at the city's unattended kiosk.
	if st, _, reason := f.pay(t, f.a1, "k6", f.request(t, f.a1), api.PayPagoPA); st != http.StatusBadRequest || reason != api.ReasonPaymentMethod {
		t.Errorf("pagoPA unconfigured: %d %s", st, reason)
	}
	counter := f.request(t, f.a1)
	counter.Channel = api.ChannelCounter
	if st, _, reason := f.pay(t, f.a1, "k7", counter, api.PayAtTill); st != http.StatusBadRequest || reason != api.ReasonPaymentMethod {
		t.Errorf("payment of a counter request: %d %s", st, reason)
	}
	kiosk := f.unattended(t)
	if st, _, reason := f.pay(t, kiosk, "k8", f.request(t, kiosk), api.PayAtTill); st != http.StatusBadRequest || reason != api.ReasonPaymentMethod {
		t.Errorf("till at an unattended kiosk: %d %s", st, reason)
	}
	// A request the desk would refuse takes no payment.
	bad := f.request(t, f.a1)
	bad.Types = []string{"cittadinanza"} // outside shop A's agreement
	if st, _, reason := f.pay(t, f.a1, "k9", bad, api.PayAtTill); st < 400 || st >= 500 || reason == "" {
		t.Errorf("payment for a refused request: %d %s", st, reason)
	}
}

// unattended enrols a device of the city's self-service kiosk operator.
func (f *payFixture) unattended(t *testing.T) device {
	t.Helper()
	o := &operators.Operator{
		LegalName: "Comune di Milano", Name: "Totem Stazione Centrale", PartitaIVA: "01199250158", Category: operators.SelfService,
		Address: operators.Address{Street: "Piazza Duca d'Aosta", Number: "1", CAP: "20124", City: "Milano", Lat: 45.4862, Lon: 9.2045},
		Agreement: &operators.Agreement{Signed: registry.Date{Year: 2026, Month: 1, Day: 1}, Expires: registry.Date{Year: 2027, Month: 12, Day: 31},
			Types: []certificate.Type{certificate.Residenza}},
	}
	if err := f.ops.Add(o, "staff"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []operators.Status{operators.Approved, operators.Active} {
		if _, err := f.ops.SetStatus(o.ID, st, "staff", "test"); err != nil {
			t.Fatal(err)
		}
	}
	code, _, err := f.ops.IssueCode(o.ID, "staff", 0)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	dv, err := f.ops.Enrol(code, pub, "Totem")
	if err != nil {
		t.Fatal(err)
	}
	return device{dv.KeyID, priv}
}

func TestPagoPAPaymentThenIssue(t *testing.T) {
	var f *payFixture
	gpdSrv := gpdtest.New("gpd-key", "01199250158", func() time.Time { return f.clock() })
	defer gpdSrv.Close()
	f = newPayFixture(t, &gpd.Client{BaseURL: gpdSrv.URL, Key: "gpd-key", CreditorCF: "01199250158", CompanyName: "Comune di Milano",
		SegregationCode: "07", IBAN: "IT60X0542811101000000123456", Category: "9/0101108TS/"})
	kiosk := f.unattended(t)
	req := f.request(t, kiosk)

	st, p, reason := f.pay(t, kiosk, "sale-1", req, api.PayPagoPA)
	if st != http.StatusCreated || p.State != api.PaymentPending || len(p.NoticeNumber) != 18 || p.NoticeNumber[0] != '3' || p.CreditorFiscalCode != "01199250158" || p.Code != "" {
		t.Fatalf("create pagoPA payment: %d %s %+v", st, reason, p)
	}
	if want := "PAGOPA|002|" + p.NoticeNumber + "|01199250158|" + strconv.FormatInt(p.AmountCents, 10); p.QR != want {
		t.Errorf("QR %q, want %q", p.QR, want)
	}
	req.PaymentID = p.ID
	if st, _, reason := f.issueKey(t, kiosk, "sale-1", req); st != http.StatusConflict || reason != api.ReasonPaymentPending {
		t.Fatalf("issue before the citizen paid: %d %s", st, reason)
	}
	if st, got, _ := f.getPayment(t, kiosk, p.ID); st != http.StatusOK || got.State != api.PaymentPending {
		t.Fatalf("payment before paying: %d %+v", st, got)
	}
	// The citizen pays the notice in a banking app.
	if !gpdSrv.Pay(p.NoticeNumber, f.clock().Add(-time.Second)) {
		t.Fatal("the test service could not collect the notice")
	}
	st, got, _ := f.getPayment(t, kiosk, p.ID)
	if st != http.StatusOK || got.State != api.PaymentPaid || got.Receipt == "" || got.Paid == nil {
		t.Fatalf("payment once paid at pagoPA: %d %+v", st, got)
	}
	st, c, reason := f.issueKey(t, kiosk, "sale-1", req)
	if st != http.StatusCreated || c.TotalCents != p.AmountCents {
		t.Fatalf("issue once paid: %d %s", st, reason)
	}
	if rec, _ := f.desk.Certs.Get(c.ID); rec.PaidWith != string(payment.PagoPA) || rec.PaymentID != p.ID {
		t.Errorf("certificate paid with %q by %q, want pagopa %s", rec.PaidWith, rec.PaymentID, p.ID)
	}
	if _, got, _ := f.getPayment(t, kiosk, p.ID); got.State != api.PaymentUsed {
		t.Errorf("after issue: %+v", got)
	}

	// Paid at pagoPA while the kiosk was not asking: the hub asks GPD
	// when the request names the payment.
	req4 := f.request(t, kiosk)
	_, p4, _ := f.pay(t, kiosk, "sale-4", req4, api.PayPagoPA)
	gpdSrv.Pay(p4.NoticeNumber, f.clock())
	req4.PaymentID = p4.ID
	if st, _, reason := f.issueKey(t, kiosk, "sale-4", req4); st != http.StatusCreated {
		t.Errorf("issue against a notice paid unpolled: %d %s", st, reason)
	}

	// Given up: the notice is withdrawn at GPD and cannot be paid.
	req2 := f.request(t, kiosk)
	_, p2, _ := f.pay(t, kiosk, "sale-2", req2, api.PayPagoPA)
	if st, body := f.sendKey(t, kiosk, "DELETE", "/api/v1/payments/"+p2.ID, "", nil, ""); st != http.StatusOK || !strings.Contains(string(body), `"cancelled"`) {
		t.Fatalf("cancel: %d %s", st, body)
	}
	if gpdSrv.Pay(p2.NoticeNumber, f.clock()) {
		t.Error("a cancelled notice could still be paid at pagoPA")
	}

	// The service is down: no payment, 503 payment_service_down, nothing stored.
	gpdSrv.SetDown(true)
	if st, _, reason := f.pay(t, kiosk, "sale-3", f.request(t, kiosk), api.PayPagoPA); st != http.StatusServiceUnavailable || reason != api.ReasonPaymentServiceDown {
		t.Errorf("pagoPA down: %d %s, want 503 %s", st, reason, api.ReasonPaymentServiceDown)
	}
	if _, err := f.store.ByKey(f.shopOf(t, kiosk) + "/sale-3"); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("a payment was stored while pagoPA was down: %v", err)
	}
}

// shopOf is the operator id of device d.
func (f *payFixture) shopOf(t *testing.T, d device) string {
	t.Helper()
	_, o, err := f.ops.Authorise(d.keyID)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

// TestSelfServiceReprintIsACopy: the copy of a self-service certificate is
// marked COPIA on every page, carries no seal a verifier accepts (no
// signature, no token) and is audited as a copy; the original is unchanged.
func TestSelfServiceReprintIsACopy(t *testing.T) {
	f := newPayFixture(t, nil)
	req := f.request(t, f.a1)
	_, p, _ := f.pay(t, f.a1, "sale-1", req, api.PayAtTill)
	token := f.clerkAt(t, f.a2)
	if st, body := f.sendKey(t, f.a2, "POST", api.PathPaymentConfirm, "", api.PaymentConfirm{Code: p.Code}, token); st != http.StatusOK {
		t.Fatalf("confirm: %d %s", st, body)
	}
	req.PaymentID = p.ID
	st, c, reason := f.issueKey(t, f.a1, "sale-1", req)
	if st != http.StatusCreated {
		t.Fatalf("issue: %d %s", st, reason)
	}
	st, original := f.sendKey(t, f.a1, "GET", "/api/v1/certificates/"+c.ID+"/pdf", "", nil, "")
	if st != http.StatusOK {
		t.Fatalf("original: %d", st)
	}
	if res, err := seal.VerifyPDF(original, f.desk.Keys.Trust()); err != nil || !res.Valid {
		t.Fatalf("the original does not verify: %+v %v", res, err)
	}
	st, cp := f.sendKey(t, f.a1, "GET", "/api/v1/certificates/"+c.ID+"/pdf?copy=1", "", nil, "")
	if st != http.StatusOK || !bytes.HasPrefix(cp, []byte("%PDF")) {
		t.Fatalf("copy: %d %.200s", st, cp)
	}
	if bytes.Contains(cp, []byte("/ByteRange")) || bytes.Contains(cp, []byte(certpdf.TokenKeyword)) {
		t.Error("the copy carries a signature or a seal token")
	}
	res, err := seal.VerifyPDF(cp, f.desk.Keys.Trust())
	if err != nil || res.Valid {
		t.Errorf("a verifier accepts the copy: %+v %v", res, err)
	}
	rdr, err := pdf.NewReader(bytes.NewReader(cp), int64(len(cp)))
	if err != nil {
		t.Fatal(err)
	}
	if rdr.NumPage() < 1 {
		t.Fatal("the copy has no page")
	}
	for i := 1; i <= rdr.NumPage(); i++ {
		var sb strings.Builder
		for _, tx := range rdr.Page(i).Content().Text {
			sb.WriteString(tx.S)
		}
		// The reader drops the spaces between words.
		if text := sb.String(); strings.Count(text, "COPIA") < 2 || !strings.Contains(text, "COPIA—nonvalidacomeoriginale") {
			t.Errorf("page %d of the copy is not marked COPIA twice (band and watermark): %.300q", i, text)
		}
	}
	if os.Getenv("SPORTELLO_SAVE_COPY") != "" {
		os.WriteFile(os.Getenv("SPORTELLO_SAVE_COPY"), cp, 0o644)
	}
	es, err := store.AuditLog{S: f.desk.Stores}.Search(audit.Query{Subject: f.clerk.CF}, 0)
	if err != nil {
		t.Fatal(err)
	}
	copied := false
	for _, e := range es {
		copied = copied || e.Request == c.ID && strings.Contains(e.Purpose, "copia") && e.Actor.ID == f.a1.keyID
	}
	if !copied {
		t.Errorf("no audit entry of the copy: %+v", es)
	}
	if st, _ := f.sendKey(t, f.b1, "GET", "/api/v1/certificates/"+c.ID+"/pdf?copy=1", "", nil, ""); st != http.StatusNotFound {
		t.Errorf("another shop's copy: %d", st)
	}
}

// TestUnattendedKioskIsNeverACounter: a device of the city's self-service
// kiosk operator that names the counter channel is refused, so it can
// neither take an original unpaid nor identify someone by a typed
// codice fiscale and document number — also on a hub that requires no
// clerk log-in, where nothing else stopped it.
func TestUnattendedKioskIsNeverACounter(t *testing.T) {
	f := newPayFixture(t, nil)
	f.api.RequireClerk = false
	kiosk := f.unattended(t)
	req := f.request(t, kiosk)
	req.Channel = api.ChannelCounter
	if st, c, reason := f.issueKey(t, kiosk, "k1", req); st != http.StatusBadRequest || reason != certificate.ReasonInvalidChannel || c.ID != "" {
		t.Fatalf("unpaid counter request from an unattended kiosk: %d %s %+v, want 400 %s", st, reason, c, certificate.ReasonInvalidChannel)
	}
	if st, reason := f.lookup(t, kiosk, ""); st != http.StatusBadRequest || reason != certificate.ReasonInvalidChannel {
		t.Fatalf("counter look-up from an unattended kiosk: %d %s", st, reason)
	}
	// Its own channel still works: unpaid is refused for want of payment.
	req.Channel = api.ChannelSelfService
	if st, _, reason := f.issueKey(t, kiosk, "k2", req); st != http.StatusPaymentRequired || reason != api.ReasonPaymentRequired {
		t.Fatalf("self-service request unpaid: %d %s", st, reason)
	}
	// A shop's counter device is untouched.
	if st, body := f.issue(t, f.a2, ""); st != http.StatusCreated {
		t.Fatalf("shop counter issue: %d %s", st, body)
	}
}
