package hubapi

import (
	"slices"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/delegation"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/request"
)

// Reasons lists every reason code a kiosk may read in a Problem from this
// API, sorted: the domain's refusals (certificate, fees, limits), the
// signature checks (httpsig), the API's own (api, payments, clerks) and
// the few this package names itself. A kiosk shows each one as a sentence
// of its catalogue keyed "hub_"+reason, never the hub's English message;
// its test walks this list, and TestReasonsComplete here fails when a
// reason constant or a refusal in this package is not on it.
func Reasons() []string {
	rs := []string{
		// certificate.Refusal (rules.go, record.go, use.go).
		certificate.ReasonUnknownType, certificate.ReasonNoType, certificate.ReasonIncompatibleTypes,
		certificate.ReasonOperatorNotAllowed, certificate.ReasonRequesterNotAllowed, certificate.ReasonRequesterUnknown,
		certificate.ReasonSubjectNotFound, certificate.ReasonSubjectAmbiguous, certificate.ReasonSubjectDeceased,
		certificate.ReasonSubjectCancelled, certificate.ReasonPartlyCertifiable, certificate.ReasonOpenProcedure,
		certificate.ReasonNotResident, certificate.ReasonNotAIRE, certificate.ReasonNotFree, certificate.ReasonNoMarriage,
		certificate.ReasonNoCivilUnion, certificate.ReasonNoCohabitation, certificate.ReasonNotInConvivenza,
		certificate.ReasonInConvivenza, certificate.ReasonNoFamily, certificate.ReasonSingleMember,
		certificate.ReasonNotItalian, certificate.ReasonSeveralCitizenships, certificate.ReasonCitizenshipUndetermined,
		certificate.ReasonForceNotAllowed, certificate.ReasonNoCivilStatus, certificate.ReasonBornAbroadAIRE,
		certificate.ReasonEventDuringAIRE, certificate.ReasonInvalidChannel, certificate.ReasonInvalidCF,
		certificate.ReasonRequesterEvidenceRequired, certificate.ReasonIdentificationFailed,
		certificate.ReasonNotRequesterHousehold, certificate.ReasonNotDeceased, certificate.ReasonDateRequired,
		certificate.ReasonDateNotAllowed, certificate.ReasonDateInFuture, certificate.ReasonDateBeforeRecords,
		certificate.ReasonDateAfterDeath, certificate.ReasonNoFamilyOnDate,
		certificate.ReasonContrassegnoNotAtCounter, certificate.ReasonContrassegnoUsed, certificate.ReasonExemptionNotAllowed,
		certificate.ReasonUnknownUse, certificate.ReasonUseConflictsExemption,
		// fees.Error, passed on as refusals by certificate.Fees.
		fees.ReasonUnknownExemption, fees.ReasonExemptionTextEmpty, fees.ReasonExemptionTextLong,
		fees.ReasonExemptionTextInvalid, fees.ReasonExemptionTextStray, fees.ReasonServiceFeeAboveCap,
		fees.ReasonNegativeFee, fees.ReasonDirittiExemptNot99, fees.ReasonContrassegnoInvalid, fees.ReasonContrassegnoExempt,
		// delegation: the delegations' rules and the desk's use of them.
		delegation.ReasonSelf, delegation.ReasonMinor, delegation.ReasonDelegatorMinor, delegation.ReasonDelegateCF,
		delegation.ReasonUntilPast, delegation.ReasonUntilTooFar, delegation.ReasonNoScope, delegation.ReasonScopeNotLawful,
		delegation.ReasonUnknownScope, delegation.ReasonNotFound, delegation.ReasonRevoked, delegation.ReasonExpired,
		delegation.ReasonNotDelegator, delegation.ReasonOutOfScope,
		// limits: the guard in front of issuance.
		limits.ReasonRateLimited, limits.ReasonDailyCap, limits.ReasonOutsideHours, limits.ReasonDeviceSuspended,
		// api: the wire contract's own.
		api.ReasonRegisterClockBehind, api.ReasonRegisterDayClosed, api.ReasonPDFExpired, api.ReasonBadPage,
		api.ReasonUnavailable, api.ReasonStorageFull, api.ReasonInternal,
		api.ReasonClerkLoginRequired, api.ReasonClerkSessionExpired, api.ReasonClerkNotEnabled, api.ReasonClerkSuspended,
		api.ReasonClerkExpired, api.ReasonClerkNotTrained, api.ReasonClerkPasswordWrong, api.ReasonClerkCodeReused,
		api.ReasonClerkCardNotGenuine, api.ReasonClerkPINNotVerified, api.ReasonClerkTapStale, api.ReasonClerkCardNotValid,
		api.ReasonPaymentRequired, api.ReasonPaymentPending, api.ReasonPaymentMismatch, api.ReasonPaymentUsed,
		api.ReasonPaymentExpired, api.ReasonPaymentUnknown, api.ReasonPaymentMethod, api.ReasonPaymentServiceDown,
		api.ReasonReminderPrefInvalid,
		api.ReasonSlotTaken, api.ReasonAppointmentAlreadyBooked, api.ReasonAppointmentNotASlot,
		api.ReasonAppointmentOfficeClosed, api.ReasonAppointmentTooFar, api.ReasonAppointmentNotYours,
		api.ReasonAppointmentNotOpen, api.ReasonAppointmentNotToday, api.ReasonAppointmentUnknown,
		api.ReasonAppointmentInvalid, api.ReasonAppointmentNoPerson,
		// The kiosk's own, of an answer whose hub does not serve its version.
		api.ReasonAPIVersionUnsupported,
		// This package's own and the error table's (fault/hubfault).
		"bad_request", "bad_public_key", "idempotency_key_required", "date_invalid", "not_found", "ambiguous",
		"conflict", "invalid", "idempotency_conflict", reasonBacklog, "enrolment_code_invalid", "enrolment_code_used",
		"enrolment_code_expired", "key_in_use", "metrics_token_required", "metrics_forbidden",
	}
	// request: the demographic requests' refusals (issue 17).
	rs = append(rs, request.Reasons()...)
	// httpsig: the signed request's checks.
	for _, r := range []httpsig.Reason{
		httpsig.ReasonMissingSignature, httpsig.ReasonMalformedSignatureInput, httpsig.ReasonMalformedSignature,
		httpsig.ReasonUnsupportedAlgorithm, httpsig.ReasonMissingParameter, httpsig.ReasonMissingComponent,
		httpsig.ReasonUnsupportedComponent, httpsig.ReasonUnknownKey, httpsig.ReasonKeyRevoked, httpsig.ReasonKeySuspended,
		httpsig.ReasonSignatureExpired, httpsig.ReasonSignatureNotYetValid, httpsig.ReasonValidityTooLong,
		httpsig.ReasonNonceReplayed, httpsig.ReasonMissingDigest, httpsig.ReasonMalformedDigest,
		httpsig.ReasonUnsupportedDigest, httpsig.ReasonDigestMismatch, httpsig.ReasonInvalidSignature,
		httpsig.ReasonBodyTooLarge, httpsig.ReasonBodyUnreadable, httpsig.ReasonKeyLookupFailed,
		httpsig.ReasonNonceStoreFailed, httpsig.ReasonWeakPublicKey,
	} {
		rs = append(rs, string(r))
	}
	slices.Sort(rs)
	return slices.Compact(rs)
}
