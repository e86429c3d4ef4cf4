package kiosk

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/hubclient"
)

// ClientHub is the Hub over the kiosk's signed hub client: issuance, PDFs and
// health through hubclient (retries under one Idempotency-Key), the person
// look-up through an HTTPHub signed with the same enrolled key.
type ClientHub struct {
	C      *hubclient.Client
	Lookup *HTTPHub
}

// NewClientHub binds an enrolled profile.
func NewClientHub(c *hubclient.Client) *ClientHub {
	p := c.Profile
	signer := &httpsig.Signer{Key: ed25519.NewKeyFromSeed(p.DeviceKey), KeyID: p.KeyID, Clock: c.Clock, Extra: []string{"idempotency-key"}}
	base := http.DefaultTransport
	if c.HTTP != nil && c.HTTP.Transport != nil {
		base = c.HTTP.Transport
	}
	tr := &SigningTransport{Signer: signer, HubKey: ed25519.PublicKey(p.HubKey), HubKID: p.HubKeyID, Base: base}
	return &ClientHub{C: c, Lookup: &HTTPHub{Base: p.HubURL, Client: &http.Client{Transport: tr}}}
}

// clientErr maps the client's errors onto the flow's: a refusal, or offline.
func clientErr(err error) error {
	var ae *hubclient.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae) && ae.Status < 500 && ae.Status != http.StatusTooManyRequests:
		return &Refusal{Status: ae.Status, Reason: ae.Reason, Message: ae.Message}
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %v", ErrOffline, err)
}

func (h *ClientHub) LookupPerson(ctx context.Context, q PersonQuery) (*Person, error) {
	return h.Lookup.LookupPerson(ctx, q)
}

func (h *ClientHub) Issue(ctx context.Context, req IssueRequest) (*Issued, error) {
	c, err := h.C.IssueCertificate(ctx, hubclient.CertificateRequest{CF: req.SubjectCF, Types: typeNames(req.Types),
		Exemption: hubclient.Exemption{Code: req.Exemption.Code, Text: req.Exemption.Text}, RequesterCF: req.RequesterCF,
		Channel: string(req.Channel), IdempotencyKey: req.Key})
	if err != nil {
		return nil, clientErr(err)
	}
	var lines []fees.Line
	if len(c.Fees) > 0 {
		if err := json.Unmarshal(c.Fees, &lines); err != nil {
			return nil, fmt.Errorf("the hub's fee lines are not the expected JSON: %w", err)
		}
	}
	return &Issued{ID: c.ID, Protocol: c.Protocol, Title: c.Title, Types: c.Types, Fees: lines, TotalCents: c.TotalCents,
		VerifyURL: c.VerifyURL, Issued: c.Issued}, nil
}

func (h *ClientHub) PDF(ctx context.Context, id string) ([]byte, error) {
	b, err := h.C.CertificatePDF(ctx, id)
	return b, clientErr(err)
}

func (h *ClientHub) Ping(ctx context.Context) error {
	_, err := h.C.Health(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrOffline, err)
	}
	return nil
}
