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

// TestRefusedClaimSaysTheReason: a queued request the hub refused later is
// told, on the claim screen's speech as on its text, with the catalogue's
// sentence for the reason, not the hub's English message; a reason the
// catalogue lacks falls back to the message.
func TestRefusedClaimSaysTheReason(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Langs {
		v := View{Step: StepClaim, Lang: lang, Claimed: &Claimed{Code: "K7Q-XM2-PA4", State: ClaimRefused, AmountCents: 1802,
			Reason: "several_citizenships", Message: "hub English Qx9"}}
		said := Spoken(v, c, SpeakOptions{}).Text(c)
		want := strings.TrimSuffix(c.T(lang, "hub_several_citizenships"), ".")[1:] // after a colon, in lower case
		if strings.Contains(said, "Qx9") || !strings.Contains(said, want) {
			t.Errorf("%s: the refused claim is said as %q", lang, said)
		}
		if got := c.HubReason(lang, "a_reason_from_a_newer_hub", "its message"); got != "its message" {
			t.Errorf("%s: an unknown reason reads %q", lang, got)
		}
	}
}
