// Package fault is the hub's one vocabulary of errors: a few kinds (not
// found, invalid, conflict, forbidden, unavailable, too many …), an error
// carrying its kind with a machine reason code and a sentence, and the one
// table from kind to HTTP status that the API (internal/hubapi), the staff
// console (internal/admin) and the signature checks (internal/httpsig)
// answer with. It imports nothing of the hub, so every package may use it;
// which domain error is which kind is said once, in internal/fault/hubfault.
package fault

import (
	"errors"
	"net/http"
)

// Kind is what sort of failure an error is, as far as whoever sent the
// request is concerned. The zero Kind is Internal: an error nothing
// classified is the hub's own failure.
type Kind uint8

const (
	// Internal: the hub failed on the request; the cause is logged, not
	// shown.
	Internal Kind = iota
	// Malformed: the request cannot be read as the API's (a missing
	// header, JSON that does not parse, a field of the wrong shape).
	Malformed
	// Unauthenticated: who sends the request is not established (no or a
	// bad signature, no clerk logged in, a wrong password).
	Unauthenticated
	// PaymentRequired: the request has a cost not paid yet.
	PaymentRequired
	// Forbidden: the sender is known and may not do this.
	Forbidden
	// NotFound: what the request names does not exist.
	NotFound
	// Conflict: the request is sound but clashes with what the hub holds
	// (a key already used, a payment already spent).
	Conflict
	// Gone: what the request names existed and was removed or expired.
	Gone
	// TooLarge: the request's content is larger than the hub takes.
	TooLarge
	// Invalid: the request is well formed and the hub refuses its content
	// (a malformed codice fiscale, a person who is not resident).
	Invalid
	// TooMany: the sender is over a rate or a cap.
	TooMany
	// Unavailable: the hub cannot decide now (a dependency down, the disk
	// full, the request cancelled); the same request may succeed later.
	Unavailable
)

// statuses is the one table from kind to HTTP status.
var statuses = [...]int{
	Internal:        http.StatusInternalServerError,
	Malformed:       http.StatusBadRequest,
	Unauthenticated: http.StatusUnauthorized,
	PaymentRequired: http.StatusPaymentRequired,
	Forbidden:       http.StatusForbidden,
	NotFound:        http.StatusNotFound,
	Conflict:        http.StatusConflict,
	Gone:            http.StatusGone,
	TooLarge:        http.StatusRequestEntityTooLarge,
	Invalid:         http.StatusUnprocessableEntity,
	TooMany:         http.StatusTooManyRequests,
	Unavailable:     http.StatusServiceUnavailable,
}

var names = [...]string{
	Internal:        "internal",
	Malformed:       "malformed",
	Unauthenticated: "unauthenticated",
	PaymentRequired: "payment required",
	Forbidden:       "forbidden",
	NotFound:        "not found",
	Conflict:        "conflict",
	Gone:            "gone",
	TooLarge:        "too large",
	Invalid:         "invalid",
	TooMany:         "too many",
	Unavailable:     "unavailable",
}

// Kinds lists every kind, in order.
func Kinds() []Kind {
	ks := make([]Kind, len(statuses))
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// Status is the HTTP status answered for k; an unknown kind is a 500.
func (k Kind) Status() int {
	if int(k) < len(statuses) {
		return statuses[k]
	}
	return http.StatusInternalServerError
}

func (k Kind) String() string {
	if int(k) < len(names) {
		return names[k]
	}
	return "unknown"
}

// Error is a failure with its kind, the reason code a client branches on
// and the sentence a person reads; Err is the cause, kept for errors.Is,
// errors.As and the log.
type Error struct {
	Kind   Kind
	Reason string
	// Msg is the sentence; when empty, the cause's text is.
	Msg string
	Err error
}

// New is a failure of kind k with reason and sentence msg, and no cause.
func New(k Kind, reason, msg string) *Error {
	return &Error{Kind: k, Reason: reason, Msg: msg}
}

// Wrap is cause as a failure of kind k with reason; the sentence is the
// cause's. A nil cause gives nil.
func Wrap(k Kind, reason string, cause error) error {
	if cause == nil {
		return nil
	}
	return &Error{Kind: k, Reason: reason, Err: cause}
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status answered for e.
func (e *Error) Status() int { return e.Kind.Status() }

// As returns the outermost *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// KindOf is the kind of the outermost *Error in err's chain: Internal when
// there is none.
func KindOf(err error) Kind {
	if fe, ok := As(err); ok {
		return fe.Kind
	}
	return Internal
}
