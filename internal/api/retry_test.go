package api

import (
	"testing"

	"github.com/sportello/sportello/internal/httpsig"
)

// TestDecide is the table of what is retried and what is not: only
// unavailability and the device's clock are retried, a validation refusal is
// final whatever status carries it, and the hub's own failure on a request
// sets that request aside rather than blocking a queue.
func TestDecide(t *testing.T) {
	tests := []struct {
		status int
		reason string
		want   Disposition
	}{
		// Unavailability.
		{503, "unavailable", Retry},
		{503, "storage_full", Retry},
		{503, "", Retry},
		{502, "", Retry},
		{504, "", Retry},
		{429, "too_many_requests", Retry},
		{408, "", Retry}, // a proxy's timeout: the request may not even have arrived
		{425, "", Retry},
		// The signature's time and nonce: corrected and signed again.
		{401, "signature_not_yet_valid", Retry},
		{401, "signature_expired", Retry},
		{401, "nonce_replayed", Retry},
		{503, "nonce_store_failed", Retry},
		{503, "key_lookup_failed", Retry},
		{400, "body_unreadable", Retry},
		// No clerk may work at the device: a queued sale waits for one.
		{401, "clerk_login_required", Hold},
		{401, "clerk_session_expired", Hold},
		{403, "clerk_suspended", Hold},
		// A log-in's own refusal is a refusal.
		{401, "clerk_password_wrong", Refuse},
		// Validation and the hub's decisions: refused for good.
		{422, "invalid_cf", Refuse},
		{500, "invalid_cf", Refuse}, // even from a hub that still answers 500
		{422, "not_resident", Refuse},
		{422, "invalid", Refuse},
		{404, "subject_not_found", Refuse},
		{403, "operator_not_allowed", Refuse},
		{409, "idempotency_conflict", Refuse},
		{400, "bad_request", Refuse},
		{400, "idempotency_key_required", Refuse},
		{413, "body_too_large", Refuse},
		{418, "", Refuse},
		// The device may not speak: keep everything, in order.
		{401, "unknown_key", Hold},
		{403, "key_revoked", Hold},
		{403, "key_suspended", Hold},
		{401, "invalid_signature", Hold},
		{401, "missing_signature", Hold},
		{401, "validity_too_long", Hold},
		// The limits: a rate is waited out, a day's cap or closed shop
		// refused now, a suspended device held, whatever status carries them.
		{429, "rate_limited", Retry},
		{403, "rate_limited", Retry},
		{429, "daily_cap_reached", Refuse},
		{403, "outside_opening_hours", Refuse},
		{403, "device_suspended", Hold},
		// The hub failed on this request: set it aside after a few tries.
		{500, "internal", SetAside},
		{500, "", SetAside},
		{501, "", SetAside},
		{302, "", SetAside},
		// Success is no refusal.
		{200, "", 0},
		{201, "", 0},
	}
	for _, tt := range tests {
		if got := Decide(tt.status, tt.reason); got != tt.want {
			t.Errorf("Decide(%d, %q) = %v, want %v", tt.status, tt.reason, got, tt.want)
		}
	}
}

// TestDecideNamesEverySignatureReason: a signature refusal is a 401 or 403
// whether it is the clock's fault, the network's or the device's, so each
// reason must be decided by name, not left to its status.
func TestDecideNamesEverySignatureReason(t *testing.T) {
	for _, r := range httpsig.Reasons {
		if _, ok := byReason[string(r)]; !ok {
			t.Errorf("httpsig reason %q is not in the table; decide whether it is retried", r)
		}
	}
}

// TestRetryUnsigned: an answer the hub did not sign is retried when it is
// a server's error or a status Decide retries, and given up otherwise —
// whatever reason it may claim, since nothing vouches for it.
func TestRetryUnsigned(t *testing.T) {
	for status, want := range map[int]bool{
		500: true, 501: true, 502: true, 503: true, 504: true, 408: true, 425: true, 429: true,
		400: false, 401: false, 403: false, 404: false, 409: false, 422: false, 302: false,
	} {
		if got := RetryUnsigned(status); got != want {
			t.Errorf("RetryUnsigned(%d) = %v, want %v", status, got, want)
		}
	}
}
