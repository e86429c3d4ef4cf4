package opbolt

import (
	"testing"

	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/operators/clerktest"
)

func TestClerkStore(t *testing.T) {
	clerktest.Run(t, func(t *testing.T) (operators.ClerkStore, string, string) {
		s, _ := open(t)
		a, b := activeShop(t, s), shop()
		b.PartitaIVA = "12345670157"
		if err := s.Add(b, "staff"); err != nil {
			t.Fatal(err)
		}
		return s, a.ID, b.ID
	})
}
