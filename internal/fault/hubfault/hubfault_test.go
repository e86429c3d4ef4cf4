package hubfault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/settlement"
)

// TestStatus: each domain error, wrapped as the stores and handlers wrap
// them, answers the status and reason the API answered before the table
// was one (the kiosk's catalogue and the OpenAPI document list them).
func TestStatus(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store: get 42: %w", err) }
	tests := []struct {
		name   string
		err    error
		status int
		reason string
	}{
		{"payment required", wrap(payment.ErrRequired), 402, "payment_required"},
		{"payment pending", wrap(payment.ErrNotPaid), 409, "payment_pending"},
		{"payment mismatch", wrap(payment.ErrMismatch), 409, "payment_mismatch"},
		{"payment used", wrap(payment.ErrUsed), 409, "payment_used"},
		{"payment expired", wrap(payment.ErrExpired), 410, "payment_expired"},
		{"payment unknown", wrap(payment.ErrNotFound), 404, "payment_unknown"},
		{"payment method", wrap(payment.ErrMethod), 400, "payment_method"},
		{"payment service down", wrap(payment.ErrServiceDown), 503, "payment_service_down"},
		// A payment refusal is the payment's even under a handler's own
		// classification, as the API always answered.
		{"payment under a fault", fault.Wrap(fault.Invalid, "invalid", payment.ErrUsed), 409, "payment_used"},

		{"clerk not enabled", wrap(operators.ErrClerkNotEnabled), 403, "clerk_not_enabled"},
		{"clerk suspended", wrap(operators.ErrClerkSuspended), 403, "clerk_suspended"},
		{"clerk expired", wrap(operators.ErrClerkExpired), 403, "clerk_expired"},
		{"clerk not trained", wrap(operators.ErrClerkNotTrained), 403, "clerk_not_trained"},
		{"clerk credentials", wrap(operators.ErrClerkCredentials), 401, "clerk_password_wrong"},
		{"clerk code reused", wrap(operators.ErrClerkTOTPReused), 401, "clerk_code_reused"},
		{"session expired", wrap(operators.ErrSessionExpired), 401, "clerk_session_expired"},
		{"session unknown", wrap(operators.ErrSessionUnknown), 401, "clerk_login_required"},
		{"session other owner", wrap(operators.ErrSessionOtherOwner), 401, "clerk_login_required"},

		{"enrolment code unknown", wrap(operators.ErrCodeUnknown), 403, "enrolment_code_invalid"},
		{"enrolment code used", wrap(operators.ErrCodeUsed), 409, "enrolment_code_used"},
		{"enrolment code expired", wrap(operators.ErrCodeExpired), 410, "enrolment_code_expired"},

		{"idempotency conflict", wrap(&certificate.ConflictError{Key: "k", ID: "c1"}), 409, "idempotency_conflict"},
		{"pdf expired", wrap(certificate.ErrPDFExpired), 410, "pdf_expired"},
		{"certificate not found", wrap(certificate.ErrNotFound), 404, "not_found"},
		{"person not found", wrap(registry.ErrNotFound), 404, "not_found"},
		{"ambiguous", wrap(registry.ErrAmbiguous), 409, "ambiguous"},
		{"registry conflict", wrap(registry.ErrConflict), 409, "conflict"},
		{"registry invalid", wrap(registry.ErrInvalid), 422, "invalid"},

		{"operator not found", wrap(operators.ErrNotFound), 404, "not_found"},
		{"staff not found", wrap(staff.ErrNotFound), 404, "not_found"},
		{"operator invalid", wrap(operators.ErrInvalid), 422, "invalid"},
		{"operator transition", wrap(operators.ErrTransition), 422, "invalid"},
		{"staff invalid", wrap(staff.ErrInvalid), 422, "invalid"},
		{"staff exists", wrap(staff.ErrExists), 422, "invalid"},
		{"city invalid", wrap(city.ErrInvalid), 422, "invalid"},
		{"settlement invalid", wrap(settlement.ErrInvalid), 422, "invalid"},
		{"limits invalid", wrap(limits.ErrInvalid), 422, "invalid"},

		{"cancelled", wrap(context.Canceled), 503, "unavailable"},
		{"deadline", wrap(context.DeadlineExceeded), 503, "unavailable"},
		{"clock behind", wrap(protocol.ErrClockBehind), 503, "register_clock_behind"},
		{"day closed", wrap(protocol.ErrDayClosed), 503, "register_day_closed"},
		{"disk full", wrap(&os.PathError{Op: "write", Path: "/var/lib/hub/hub.db", Err: syscall.ENOSPC}), 503, "storage_full"},
		{"quota full", wrap(syscall.EDQUOT), 503, "storage_full"},
		{"bbolt resize", errors.New("file resize error: no space left on device"), 503, "storage_full"},

		// The certificate rules' refusals: the content refused, unless
		// the reason says the subject is missing, the requester may not,
		// the request lacks evidence or the marca is spent.
		{"not resident", &certificate.Refusal{Reason: certificate.ReasonNotResident, Message: "x"}, 422, "not_resident"},
		{"invalid cf", wrap(&certificate.Refusal{Reason: certificate.ReasonInvalidCF}), 422, "invalid_cf"},
		{"subject not found", &certificate.Refusal{Reason: certificate.ReasonSubjectNotFound, Err: registry.ErrNotFound}, 404, "subject_not_found"},
		{"operator not allowed", &certificate.Refusal{Reason: certificate.ReasonOperatorNotAllowed}, 403, "operator_not_allowed"},
		{"requester not allowed", &certificate.Refusal{Reason: certificate.ReasonRequesterNotAllowed}, 403, "requester_not_allowed"},
		{"identification failed", &certificate.Refusal{Reason: certificate.ReasonIdentificationFailed}, 403, "identification_failed"},
		{"not requester household", &certificate.Refusal{Reason: certificate.ReasonNotRequesterHousehold}, 403, "not_requester_household"},
		{"evidence required", &certificate.Refusal{Reason: certificate.ReasonRequesterEvidenceRequired}, 400, "requester_evidence_required"},
		{"contrassegno used", &certificate.Refusal{Reason: certificate.ReasonContrassegnoUsed}, 409, "contrassegno_used"},
		// A refusal wrapping a store's not-found is the refusal.
		{"refusal over a sentinel", &certificate.Refusal{Reason: certificate.ReasonNotResident, Err: registry.ErrNotFound}, 422, "not_resident"},

		// The signature checks say their own kinds.
		{"unknown key", &httpsig.Error{Reason: httpsig.ReasonUnknownKey}, 401, "unknown_key"},
		{"key revoked", &httpsig.Error{Reason: httpsig.ReasonKeyRevoked}, 403, "key_revoked"},
		{"key suspended", &httpsig.Error{Reason: httpsig.ReasonKeySuspended}, 403, "key_suspended"},
		{"body too large", &httpsig.Error{Reason: httpsig.ReasonBodyTooLarge}, 413, "body_too_large"},
		{"body unreadable", &httpsig.Error{Reason: httpsig.ReasonBodyUnreadable}, 400, "body_unreadable"},
		{"nonce store failed", &httpsig.Error{Reason: httpsig.ReasonNonceStoreFailed}, 503, "nonce_store_failed"},

		// A handler's own classification outranks the domain error it wraps.
		{"fault over a sentinel", fault.Wrap(fault.Forbidden, "operator_not_allowed", operators.ErrTransition), 403, "operator_not_allowed"},
		{"fault", fault.New(fault.Malformed, "bad_request", "no code"), 400, "bad_request"},

		{"anything else", errors.New("the disk is on fire"), 500, "internal"},
		{"nil", nil, 500, "internal"},
	}
	for _, tt := range tests {
		status, reason := Status(tt.err)
		if status != tt.status || reason != tt.reason {
			t.Errorf("%s: Status = %d %q, want %d %q", tt.name, status, reason, tt.status, tt.reason)
		}
	}
}

// TestPaymentRules: Of decides the payments' errors before a handler's
// classification, and counts them by paymentRules: a rule added in the
// wrong place of the table would move that boundary.
func TestPaymentRules(t *testing.T) {
	for i, s := range sentinels {
		isPayment := false
		for _, e := range []error{payment.ErrRequired, payment.ErrNotPaid, payment.ErrMismatch, payment.ErrUsed,
			payment.ErrExpired, payment.ErrNotFound, payment.ErrMethod, payment.ErrServiceDown} {
			if s.err == e {
				isPayment = true
			}
		}
		if isPayment != (i < paymentRules) {
			t.Errorf("rule %d (%v): payment rule %v, but paymentRules is %d", i, s.err, isPayment, paymentRules)
		}
	}
}

func TestLimitKind(t *testing.T) {
	for reason, want := range map[string]int{
		limits.ReasonRateLimited:     429,
		limits.ReasonDailyCap:        429,
		limits.ReasonOutsideHours:    403,
		limits.ReasonDeviceSuspended: 403,
	} {
		if got := LimitKind(reason).Status(); got != want {
			t.Errorf("LimitKind(%q) answers %d, want %d", reason, got, want)
		}
	}
}

// TestStorageFullText: only bbolt's two sentences about its file pass for
// a full disk, not a client's text that happens to name the errno.
func TestStorageFullText(t *testing.T) {
	if StorageFull(errors.New("name \"no space left on device\" is not valid")) {
		t.Error("a message naming ENOSPC passed for a full disk")
	}
	if !StorageFull(errors.New("commit: file sync error: disk quota exceeded")) {
		t.Error("bbolt's sync failure on a full quota was not a full disk")
	}
}
