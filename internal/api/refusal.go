package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Refusal is the hub's answer to a request it did not accept, as the
// kiosk side holds it: the status, the Problem's reason, sentence and
// notice, and the wait the hub asked for. It is the kiosk side's one
// refusal type: the hub client returns it, the kiosk's flow shows it and
// the outbox's deliverer classifies it, and what to do about it is
// Decide's (Disposition).
type Refusal struct {
	// Status is the HTTP status of the answer; 0 for a refusal the kiosk
	// recorded earlier (its outbox keeps the reason and the sentence).
	Status  int
	Reason  string
	Message string
	// Notice is the city's word to a suspended device (key_suspended):
	// why it was suspended and whom to call.
	Notice string
	// RetryAfter is the wait the hub asked for; 0 when it gave none.
	RetryAfter time.Duration
}

// RefusalOf is the Refusal of an answer with this status and body: the
// Problem's reason, sentence and notice when the body is one, else the
// status as reason ("http_418") and sentence. retryAfter is the answer's
// Retry-After.
func RefusalOf(status int, p *Problem, retryAfter time.Duration) *Refusal {
	r := &Refusal{Status: status, RetryAfter: retryAfter}
	if p != nil && p.Reason != "" {
		r.Reason, r.Message, r.Notice = p.Reason, p.Message, p.Notice
	} else {
		r.Reason = fmt.Sprintf("http_%d", status)
	}
	if r.Message == "" {
		r.Message = fmt.Sprintf("the hub answered HTTP %d %s", status, http.StatusText(status))
	}
	return r
}

// Disposition is what to do about the answer: Decide's, and Refuse for a
// refusal recorded without its status, which was decided when it came.
func (r *Refusal) Disposition() Disposition {
	if r.Status == 0 {
		return Refuse
	}
	return Decide(r.Status, r.Reason)
}

func (r *Refusal) Error() string {
	if r.Message == "" {
		return fmt.Sprintf("the hub refused the request (%s)", r.Reason)
	}
	return fmt.Sprintf("the hub refused the request (%s): %s", r.Reason, r.Message)
}

// Refused returns the Refusal in err's chain when the hub decided on the
// request (Refuse) or will not hear the device now (Hold): an answer the
// hub would give again, which the kiosk tells the operator. An answer
// worth retrying, or one the hub failed on, is no refusal to the flow (the
// request is queued) and Refused reports false for it, though it may be in
// the chain for the outbox to classify.
func Refused(err error) (*Refusal, bool) {
	var r *Refusal
	if !errors.As(err, &r) {
		return nil, false
	}
	switch r.Disposition() {
	case Refuse, Hold:
		return r, true
	}
	return nil, false
}
