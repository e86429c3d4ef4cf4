package outbox

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
)

// TestClassifyHubRefusal: a Deliverer passes the hub's answer on as the
// hub client returns it (*api.Refusal, wrapped), and the outbox decides it
// by api.Decide, as the kiosk's flow does: no deliverer converts it.
func TestClassifyHubRefusal(t *testing.T) {
	offline := errors.New("the hub cannot be reached")
	hub := func(status int, reason string, after time.Duration) error {
		return fmt.Errorf("issue: %w", &api.Refusal{Status: status, Reason: reason, Message: "the hub's sentence", RetryAfter: after})
	}

	// Refused: set aside for the operator with the hub's reason.
	var why *Refusal
	if err := Classify(hub(422, "not_resident", 0)); !errors.As(err, &why) || why.Reason != "not_resident" || why.Message != "the hub's sentence" || why.SetAside {
		t.Errorf("422 not_resident: %v", err)
	}

	// Unavailable: tried again after the hub's wait, the client's error
	// (ErrOffline, the answer) still in the chain.
	var re *RetryableError
	err := Classify(fmt.Errorf("%w: %w", offline, &api.Refusal{Status: 503, Reason: "unavailable", RetryAfter: 30 * time.Second}))
	if !errors.As(err, &re) || re.After != 30*time.Second || re.Hold || re.SetAside || !errors.Is(err, offline) {
		t.Errorf("503: %v", err)
	}
	if _, ok := api.Refused(err); ok {
		t.Error("a 503 passed for a refusal")
	}

	// The hub failed on it: tried, then set aside by the Sender.
	if err := Classify(hub(500, "internal", 0)); !errors.As(err, &re) || !re.SetAside || re.Hold {
		t.Errorf("500: %v", err)
	}

	// The device may not speak: held in order, and no refusal to whoever
	// reads the error (the flow says "queued", not "refused").
	err = Classify(hub(403, "key_suspended", 0))
	if !errors.As(err, &re) || !re.Hold || re.Reason != "key_suspended" {
		t.Errorf("403 key_suspended: %v", err)
	}
	if _, ok := api.Refused(err); ok {
		t.Error("a held request passed for a refusal")
	}

	// What the deliverer decided stands; anything else is tried again.
	mine := &Refusal{Reason: "bad_payload"}
	if err := Classify(mine); err != mine {
		t.Errorf("a deliverer's refusal became %v", err)
	}
	if err := Classify(offline); err != offline {
		t.Errorf("a plain error became %v", err)
	}
	if Classify(nil) != nil {
		t.Error("no error became one")
	}
}
