package api

import "time"

// PathAccessLog is the citizen's own access log: POST, signed, with an
// AccessLogRequest carrying the citizen's evidence (at the self-service
// kiosk their CIE tap after the PIN; at a counter, for printing at their
// request, the same evidence a certificate request carries). The answer is
// an AccessLog. The look-up is itself recorded in the audit log.
const PathAccessLog = "/api/v1/access-log"

// AccessLogRequest is the body of POST /api/v1/access-log.
type AccessLogRequest struct {
	Requester RequesterEvidence `json:"requester"`
	Channel   string            `json:"channel,omitempty"` // ChannelSelfService (default) or ChannelCounter
	Page      int               `json:"page,omitempty"`    // from 1; 1 when 0
	PageSize  int               `json:"page_size,omitempty"`
}

// DefaultAccessLogPage is the page size when the request names none.
const DefaultAccessLogPage = 20

// AccessLog is one page of a citizen's access log: the last 12 months,
// newest first.
type AccessLog struct {
	CF    string       `json:"cf"`
	Name  string       `json:"name"`
	From  string       `json:"from"` // YYYY-MM-DD, first day shown
	To    string       `json:"to"`
	Page  int          `json:"page"`
	Pages int          `json:"pages"`
	Total int          `json:"total"`
	Lines []AccessLine `json:"lines"`
}

// AccessLine is one read of the citizen's data or one certificate about
// them.
type AccessLine struct {
	Time time.Time `json:"time"`
	// Kind: "read", "certificate", "refusal", "access_log".
	Kind      string `json:"kind"`
	Place     string `json:"place"`           // the shop or office, by name
	Clerk     string `json:"clerk,omitempty"` // the named clerk, when recorded
	Channel   string `json:"channel"`
	What      string `json:"what"`
	Why       string `json:"why"`
	Reference string `json:"reference,omitempty"` // protocol number of a certificate
}

// ReasonBadPage: the page asked for does not exist (400).
const ReasonBadPage = "bad_page"
