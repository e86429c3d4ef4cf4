package hubclient

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/sportello/sportello/internal/api"
)

// GiveDelegation gives the delegation req describes (POST
// /api/v1/delegations); idemKey makes a retry answer the delegation the
// first attempt gave rather than a second one.
func (c *Client) GiveDelegation(ctx context.Context, req api.DelegationRequest, idemKey string) (*api.Delegation, error) {
	if strings.TrimSpace(idemKey) == "" {
		return nil, errors.New("a delegation is given with an idempotency key")
	}
	var out api.Delegation
	if _, err := c.callJSON(ctx, "POST", api.PathDelegations, nil, req, idemKey, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delegations lists the delegations the identified citizen gave and
// received, with the acts done under each.
func (c *Client) Delegations(ctx context.Context, req api.DelegationsRequest) (*api.Delegations, error) {
	var out api.Delegations
	if _, err := c.callJSON(ctx, "POST", api.PathDelegationList, nil, req, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeDelegation revokes delegation id, which the identified citizen
// gave.
func (c *Client) RevokeDelegation(ctx context.Context, id string, req api.DelegationsRequest) (*api.Delegation, error) {
	var out api.Delegation
	if _, err := c.callJSON(ctx, "POST", api.PathDelegationRevoke+url.PathEscape(id)+"/revoke", nil, req, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Dossier fetches the identified citizen's dossier.
func (c *Client) Dossier(ctx context.Context, q api.DossierQuery) (*api.Dossier, error) {
	var out api.Dossier
	if _, err := c.callJSON(ctx, "POST", api.PathDossier, nil, q, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DossierPDF fetches the identified citizen's dossier as an A4 PDF.
func (c *Client) DossierPDF(ctx context.Context, q api.DossierQuery) ([]byte, error) {
	_, b, err := c.call(ctx, "POST", api.PathDossierPDF, nil, q, "")
	return b, err
}
