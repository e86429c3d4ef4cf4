package hubapi

import (
	"testing"

	"github.com/sportello/sportello/internal/fault/faulttest"
)

// TestNoStatusLiterals: no handler of this package names a 4xx or 5xx
// status itself; a refusal's status is fault's table's for its kind, the
// same the console answers with.
func TestNoStatusLiterals(t *testing.T) {
	found, err := faulttest.DirStatusLiterals(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range found {
		t.Errorf("%s: a refusal's status comes from its fault's kind (package fault), not from the handler", at)
	}
}
