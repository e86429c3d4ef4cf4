package api

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRefusalOf(t *testing.T) {
	r := RefusalOf(422, &Problem{Reason: "not_resident", Message: "not resident here"}, 0)
	if r.Reason != "not_resident" || r.Message != "not resident here" || r.Status != 422 {
		t.Errorf("RefusalOf(Problem) = %+v", r)
	}
	if got := r.Error(); got != "the hub refused the request (not_resident): not resident here" {
		t.Errorf("Error() = %q", got)
	}
	// An answer that is no Problem (a proxy's page) still has a reason
	// and a sentence to show.
	r = RefusalOf(418, nil, 30*time.Second)
	if r.Reason != "http_418" || r.Message != "the hub answered HTTP 418 I'm a teapot" || r.RetryAfter != 30*time.Second {
		t.Errorf("RefusalOf(nil) = %+v", r)
	}
	r = RefusalOf(403, &Problem{Reason: "key_suspended", Message: "suspended", Notice: "call the city"}, 0)
	if r.Notice != "call the city" {
		t.Errorf("the notice was lost: %+v", r)
	}
}

// TestRefused: the flow tells the operator only what the hub would answer
// again (Refuse) or the device may not send now (Hold); an answer worth a
// retry, or one the hub failed on, is in the chain for the outbox but is
// no refusal.
func TestRefused(t *testing.T) {
	offline := errors.New("the hub cannot be reached")
	tests := []struct {
		name string
		err  error
		want bool
		d    Disposition
	}{
		{"not resident", &Refusal{Status: 422, Reason: "not_resident"}, true, Refuse},
		{"wrapped", fmt.Errorf("issue: %w", &Refusal{Status: 404, Reason: "subject_not_found"}), true, Refuse},
		{"suspended", &Refusal{Status: 403, Reason: "key_suspended"}, true, Hold},
		{"no clerk", &Refusal{Status: 401, Reason: "clerk_login_required"}, true, Hold},
		{"unavailable", fmt.Errorf("%w: %w", offline, &Refusal{Status: 503, Reason: "unavailable"}), false, Retry},
		{"proxy timeout", &Refusal{Status: 408, Reason: "http_408"}, false, Retry},
		{"rate", &Refusal{Status: 429, Reason: "rate_limited"}, false, Retry},
		{"internal", &Refusal{Status: 500, Reason: "internal"}, false, SetAside},
		// Recorded by the outbox with its reason only: it was refused.
		{"recorded", &Refusal{Reason: "not_resident"}, true, Refuse},
		{"recorded hold reason", &Refusal{Reason: "clerk_login_required"}, true, Refuse},
		{"other error", offline, false, 0},
		{"nil", nil, false, 0},
	}
	for _, tt := range tests {
		r, ok := Refused(tt.err)
		if ok != tt.want || (ok && r == nil) {
			t.Errorf("%s: Refused = %v, %v; want %v", tt.name, r, ok, tt.want)
		}
		var any *Refusal
		if errors.As(tt.err, &any) {
			if got := any.Disposition(); got != tt.d {
				t.Errorf("%s: Disposition = %v, want %v", tt.name, got, tt.d)
			}
		} else if tt.d != 0 {
			t.Errorf("%s: no Refusal in the chain", tt.name)
		}
	}
}
