package hubclient

import (
	"context"

	"github.com/sportello/sportello/internal/api"
)

// AccessLog asks for the citizen's own access log (POST /api/v1/access-log)
// with the evidence of who they are; the hub verifies it and records the
// look-up. A failed identification is an *api.Refusal with
// api.ReasonIdentificationFailed.
func (c *Client) AccessLog(ctx context.Context, req api.AccessLogRequest) (*api.AccessLog, error) {
	var out api.AccessLog
	if _, err := c.callJSON(ctx, "POST", api.PathAccessLog, nil, req, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}
