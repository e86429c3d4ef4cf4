package kiosk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/hubclient"
	"github.com/sportello/sportello/internal/limits"
)

// ClientHub is the Hub over the kiosk's signed hub client: every call is
// signed with the enrolled device key, every answer checked against the
// pinned hub key, and retried under one Idempotency-Key.
type ClientHub struct {
	C *hubclient.Client
	// Sent, when set, is called once a certificate request has been
	// written to the connection, before the hub's answer is read. It is a
	// test hook: the kiosk's crash test stops the process there.
	Sent func()
}

// NewClientHub binds an enrolled client.
func NewClientHub(c *hubclient.Client) *ClientHub { return &ClientHub{C: c} }

// clientErr maps the client's errors onto the flow's, for every call the
// kiosk makes to the hub, as api.Decide says: an answer the hub will give
// again (a refusal, or a device it will not hear now) is the client's
// *api.Refusal itself (api.Refused); an
// answer that is not the declared JSON stays a plain error, since the hub
// was reached; anything else (no connection, the hub unavailable or failing
// on the request, an answer the pinned key did not sign) is ErrOffline, so
// the flow queues. The hub's answer stays in the chain (*api.Refusal) for
// the outbox to classify the same way.
func clientErr(err error) error {
	switch {
	case err == nil:
		return nil
	case isRefused(err):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, hubclient.ErrBadAnswer):
		return err
	}
	return fmt.Errorf("%w: %w", ErrOffline, err)
}

// isRefused reports whether err is a refusal the flow tells the operator.
func isRefused(err error) bool {
	_, ok := api.Refused(err)
	return ok
}

// rateLimited reports whether err is the hub's 429 rate_limited: the
// client keeps it in ErrOffline's chain so that a sale waits in the outbox
// for the Retry-After, but the hub answered, and the clerk is told to
// slow down rather than that the hub cannot be reached.
func rateLimited(err error) bool {
	var ae *api.Refusal
	return errors.As(err, &ae) && (ae.Reason == limits.ReasonRateLimited || ae.Reason == "" && ae.Status == http.StatusTooManyRequests)
}

// LookupPerson sends the evidence of who stands at the kiosk to the hub,
// which verifies it (the CIE tap against its own CSCA list, or the document
// in its registry) and answers the person and their famiglia anagrafica.
func (h *ClientHub) LookupPerson(ctx context.Context, q PersonQuery) (*Person, error) {
	req := api.IdentifyRequest{Requester: q.Requester, Channel: api.ChannelCounter}
	if q.Channel == certificate.SelfService {
		req.Channel = api.ChannelSelfService
	}
	pv, err := h.C.Identify(ctx, req)
	if err != nil {
		return nil, clientErr(err)
	}
	p := &Person{CF: pv.CF, Surname: pv.Surname, GivenNames: pv.GivenNames, BirthDate: pv.BirthDate, Eligibility: eligibilityOf(pv.Eligibility)}
	for _, m := range pv.Family {
		p.Family = append(p.Family, Member{CF: m.CF, Surname: m.Surname, GivenNames: m.GivenNames, BirthDate: m.BirthDate, Relationship: m.Relationship,
			Eligibility: eligibilityOf(m.Eligibility)})
	}
	return p, nil
}

// requestOf is the API's body for a request; the outbox keeps it too.
func requestOf(req IssueRequest) api.CertificateRequest {
	return api.CertificateRequest{CF: req.SubjectCF, Types: typeNames(req.Types), Exemption: req.Exemption,
		Requester: req.Requester, Channel: string(req.Channel), IdempotencyKey: req.Key,
		Contrassegno: req.Contrassegno, Use: req.Use, At: req.At, PaymentID: req.PaymentID}
}

func (h *ClientHub) Issue(ctx context.Context, req IssueRequest) (*Issued, error) {
	if h.Sent != nil {
		sent := h.Sent
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(w httptrace.WroteRequestInfo) {
			if w.Err == nil {
				sent()
			}
		}})
	}
	c, err := h.C.IssueCertificate(ctx, requestOf(req))
	if err != nil {
		return nil, clientErr(err)
	}
	return &Issued{ID: c.ID, Protocol: c.Protocol, Title: c.Title, Types: c.Types, Fees: c.Fees, TotalCents: c.TotalCents,
		VerifyURL: c.VerifyURL, Issued: c.Issued}, nil
}

func (h *ClientHub) PDF(ctx context.Context, id string) ([]byte, error) {
	b, err := h.C.CertificatePDF(ctx, id)
	if err != nil {
		return nil, clientErr(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF")) {
		return nil, errors.New("the hub's answer is not a PDF")
	}
	return b, nil
}

// CopyPDF downloads the "COPIA" of an issued certificate (every page
// marked, no seal), what a self-service kiosk reprints (copy.go).
func (h *ClientHub) CopyPDF(ctx context.Context, id string) ([]byte, error) {
	b, err := h.C.CertificateCopyPDF(ctx, id)
	if err != nil {
		return nil, clientErr(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF")) {
		return nil, errors.New("the hub's answer is not a PDF")
	}
	return b, nil
}

func (h *ClientHub) Ping(ctx context.Context) error {
	_, err := h.C.Health(ctx)
	if versionRefused(err) {
		// Not reachable for this kiosk, and why: the status bar says so.
		return fmt.Errorf("%w: %w", ErrOffline, err)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOffline, err)
	}
	return nil
}

// APISunset is the day the hub stops serving this kiosk's API version,
// while it is retiring it.
func (h *ClientHub) APISunset() (time.Time, bool) { return h.C.Sunset() }

// Standing asks the hub, with this device's signature, whether it still
// hears the device: a *Refusal with ReasonSuspended or ReasonRevoked when
// city staff have suspended or revoked it (or its shop).
func (h *ClientHub) Standing(ctx context.Context) error {
	_, err := h.C.Self(ctx)
	return clientErr(err)
}

func (h *ClientHub) LogInClerk(ctx context.Context, req api.ClerkLogin) (*Staff, error) {
	s, err := h.C.LogInClerk(ctx, req)
	if err != nil {
		return nil, clientErr(err)
	}
	// The token stays in the client, in memory: the flow never sees it.
	h.C.SetClerk(s.Token)
	return &Staff{ID: s.ClerkID, Name: s.Name, CF: s.CF, Until: s.Expires}, nil
}

// LogOutClerkTimeout bounds the background log-out call.
const LogOutClerkTimeout = 10 * time.Second

func (h *ClientHub) LogOutClerk() {
	token := h.C.Clerk()
	h.C.SetClerk("")
	if token == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), LogOutClerkTimeout)
		defer cancel()
		// An ended session the hub did not hear of still ends at midnight,
		// and no kiosk holds its token any more.
		h.C.EndClerkSession(ctx, token)
	}()
}
