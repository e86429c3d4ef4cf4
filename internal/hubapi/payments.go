package hubapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
)

// Payments (issue 15 item 4): a self-service kiosk asks the hub for a
// payment of the request it is about to send, the citizen pays at the
// shop's till (the counter confirms the code) or a pagoPA notice, and the
// kiosk then sends the certificate request naming the payment, which the
// desk checks and uses in the issuing transaction (issuance.Service.Issue).

func (s *Server) paymentRoutes(mux *http.ServeMux) {
	// The paths are api.PathPayments, api.PathPaymentConfirm and
	// api.PathPayment, spelt out for TestOpenAPIMatchesRoutes.
	mux.Handle("POST /api/v1/payments", s.signed(s.limited(limitPayment, http.HandlerFunc(s.createPayment))))
	mux.Handle("GET /api/v1/payments", s.signed(http.HandlerFunc(s.pendingPayments)))
	mux.Handle("POST /api/v1/payments/confirm", s.signed(s.limited(limitTillConfirm, http.HandlerFunc(s.confirmPayment))))
	mux.Handle("GET /api/v1/payments/{id}", s.signed(http.HandlerFunc(s.getPayment)))
	mux.Handle("DELETE /api/v1/payments/{id}", s.signed(http.HandlerFunc(s.cancelPayment)))
}

// apiPayment is p as a kiosk sees it.
func apiPayment(p payment.Payment) api.Payment {
	out := api.Payment{ID: p.ID, Method: string(p.Method), State: string(p.State), AmountCents: p.AmountCents,
		Created: p.Created, Expires: p.Expires, Code: p.TillCode, ConfirmedBy: p.ConfirmedByName, Receipt: p.Receipt,
		Types: p.Types, SubjectName: p.SubjectName}
	if !p.Paid.IsZero() {
		paid := p.Paid
		out.Paid = &paid
	}
	if p.Method == payment.PagoPA && p.NoticeNumber != "" {
		out.NoticeNumber, out.CreditorFiscalCode = p.NoticeNumber, p.CreditorCF
		out.QR = payment.NoticeQR(p.NoticeNumber, p.CreditorCF, p.AmountCents)
	}
	return out
}

// noPayments is the answer of a hub with no payment service.
var noPayments = fmt.Errorf("%w: this hub takes no payments", payment.ErrMethod)

func (s *Server) createPayment(w http.ResponseWriter, r *http.Request) {
	if s.Payments == nil {
		s.fail(w, r, noPayments)
		return
	}
	op, err := s.operatorOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if key == "" || len(key) > 200 {
		s.fail(w, r, fault.New(fault.Malformed, "idempotency_key_required", "a payment needs the Idempotency-Key of the certificate request it pays for, at most 200 characters"))
		return
	}
	var body api.PaymentRequest
	if err := decodeBody(r, maxRequestBody, &body, "the request body is not the expected JSON"); err != nil {
		s.fail(w, r, err)
		return
	}
	req := body.Request
	ch, err := requestChannel(req.Channel, api.ChannelSelfService)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ch != api.ChannelSelfService {
		s.fail(w, r, fmt.Errorf("%w: a counter request is paid at the counter, not through the hub", payment.ErrMethod))
		return
	}
	method := payment.Method(body.Method)
	if err := s.offers(r, method); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Requester == nil || req.Requester.Method == "" {
		s.fail(w, r, fault.New(fault.Malformed, api.ReasonRequesterEvidenceRequired, "the request names no requester evidence: identify the person asking with their CIE, or their codice fiscale and identity document, and send it as requester"))
		return
	}
	at, err := historicalDate(req.At)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The hub prices the request itself, with every check issuance runs,
	// so no payment is taken for a certificate it would refuse and no
	// kiosk names its own price.
	ireq := issuance.Request{
		SubjectCF: req.CF, Types: req.Types, Exemption: req.Exemption, Evidence: evidenceOf(r, *req.Requester),
		Contrassegno: req.Contrassegno, Use: req.Use, Channel: certificate.SelfService, Operator: op,
		IdempotencyKey: op.ID + "/" + key, Actor: deviceActor(r), At: at,
	}
	priced, err := s.Desk.Price(r.Context(), ireq)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if priced.TotalCents <= 0 {
		s.fail(w, r, fmt.Errorf("%w: this request costs nothing; send it without a payment", payment.ErrMethod))
		return
	}
	p, created, err := s.Payments.Create(r.Context(), payment.Order{
		Method: method, AmountCents: priced.TotalCents, RequestKey: ireq.IdempotencyKey, RequestHash: priced.Hash,
		DeviceKeyID: deviceActor(r).ID, OperatorID: op.ID, Types: priced.Types, SubjectName: priced.SubjectName,
		SubjectCF: priced.SubjectCF,
		DebtorCF:  priced.RequesterCF, DebtorName: priced.RequesterName,
		Description: "Certificato anagrafico " + strings.Join(priced.Types, ", "),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	} else {
		s.Log.Info("payment created", "id", p.ID, "method", p.Method, "amount_cents", p.AmountCents, "operator", op.ID, "key_id", p.DeviceKeyID)
	}
	writeJSON(w, status, apiPayment(p))
}

// offers refuses a method the hub does not offer the device: pagoPA
// without a creditor service; the till where there is none, at a device
// whose operator is not a shop (an unattended self-service kiosk of the
// city, a registry office).
func (s *Server) offers(r *http.Request, m payment.Method) error {
	switch m {
	case payment.PagoPA:
		if s.Payments.Gateway == nil {
			return fmt.Errorf("%w: this hub has no pagoPA service configured; pay at the till where there is one", payment.ErrMethod)
		}
		return nil
	case payment.Till:
		if s.Operators == nil {
			return fmt.Errorf("%w: this device has no shop till", payment.ErrMethod)
		}
		keyID, err := signedKey(r)
		if err != nil {
			return err
		}
		_, o, err := s.Operators.Authorise(keyID)
		if err != nil {
			return err
		}
		if o.Category == operators.SelfService || o.Category == operators.RegistryOffice {
			return fmt.Errorf("%w: %s has no till: pay with pagoPA", payment.ErrMethod, o.DisplayName())
		}
		return nil
	}
	return fmt.Errorf("%w: %q is neither %s nor %s", payment.ErrMethod, m, api.PayAtTill, api.PayPagoPA)
}

// ownPayment is payment id when it is the device's operator's; another
// shop's is answered exactly as one that does not exist.
func (s *Server) ownPayment(r *http.Request, refresh bool) (payment.Payment, error) {
	if s.Payments == nil {
		return payment.Payment{}, noPayments
	}
	op, err := s.operatorOf(r)
	if err != nil {
		return payment.Payment{}, err
	}
	id := r.PathValue("id")
	p, err := s.Payments.Store.Get(id)
	if err == nil && p.OperatorID != op.ID {
		s.Log.Warn("a device asked for another operator's payment", "key_id", deviceActor(r).ID, "operator", op.ID, "payment", id)
		err = fmt.Errorf("%w: %q", payment.ErrNotFound, id)
	}
	if err != nil || !refresh {
		return p, err
	}
	q, err := s.Payments.Get(r.Context(), id)
	if errors.Is(err, payment.ErrServiceDown) {
		// The kiosk polls: while pagoPA does not answer the payment is
		// still pending as far as the hub knows.
		s.Log.Warn("the pagoPA service did not answer a payment's status", "payment", id, "err", err)
		return p, nil
	}
	return q, err
}

func (s *Server) getPayment(w http.ResponseWriter, r *http.Request) {
	p, err := s.ownPayment(r, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPayment(p))
}

// cancelPayment drops a pending payment; a paid or used one is answered
// as it stands (the money was taken: the kiosk goes on to issue).
func (s *Server) cancelPayment(w http.ResponseWriter, r *http.Request) {
	p, err := s.ownPayment(r, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := s.Payments.Cancel(r.Context(), p.ID)
	if errors.Is(err, payment.ErrTransition) {
		writeJSON(w, http.StatusOK, apiPayment(q))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Log.Info("payment cancelled", "id", q.ID, "state", q.State, "key_id", deviceActor(r).ID)
	writeJSON(w, http.StatusOK, apiPayment(q))
}

// tillClerk is the clerk a till request is made by: always one, whatever
// RequireClerk says, since confirming takes the shop's word for money.
func (s *Server) tillClerk(r *http.Request) (*operators.Clerk, error) {
	c, ok := ClerkOf(r.Context())
	if !ok {
		return nil, fault.New(fault.Unauthenticated, api.ReasonClerkLoginRequired, "a clerk must log in at the counter before confirming or listing till payments")
	}
	return c, nil
}

// pendingPayments lists the shop's till payments waiting for the counter.
func (s *Server) pendingPayments(w http.ResponseWriter, r *http.Request) {
	if s.Payments == nil {
		s.fail(w, r, noPayments)
		return
	}
	op, err := s.operatorOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err := s.tillClerk(r); err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := s.Payments.PendingTill(op.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.PaymentList{Payments: make([]api.Payment, 0, len(ps))}
	for _, p := range ps {
		// The list goes to the shop's counter at every status poll and is
		// not an audited read of anyone's data, so it names no one: the
		// citizen shows the code, and the amount and the types are all the
		// till needs to take the money (the confirmation is audited).
		ap := apiPayment(p)
		ap.SubjectName = ""
		out.Payments = append(out.Payments, ap)
	}
	writeJSON(w, http.StatusOK, out)
}

// confirmPayment is the shop's counter saying its till took the money.
func (s *Server) confirmPayment(w http.ResponseWriter, r *http.Request) {
	if s.Payments == nil {
		s.fail(w, r, noPayments)
		return
	}
	op, err := s.operatorOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	clerk, err := s.tillClerk(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body api.PaymentConfirm
	if err := decodeBody(r, 4<<10, &body, "the request body is not the expected JSON"); err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.Payments.ConfirmTill(op.ID, body.Code, clerk.ID, clerk.Name)
	if err != nil {
		s.Log.Info("till payment not confirmed", "operator", op.ID, "key_id", deviceActor(r).ID, "clerk", clerk.ID, "err", err)
		s.fail(w, r, err)
		return
	}
	// The counter learnt whose certificate the money pays for: the
	// audit log says which clerk confirmed it, at which device.
	if s.Desk != nil && s.Desk.Audit != nil {
		e := audit.Entry{Time: s.Now(), Actor: deviceActor(r), Purpose: "conferma del pagamento alla cassa di un certificato richiesto in self-service (pagamento " + p.ID + ")",
			Subject: p.SubjectCF, Data: "nome dell'intestatario, certificati richiesti", Channel: api.ChannelCounter, Request: p.RequestKey,
			Clerk: audit.Clerk{ID: clerk.ID, Name: clerk.Name}}
		if e.Subject == "" {
			e.Subject = "-"
		}
		if err := s.Desk.Audit.Record(r.Context(), e); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.Log.Info("till payment confirmed", "id", p.ID, "operator", op.ID, "clerk", clerk.ID, "amount_cents", p.AmountCents)
	writeJSON(w, http.StatusOK, apiPayment(p))
}
