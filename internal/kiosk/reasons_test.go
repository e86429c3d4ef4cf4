package kiosk

import (
	"strings"
	"testing"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/hubapi"
)

// TestEveryHubReasonTranslated: every reason code the hub's API may answer
// with (hubapi.Reasons, which its own test keeps complete) reaches the
// screen as the catalogue's sentence in Italian and in English, never as
// the hub's English message inside "Il Comune ha rifiutato la richiesta".
func TestEveryHubReasonTranslated(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	reasons := hubapi.Reasons()
	if len(reasons) < 100 {
		t.Fatalf("only %d hub reasons listed", len(reasons))
	}
	for _, r := range reasons {
		for _, lang := range Langs {
			if !c.Has(lang, "hub_"+r) {
				t.Errorf("hub reason %s has no %s sentence (hub_%s in assets/i18n/%s.json)", r, lang, r, lang)
				continue
			}
			got := c.Problem(lang, hubProblem(&Refusal{Status: 422, Reason: r, Message: "hub English Qx9"}))
			if strings.Contains(got, "Qx9") || got == "" {
				t.Errorf("hub reason %s in %s shows %q", r, lang, got)
			}
		}
	}
}
