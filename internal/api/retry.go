package api

import (
	"net/http"

	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/limits"
)

// Disposition is what a client does with a request the hub did not accept.
// Decide is the one place that says which: the kiosk's client, its flow and
// its outbox all ask it, so a status cannot be a refusal in one and worth a
// retry in another.
type Disposition int

const (
	// Retry: the hub, or the way to it, is unavailable, or it turned the
	// request's signature away for the device's clock or a reused nonce.
	// The same request (same Idempotency-Key, signed afresh) will do later.
	Retry Disposition = iota + 1
	// Refuse: the hub decided on this request, and will decide the same
	// however often it is sent (a malformed codice fiscale, a person who
	// is not resident, a type outside the agreement). The operator tells
	// the citizen; a queue sets the request aside with the hub's reason
	// and goes on with the next.
	Refuse
	// Hold: the hub will not hear this device at all just now (its key is
	// unknown, revoked or suspended, or its signatures are not what the
	// hub accepts). Nothing is wrong with the request: a queue keeps it and
	// everything behind it, in order, until the device may speak again; a
	// sale at the counter is refused with the reason, since it could not be
	// delivered either.
	Hold
	// SetAside: the hub failed on this request itself (an internal error,
	// a signed answer with a status the API does not use). It is not known
	// to be final, but trying it again and again in place would hold up
	// everything queued behind it: a queue sets it aside, with the reason,
	// after a few attempts.
	SetAside
)

func (d Disposition) String() string {
	switch d {
	case Retry:
		return "retry"
	case Refuse:
		return "refuse"
	case Hold:
		return "hold"
	case SetAside:
		return "set aside"
	}
	return "unknown"
}

// Reason codes of the hub's answers that the kiosk treats specially. The
// others are listed with the package that gives them (httpsig, certificate,
// hubapi); a reason Decide does not name is decided by its status.
const (
	ReasonUnavailable = "unavailable"  // 503: the hub could not decide now
	ReasonStorageFull = "storage_full" // 503: the hub's disk is full
	ReasonInternal    = "internal"     // 500: the hub failed on the request
)

// byReason decides the reasons whose status alone would say otherwise (the
// signature refusals are all 401 or 403, yet some are the clock's fault and
// some the device's) and pins the ones a wrong status must not turn into a
// retry. Every httpsig reason is here, so a new one has to be decided.
var byReason = map[string]Disposition{
	// The clock: the kiosk learns the hub's time from the signed refusal
	// and signs again with it.
	string(httpsig.ReasonSignatureExpired):     Retry,
	string(httpsig.ReasonSignatureNotYetValid): Retry,
	// A nonce seen before: a retry is signed with a new one.
	string(httpsig.ReasonNonceReplayed): Retry,
	// The hub could not look the key or nonce up: its own outage.
	string(httpsig.ReasonKeyLookupFailed):  Retry,
	string(httpsig.ReasonNonceStoreFailed): Retry,
	// The content did not arrive whole: the network's fault.
	string(httpsig.ReasonBodyUnreadable): Retry,
	string(httpsig.ReasonDigestMismatch): Retry,
	// The device may not speak, or speaks in a way the hub does not accept:
	// every request would meet the same answer, so none is given up.
	string(httpsig.ReasonUnknownKey):              Hold,
	string(httpsig.ReasonKeyRevoked):              Hold,
	string(httpsig.ReasonKeySuspended):            Hold,
	string(httpsig.ReasonWeakPublicKey):           Hold,
	string(httpsig.ReasonMissingSignature):        Hold,
	string(httpsig.ReasonMalformedSignatureInput): Hold,
	string(httpsig.ReasonMalformedSignature):      Hold,
	string(httpsig.ReasonUnsupportedAlgorithm):    Hold,
	string(httpsig.ReasonMissingParameter):        Hold,
	string(httpsig.ReasonMissingComponent):        Hold,
	string(httpsig.ReasonUnsupportedComponent):    Hold,
	string(httpsig.ReasonValidityTooLong):         Hold,
	string(httpsig.ReasonMissingDigest):           Hold,
	string(httpsig.ReasonMalformedDigest):         Hold,
	string(httpsig.ReasonUnsupportedDigest):       Hold,
	string(httpsig.ReasonInvalidSignature):        Hold,
	// This request's content is too large, and will always be.
	string(httpsig.ReasonBodyTooLarge): Refuse,
	// No clerk may work at the device just now (none logged in, the
	// session over, the clerk suspended or no longer enabled): nothing is
	// wrong with a queued sale, which waits for the next clerk's log-in.
	ReasonClerkLoginRequired:  Hold,
	ReasonClerkSessionExpired: Hold,
	ReasonClerkSuspended:      Hold,
	ReasonClerkExpired:        Hold,
	ReasonClerkNotEnabled:     Hold,
	ReasonClerkNotTrained:     Hold,

	ReasonUnavailable: Retry,
	ReasonStorageFull: Retry,
	ReasonInternal:    SetAside,
	// A validation refusal stays one whatever status carries it: a
	// malformed codice fiscale must never block a queue.
	certificate.ReasonInvalidCF: Refuse,

	// The limits (package limits). Over the rate, the request is sound:
	// the same one, after Retry-After, will go through.
	limits.ReasonRateLimited: Retry,
	// Over the day's cap or outside opening hours, a sale must not wait
	// for tomorrow with the citizen's money taken today: the operator
	// tells the citizen now, and a queued sale is set aside with the
	// reason for the operator.
	limits.ReasonDailyCap:     Refuse,
	limits.ReasonOutsideHours: Refuse,
	// The device was suspended: nothing it sends will be heard until
	// staff reinstate it.
	limits.ReasonDeviceSuspended: Hold,
	// The hub does not serve this kiosk's API version: nothing it sends
	// would be understood until the kiosk is updated, and nothing queued
	// is wrong.
	ReasonAPIVersionUnsupported: Hold,
}

// Decide says what to do with an answer of this status and reason code:
// by the reason when the table names it, else by the status (408, 425, 429
// and 502–504 retried, another 4xx a refusal, 500 and anything unexpected
// set aside). A 2xx is not a refusal at all; Decide answers 0 for it.
func Decide(status int, reason string) Disposition {
	if status >= 200 && status < 300 {
		return 0
	}
	if d, ok := byReason[reason]; ok {
		return d
	}
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status == http.StatusTooManyRequests,
		status == http.StatusBadGateway, status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return Retry
	case status >= 400 && status < 500:
		return Refuse
	}
	return SetAside
}

// RetryUnsigned reports whether to try again after an answer the hub's key
// did not sign: not the hub's word, so never a refusal, but the page of
// something in front of it. A server error (a proxy's page in front of a
// hub that is down) or a status Decide retries (a proxy's timeout or rate
// limit) is tried again; anything else is given up as an answer the
// client cannot trust, which the kiosk takes as the hub not reached.
func RetryUnsigned(status int) bool {
	return status >= 500 || Decide(status, "") == Retry
}
