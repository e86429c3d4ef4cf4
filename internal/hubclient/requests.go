package hubclient

import (
	"context"
	"net/url"

	"github.com/sportello/sportello/internal/api"
)

// FileRequest files a demographic request (POST /api/v1/requests). A
// retry after a lost answer carries the same Idempotency-Key
// (req.IdempotencyKey), so the hub answers the request it already filed
// (Replayed) rather than filing a second one under a second number.
func (c *Client) FileRequest(ctx context.Context, req api.RequestFiling) (*api.Request, error) {
	var out api.Request
	if _, err := c.callJSON(ctx, "POST", api.PathRequests, nil, req, req.IdempotencyKey, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Request reads a request this shop filed and where it stands.
func (c *Client) Request(ctx context.Context, id string) (*api.Request, error) {
	var out api.Request
	if _, err := c.callJSON(ctx, "GET", api.PathRequests+"/"+url.PathEscape(id), nil, nil, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AnswerRequest sends the citizen's answer to the office's question.
func (c *Client) AnswerRequest(ctx context.Context, id string, a api.RequestAnswer) (*api.Request, error) {
	var out api.Request
	if _, err := c.callJSON(ctx, "POST", api.PathRequests+"/"+url.PathEscape(id)+"/answer", nil, a, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RequestOutcome downloads the PDF an accepted historical certificate
// request delivered (GET …/requests/{id}/outcome), to print for the citizen.
func (c *Client) RequestOutcome(ctx context.Context, id string) ([]byte, error) {
	_, b, err := c.call(ctx, "GET", api.PathRequests+"/"+url.PathEscape(id)+"/outcome", nil, nil, "")
	return b, err
}
