// Package hubfault says, in one table, which kind of failure (package
// fault) and which reason code each error of the hub's domains is: the
// API (internal/hubapi) and the staff console (internal/admin) answer a
// domain error with the status and reason Of gives, so a person not found
// is a 404 "not_found" on both.
//
// The signature checks' reasons are the exception: internal/httpsig writes
// its refusals itself, in front of the hub, so it says their kinds
// (httpsig.Reason.Kind) and this table reads them there.
package hubfault

import (
	"context"
	"errors"
	"strings"
	"syscall"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request"
	"github.com/sportello/sportello/internal/settlement"
)

// Reasons of the generic kinds, for an error that names nothing finer.
const (
	ReasonNotFound = "not_found"
	ReasonInvalid  = "invalid"
	ReasonConflict = "conflict"
	// ReasonAmbiguous: several persons share the codice fiscale's base.
	ReasonAmbiguous = "ambiguous"
)

// sentinel is one domain error (matched with errors.Is) and what it is.
type sentinel struct {
	err    error
	kind   fault.Kind
	reason string
}

// sentinels is the table of the domains' errors, checked in order: the
// first that err wraps decides. The payments' come first, as a payment
// refusal may wrap a store's generic error.
var sentinels = []sentinel{
	// The payments (package payment).
	{payment.ErrRequired, fault.PaymentRequired, api.ReasonPaymentRequired},
	{payment.ErrNotPaid, fault.Conflict, api.ReasonPaymentPending},
	{payment.ErrMismatch, fault.Conflict, api.ReasonPaymentMismatch},
	{payment.ErrUsed, fault.Conflict, api.ReasonPaymentUsed},
	{payment.ErrExpired, fault.Gone, api.ReasonPaymentExpired},
	{payment.ErrNotFound, fault.NotFound, api.ReasonPaymentUnknown},
	{payment.ErrMethod, fault.Malformed, api.ReasonPaymentMethod},
	{payment.ErrServiceDown, fault.Unavailable, api.ReasonPaymentServiceDown},

	// The appointments (package appointment): a slot that just went is
	// a conflict the citizen resolves by choosing another.
	{appointment.ErrSlotTaken, fault.Conflict, api.ReasonSlotTaken},
	{appointment.ErrAlreadyBooked, fault.Conflict, api.ReasonAppointmentAlreadyBooked},
	{appointment.ErrNotASlot, fault.Invalid, api.ReasonAppointmentNotASlot},
	{appointment.ErrClosed, fault.Invalid, api.ReasonAppointmentOfficeClosed},
	{appointment.ErrTooFar, fault.Invalid, api.ReasonAppointmentTooFar},
	{appointment.ErrNotYours, fault.Forbidden, api.ReasonAppointmentNotYours},
	{appointment.ErrNotBooked, fault.Conflict, api.ReasonAppointmentNotOpen},
	{appointment.ErrNotToday, fault.Conflict, api.ReasonAppointmentNotToday},
	{appointment.ErrNotFound, fault.NotFound, api.ReasonAppointmentUnknown},
	{appointment.ErrNoPerson, fault.NotFound, api.ReasonAppointmentNoPerson},
	{appointment.ErrInvalid, fault.Invalid, api.ReasonAppointmentInvalid},

	// A clerk's log-in and session at a device (package operators): who
	// is not established is a 401, a clerk who may not work now a 403.
	{operators.ErrClerkNotEnabled, fault.Forbidden, api.ReasonClerkNotEnabled},
	{operators.ErrClerkSuspended, fault.Forbidden, api.ReasonClerkSuspended},
	{operators.ErrClerkExpired, fault.Forbidden, api.ReasonClerkExpired},
	{operators.ErrClerkNotTrained, fault.Forbidden, api.ReasonClerkNotTrained},
	{operators.ErrClerkCredentials, fault.Unauthenticated, api.ReasonClerkPasswordWrong},
	{operators.ErrClerkTOTPReused, fault.Unauthenticated, api.ReasonClerkCodeReused},
	{operators.ErrSessionExpired, fault.Unauthenticated, api.ReasonClerkSessionExpired},
	{operators.ErrSessionUnknown, fault.Unauthenticated, api.ReasonClerkLoginRequired},
	{operators.ErrSessionOtherOwner, fault.Unauthenticated, api.ReasonClerkLoginRequired},

	// A device's enrolment code (package operators).
	{operators.ErrCodeUnknown, fault.Forbidden, ReasonEnrolmentCodeInvalid},
	{operators.ErrCodeUsed, fault.Conflict, ReasonEnrolmentCodeUsed},
	{operators.ErrCodeExpired, fault.Gone, ReasonEnrolmentCodeExpired},

	// The certificates. An idempotency key sent again with another
	// request (*certificate.ConflictError).
	{certificate.ErrIdempotency, fault.Conflict, ReasonIdempotencyConflict},
	{certificate.ErrPDFExpired, fault.Gone, api.ReasonPDFExpired},
	{certificate.ErrNotFound, fault.NotFound, ReasonNotFound},

	// The demographic requests (package request); their refusals of a
	// form are *fault.Error already.
	{request.ErrNotFound, fault.NotFound, request.ReasonNotFound},
	{request.ErrStale, fault.Conflict, request.ReasonStale},
	{request.ErrTransition, fault.Conflict, request.ReasonState},
	{request.ErrExists, fault.Conflict, ReasonConflict},
	{request.ErrInvalid, fault.Invalid, ReasonInvalid},

	// The delegations (issue 17).
	{delegation.ErrNotFound, fault.NotFound, delegation.ReasonNotFound},
	{delegation.ErrNotLive, fault.Gone, delegation.ReasonRevoked},

	// The registry.
	{registry.ErrNotFound, fault.NotFound, ReasonNotFound},
	{registry.ErrAmbiguous, fault.Conflict, ReasonAmbiguous},
	{registry.ErrConflict, fault.Conflict, ReasonConflict},
	{registry.ErrInvalid, fault.Invalid, ReasonInvalid},

	// The staff console's stores.
	{operators.ErrNotFound, fault.NotFound, ReasonNotFound},
	{staff.ErrNotFound, fault.NotFound, ReasonNotFound},
	{operators.ErrInvalid, fault.Invalid, ReasonInvalid},
	{operators.ErrTransition, fault.Invalid, ReasonInvalid},
	{staff.ErrInvalid, fault.Invalid, ReasonInvalid},
	// A staff member already there: the console shows it beside the
	// form's other refusals.
	{staff.ErrExists, fault.Invalid, ReasonInvalid},
	{city.ErrInvalid, fault.Invalid, ReasonInvalid},
	{settlement.ErrInvalid, fault.Invalid, ReasonInvalid},
	{limits.ErrInvalid, fault.Invalid, ReasonInvalid},

	// The request gave up or ran out of time: the hub did not decide.
	{context.Canceled, fault.Unavailable, api.ReasonUnavailable},
	{context.DeadlineExceeded, fault.Unavailable, api.ReasonUnavailable},
	// The protocol register cannot date an entry now.
	{protocol.ErrClockBehind, fault.Unavailable, api.ReasonRegisterClockBehind},
	{protocol.ErrDayClosed, fault.Unavailable, api.ReasonRegisterDayClosed},
}

// ReasonIdempotencyConflict: the Idempotency-Key was used before for
// another request; a new request needs a new key.
const ReasonIdempotencyConflict = "idempotency_conflict"

// Reasons of the devices' enrolment.
const (
	ReasonEnrolmentCodeInvalid = "enrolment_code_invalid"
	ReasonEnrolmentCodeUsed    = "enrolment_code_used"
	ReasonEnrolmentCodeExpired = "enrolment_code_expired"
)

// refusalKinds are the kinds of the certificate rules' refusals that are
// not Invalid (the request's content refused).
var refusalKinds = map[string]fault.Kind{
	certificate.ReasonSubjectNotFound:       fault.NotFound,
	certificate.ReasonOperatorNotAllowed:    fault.Forbidden,
	certificate.ReasonRequesterNotAllowed:   fault.Forbidden,
	certificate.ReasonIdentificationFailed:  fault.Forbidden,
	certificate.ReasonNotRequesterHousehold: fault.Forbidden,
	// A delegation the subject gave covers other services (issue 17).
	delegation.ReasonOutOfScope:                 fault.Forbidden,
	certificate.ReasonRequesterEvidenceRequired: fault.Malformed,
	// The marca is already on another certificate: the request conflicts
	// with the hub's state, not with its own form.
	certificate.ReasonContrassegnoUsed: fault.Conflict,
}

// RefusalKind is the kind of a certificate refusal with this reason.
func RefusalKind(reason string) fault.Kind {
	if k, ok := refusalKinds[reason]; ok {
		return k
	}
	return fault.Invalid
}

// LimitKind is the kind of a refusal of the limits (package limits) with
// this reason: over a rate or the day's cap is too many, outside opening
// hours or a suspended device is forbidden.
func LimitKind(reason string) fault.Kind {
	switch reason {
	case limits.ReasonRateLimited, limits.ReasonDailyCap:
		return fault.TooMany
	}
	return fault.Forbidden
}

// Of is what err is: the kind and reason of the outermost *fault.Error in
// its chain (a handler's own decision), else of the first domain error of
// the table it wraps, else Internal with reason "internal".
func Of(err error) (fault.Kind, string) {
	if err == nil {
		return fault.Internal, api.ReasonInternal
	}
	// A payment refusal is decided before a handler's wrapping, as the
	// API always answered it.
	for _, s := range sentinels[:paymentRules] {
		if errors.Is(err, s.err) {
			return s.kind, s.reason
		}
	}
	if fe, ok := fault.As(err); ok {
		return fe.Kind, fe.Reason
	}
	var herr *httpsig.Error
	if errors.As(err, &herr) {
		return herr.Reason.Kind(), string(herr.Reason)
	}
	if r, ok := certificate.AsRefusal(err); ok {
		return RefusalKind(r.Reason), r.Reason
	}
	for _, s := range sentinels[paymentRules:] {
		if errors.Is(err, s.err) {
			return s.kind, s.reason
		}
	}
	if StorageFull(err) {
		return fault.Unavailable, api.ReasonStorageFull
	}
	return fault.Internal, api.ReasonInternal
}

// paymentRules is how many rules of sentinels are the payments'.
const paymentRules = 8

// Status is the HTTP status and reason code of err (Of, fault's table).
func Status(err error) (int, string) {
	k, reason := Of(err)
	return k.Status(), reason
}

// StorageFull reports whether err is the disk, or the account's quota,
// being full. bbolt returns the write(2) error wrapped, but reports a
// failure to grow its file with the cause formatted as text ("file resize
// error: %s", "file sync error: %s"), hence the second test, kept to those
// two sentences so that no text a client sends can pass for a full disk.
func StorageFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	for _, op := range []string{"file resize error: ", "file sync error: "} {
		for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
			if i := strings.Index(msg, op); i >= 0 && strings.Contains(msg[i:], errno.Error()) {
				return true
			}
		}
	}
	return false
}
