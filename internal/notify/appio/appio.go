// Package appio sends notifications through App IO's REST API for public
// services (io-functions-services, "IO API for Public Administration
// Services"): it asks for the citizen's profile by codice fiscale
// (POST /api/v1/profiles, "Get a User Profile using POST"), and when the
// citizen has the app and allows the service (sender_allowed), submits the
// message (POST /api/v1/messages, "Submit a Message passing the user
// fiscal_code in the request body"). Every call carries the service's API
// key in the Ocp-Apim-Subscription-Key header.
package appio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/notify"
)

// KeyHeader carries the service's API key.
const KeyHeader = "Ocp-Apim-Subscription-Key"

// Client is an App IO notifier.
type Client struct {
	// BaseURL is the API's root, e.g. https://api.io.pagopa.it; the
	// client appends /api/v1/….
	BaseURL string
	Key     string
	HTTP    *http.Client // nil: http.DefaultClient
}

var _ notify.Notifier = (*Client)(nil)

// Channel implements notify.Notifier.
func (c *Client) Channel() string { return "appio" }

// Profile is the part of App IO's LimitedProfile the sender reads.
type Profile struct {
	SenderAllowed bool `json:"sender_allowed"`
}

// NewMessage is App IO's NewMessage, with the fields Sportello sends.
type NewMessage struct {
	FiscalCode string         `json:"fiscal_code"`
	Content    MessageContent `json:"content"`
}

// MessageContent is App IO's MessageContent.
type MessageContent struct {
	Subject  string `json:"subject"`
	Markdown string `json:"markdown"`
}

// Send implements notify.Notifier.
func (c *Client) Send(ctx context.Context, m notify.Message) (notify.Receipt, error) {
	if err := m.Validate(); err != nil {
		// Our own message out of App IO's limits: it would be refused
		// every time.
		return notify.Receipt{}, &notify.Refused{Permanent: true, Code: http.StatusBadRequest, Message: err.Error()}
	}
	var p Profile
	status, err := c.call(ctx, "/api/v1/profiles", map[string]string{"fiscal_code": m.CF}, &p)
	switch {
	case err != nil:
		return notify.Receipt{}, err
	case status == http.StatusNotFound:
		return notify.Receipt{}, fmt.Errorf("%w: the citizen has no App IO profile", notify.ErrNoRecipient)
	case !p.SenderAllowed:
		return notify.Receipt{}, fmt.Errorf("%w: the citizen does not accept messages from this service on App IO", notify.ErrNoRecipient)
	}
	var created struct {
		ID string `json:"id"`
	}
	msg := NewMessage{FiscalCode: m.CF, Content: MessageContent{Subject: m.Subject, Markdown: m.Markdown}}
	if _, err := c.call(ctx, "/api/v1/messages", msg, &created); err != nil {
		return notify.Receipt{}, err
	}
	if created.ID == "" {
		// Accepted (201) but no id to keep: still accepted, so not sent
		// again; the receipt says so.
		created.ID = "accepted-without-id"
	}
	return notify.Receipt{ID: created.ID}, nil
}

// call POSTs body as JSON and decodes a 2xx answer into out. 404 comes back
// as a status with no error, for the profile look-up; other refusals are
// *notify.Refused, permanent unless 429 or 5xx.
func (c *Client) call(ctx context.Context, path string, body, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(b))
	if err != nil {
		return 0, &notify.Refused{Permanent: true, Message: fmt.Sprintf("the App IO URL is not usable: %v", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(KeyHeader, c.Key)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("App IO could not be reached: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, fmt.Errorf("App IO's answer could not be read: %w", err)
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return resp.StatusCode, fmt.Errorf("App IO answered %d with a body that is not the expected JSON: %v", resp.StatusCode, err)
			}
		}
		return resp.StatusCode, nil
	case resp.StatusCode == http.StatusNotFound && path == "/api/v1/profiles":
		return resp.StatusCode, nil
	}
	ref := &notify.Refused{Code: resp.StatusCode, Message: problem(data)}
	ref.Permanent = resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		ref.RetryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, fmt.Errorf("App IO %s: %w", path, ref)
}

// problem is the readable part of App IO's ProblemJson answer.
func problem(data []byte) string {
	var p struct{ Title, Detail string }
	if json.Unmarshal(data, &p) == nil && (p.Title != "" || p.Detail != "") {
		return strings.TrimSpace(p.Title + ": " + p.Detail)
	}
	if len(data) > 200 {
		data = data[:200]
	}
	if s := strings.TrimSpace(string(data)); s != "" {
		return s
	}
	return errors.New("no detail given").Error()
}
