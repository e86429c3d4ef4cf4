package operators

import (
	"errors"
	"testing"

	"github.com/sportello/sportello/internal/certificate"
)

// TestWideningNamesItsBasis: off by default; when set, it must read as a
// legal basis, not a switch.
func TestWideningNamesItsBasis(t *testing.T) {
	a := Agreement{Signed: date("2026-01-15"), Expires: date("2028-01-14"), FeeCents: 200, Types: []certificate.Type{certificate.Residenza}}
	if err := a.Validate(200); err != nil || a.Widening != "" {
		t.Fatalf("an agreement without widening: %v", err)
	}
	for _, w := range []string{"yes", "  on  ", "art. 33"} {
		a.Widening = w
		if err := a.Validate(200); !errors.Is(err, ErrInvalid) {
			t.Errorf("widening %q: %v, want ErrInvalid", w, err)
		}
	}
	a.Widening = "art. 33 DPR 223/1989 — certificati a chiunque ne faccia richiesta, convenzione n. 12/2026"
	if err := a.Validate(200); err != nil {
		t.Errorf("a widening naming its basis: %v", err)
	}
}
