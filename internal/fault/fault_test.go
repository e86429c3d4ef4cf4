package fault

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestStatus is the one table from kind to HTTP status, spelt out: the
// API's clients (the kiosk's api.Decide) and the OpenAPI document rely on
// these numbers.
func TestStatus(t *testing.T) {
	want := map[Kind]int{
		Internal:        500,
		Malformed:       400,
		Unauthenticated: 401,
		PaymentRequired: 402,
		Forbidden:       403,
		NotFound:        404,
		Conflict:        409,
		Gone:            410,
		TooLarge:        413,
		Invalid:         422,
		TooMany:         429,
		Unavailable:     503,
	}
	if len(Kinds()) != len(want) {
		t.Errorf("Kinds() has %d kinds, the test knows %d: give the new one its status here", len(Kinds()), len(want))
	}
	seen := map[int]Kind{}
	for _, k := range Kinds() {
		st, ok := want[k]
		if !ok {
			t.Errorf("kind %v (%d) has no expected status", k, k)
			continue
		}
		if got := k.Status(); got != st {
			t.Errorf("%v.Status() = %d, want %d", k, got, st)
		}
		if other, dup := seen[st]; dup {
			t.Errorf("kinds %v and %v share status %d", other, k, st)
		}
		seen[st] = k
		if k.String() == "" || k.String() == "unknown" {
			t.Errorf("kind %d has no name", k)
		}
	}
	if got := Kind(200).Status(); got != 500 {
		t.Errorf("an unknown kind answers %d, want 500", got)
	}
	if got := Kind(200).String(); got != "unknown" {
		t.Errorf("an unknown kind is named %q", got)
	}
}

func TestError(t *testing.T) {
	e := New(NotFound, "not_found", "no such person")
	if e.Error() != "no such person" || e.Status() != 404 || e.Unwrap() != nil {
		t.Errorf("New: %q %d %v", e.Error(), e.Status(), e.Unwrap())
	}
	cause := fmt.Errorf("reading: %w", io.ErrUnexpectedEOF)
	w := Wrap(Malformed, "bad_request", cause)
	if w.Error() != cause.Error() {
		t.Errorf("Wrap's sentence is %q, want the cause's %q", w.Error(), cause.Error())
	}
	if !errors.Is(w, io.ErrUnexpectedEOF) {
		t.Error("Wrap lost its cause for errors.Is")
	}
	if Wrap(Malformed, "bad_request", nil) != nil {
		t.Error("Wrap of no cause is an error")
	}
	if got := (&Error{Kind: Conflict, Reason: "conflict"}).Error(); got != "conflict" {
		t.Errorf("an error with no sentence nor cause reads %q, want its reason", got)
	}

	// The outermost decides: a handler's wrapping of a classified error
	// says what the request is.
	inner := New(NotFound, "not_found", "gone")
	outer := fmt.Errorf("context: %w", Wrap(Forbidden, "not_yours", inner))
	if k := KindOf(outer); k != Forbidden {
		t.Errorf("KindOf = %v, want forbidden", k)
	}
	if fe, ok := As(outer); !ok || fe.Reason != "not_yours" {
		t.Errorf("As = %v, %v", fe, ok)
	}
	if k := KindOf(errors.New("disk on fire")); k != Internal {
		t.Errorf("an unclassified error is %v, want internal", k)
	}
	if _, ok := As(nil); ok {
		t.Error("As(nil) found an error")
	}
}
