package api

import "time"

// Clerk log-in (issue 13, named operators): a shop's device opens a session
// for the person at its counter, who then issues and looks up under their
// own name. The device signs the request like any other; the hub answers a
// token the device sends on each later request in the Sportello-Clerk
// header (httpsig.ClerkField, covered by the signature).

// ClerkLogin is POST /api/v1/clerk-sessions: the clerk's own CIE tapped at
// this device with their PIN verified on the card (CIE.Method "cie",
// CIE.PINProved), or, at a shop without a reader, codice fiscale, personal
// password and the current TOTP code.
type ClerkLogin struct {
	CIE      *RequesterEvidence `json:"cie,omitempty"`
	CF       string             `json:"cf,omitempty"`
	Password string             `json:"password,omitempty"`
	TOTP     string             `json:"totp,omitempty"`
}

// ClerkSession is the hub's answer: 201 with the session token, shown
// once; the kiosk keeps it in memory only.
type ClerkSession struct {
	Token   string    `json:"token"`
	ClerkID string    `json:"clerk_id"`
	Name    string    `json:"name"`
	CF      string    `json:"cf"`
	Expires time.Time `json:"expires"`
}

// ClerkSessionsPath is where sessions are opened (POST) and the current
// one, named by the request's own Sportello-Clerk header, ended (DELETE
// ClerkSessionsPath + "/current").
const ClerkSessionsPath = "/api/v1/clerk-sessions"

// Reasons of the clerk log-in and of requests that need a clerk.
const (
	ReasonClerkLoginRequired  = "clerk_login_required"   // 401: a counter request with no clerk session
	ReasonClerkSessionExpired = "clerk_session_expired"  // 401: the session ended (end of day, 12 h)
	ReasonClerkNotEnabled     = "clerk_not_enabled"      // 403: no clerk of this shop holds this card or code
	ReasonClerkSuspended      = "clerk_suspended"        // 403: city staff suspended the clerk
	ReasonClerkExpired        = "clerk_expired"          // 403: the enablement ended
	ReasonClerkNotTrained     = "clerk_not_trained"      // 403: no training on record
	ReasonClerkPasswordWrong  = "clerk_password_wrong"   // 401: password or TOTP code wrong
	ReasonClerkCodeReused     = "clerk_code_reused"      // 401: that TOTP code was used already
	ReasonClerkCardNotGenuine = "clerk_card_not_genuine" // 403: the tap did not verify
	ReasonClerkPINNotVerified = "clerk_pin_not_verified" // 403: the card's PIN was not verified
	ReasonClerkTapStale       = "clerk_tap_stale"        // 403: the tap is too old (or from the future)
	ReasonClerkCardNotValid   = "clerk_card_not_valid"   // 403: the CIE is expired or revoked in the registry
)
