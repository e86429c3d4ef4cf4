package hubclient

import (
	"context"

	"github.com/sportello/sportello/internal/api"
)

// ReminderPreferences reads, and with req.Set records, the citizen's
// choice of channel for each kind of reminder (POST
// /api/v1/reminder-preferences), identified by the evidence in req. A
// failed identification is an *api.Refusal with
// api.ReasonIdentificationFailed; an unknown kind or choice one with
// api.ReasonReminderPrefInvalid.
func (c *Client) ReminderPreferences(ctx context.Context, req api.ReminderPreferencesRequest) (*api.ReminderPreferences, error) {
	var out api.ReminderPreferences
	if _, err := c.callJSON(ctx, "POST", api.PathReminderPreferences, nil, req, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}
