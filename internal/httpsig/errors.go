// Package httpsig signs and verifies HTTP messages with RFC 9421 HTTP Message
// Signatures (alg "ed25519") and checks RFC 9530 Content-Digest fields.
//
// The hub verifies kiosk requests with Middleware and signs its answers with
// SignResponses; the kiosk signs requests with Signer.SignRequest and checks
// the hub's answers with Verifier.VerifyResponse against the key pinned at
// enrolment. Every refusal is an *Error carrying a stable machine reason, so
// clients, logs and metrics agree on why a message was turned away.
package httpsig

import (
	"errors"

	"github.com/sportello/sportello/internal/fault"
)

// Sentinel errors a KeyResolver returns (possibly wrapped) so the verifier
// can tell an unknown device from one that staff have switched off.
var (
	ErrUnknownKey   = errors.New("no key is enrolled under this key id")
	ErrKeyRevoked   = errors.New("the key has been revoked")
	ErrKeySuspended = errors.New("the key's operator is suspended")
)

// Reason is a stable, machine-readable code for why a message was refused.
// The strings are part of the API: kiosks and dashboards match on them.
type Reason string

// Refusal reasons.
const (
	ReasonMissingSignature        Reason = "missing_signature"
	ReasonMalformedSignatureInput Reason = "malformed_signature_input"
	ReasonMalformedSignature      Reason = "malformed_signature"
	ReasonUnsupportedAlgorithm    Reason = "unsupported_algorithm"
	ReasonMissingParameter        Reason = "missing_parameter"
	ReasonMissingComponent        Reason = "missing_component"
	ReasonUnsupportedComponent    Reason = "unsupported_component"
	ReasonUnknownKey              Reason = "unknown_key"
	ReasonKeyRevoked              Reason = "key_revoked"
	ReasonKeySuspended            Reason = "key_suspended"
	ReasonSignatureExpired        Reason = "signature_expired"
	ReasonSignatureNotYetValid    Reason = "signature_not_yet_valid"
	ReasonValidityTooLong         Reason = "validity_too_long"
	ReasonNonceReplayed           Reason = "nonce_replayed"
	ReasonMissingDigest           Reason = "missing_digest"
	ReasonMalformedDigest         Reason = "malformed_digest"
	ReasonUnsupportedDigest       Reason = "unsupported_digest"
	ReasonDigestMismatch          Reason = "digest_mismatch"
	ReasonInvalidSignature        Reason = "invalid_signature"
	ReasonBodyTooLarge            Reason = "body_too_large"
	ReasonBodyUnreadable          Reason = "body_unreadable"
	ReasonKeyLookupFailed         Reason = "key_lookup_failed"
	ReasonNonceStoreFailed        Reason = "nonce_store_failed"
	// ReasonWeakPublicKey: the key is not one a private key made (see
	// CheckPublicKey), so no signature by it proves anything.
	ReasonWeakPublicKey Reason = "weak_public_key"
)

// Reasons lists every refusal reason, for metrics that want to publish a
// zero for each before the first refusal happens.
var Reasons = []Reason{
	ReasonMissingSignature, ReasonMalformedSignatureInput, ReasonMalformedSignature,
	ReasonUnsupportedAlgorithm, ReasonMissingParameter, ReasonMissingComponent,
	ReasonUnsupportedComponent, ReasonUnknownKey, ReasonKeyRevoked, ReasonKeySuspended,
	ReasonSignatureExpired, ReasonSignatureNotYetValid, ReasonValidityTooLong,
	ReasonNonceReplayed, ReasonMissingDigest, ReasonMalformedDigest, ReasonUnsupportedDigest,
	ReasonDigestMismatch, ReasonInvalidSignature, ReasonBodyTooLarge, ReasonBodyUnreadable,
	ReasonKeyLookupFailed, ReasonNonceStoreFailed, ReasonWeakPublicKey,
}

// Kind is what sort of refusal this reason is (package fault, whose one
// table gives the HTTP status): forbidden when the signer is known but not
// allowed, too large for an oversize body, malformed for content that
// could not be read, unavailable when the hub itself could not decide,
// unauthenticated otherwise.
func (r Reason) Kind() fault.Kind {
	switch r {
	case ReasonKeyRevoked, ReasonKeySuspended:
		return fault.Forbidden
	case ReasonBodyTooLarge:
		return fault.TooLarge
	case ReasonBodyUnreadable:
		return fault.Malformed
	case ReasonKeyLookupFailed, ReasonNonceStoreFailed:
		return fault.Unavailable
	default:
		return fault.Unauthenticated
	}
}

// Status is the HTTP status a refusal for this reason is answered with.
func (r Reason) Status() int { return r.Kind().Status() }

// Error is a refused message: the reason code, a sentence for people, and
// the underlying cause when there is one.
type Error struct {
	Reason  Reason
	Message string
	Err     error
	// Notice is what the city told a suspended device (see Suspension).
	Notice string
}

func (e *Error) Error() string { return e.Message }

// Unwrap exposes the cause, e.g. a resolver's wrapped ErrKeyRevoked.
func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status for this refusal.
func (e *Error) Status() int { return e.Reason.Status() }

// Is makes errors.Is(err, &Error{Reason: r}) match any refusal for reason r.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && t.Message == "" && t.Err == nil
}

// ReasonOf returns the refusal reason of err, or "" if err is not a refusal.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func refuse(r Reason, msg string) *Error { return &Error{Reason: r, Message: msg} }

func refuseErr(r Reason, msg string, err error) *Error {
	return &Error{Reason: r, Message: msg, Err: err}
}
