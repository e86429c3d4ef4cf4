package kiosk

import (
	"testing"

	"github.com/sportello/sportello/assets"
	"github.com/sportello/sportello/internal/api"
)

// Every reason the hub gives a clerk's log-in or session has its own
// sentence in both languages, shown as is at the counter.
func TestClerkReasonsTranslated(t *testing.T) {
	c, err := LoadCatalog(assets.FS, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{api.ReasonClerkLoginRequired, api.ReasonClerkSessionExpired, api.ReasonClerkNotEnabled, api.ReasonClerkSuspended,
		api.ReasonClerkExpired, api.ReasonClerkNotTrained, api.ReasonClerkPasswordWrong, api.ReasonClerkCodeReused, api.ReasonClerkCardNotGenuine,
		api.ReasonClerkPINNotVerified, api.ReasonClerkTapStale, api.ReasonClerkCardNotValid} {
		for _, l := range Langs {
			if !c.Has(l, "hub_"+r) {
				t.Errorf("no %s sentence for the hub's reason %s", l, r)
			}
		}
	}
}
