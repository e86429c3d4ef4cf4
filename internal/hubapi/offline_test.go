package hubapi

import (
	"encoding/json"
	"testing"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/operators"
)

// TestAgreementCarriesOfflineLimits: the kiosk learns the city's offline
// limits with its agreement, the defaults while the city set none and the
// city's as soon as it changes them, without a restart.
func TestAgreementCarriesOfflineLimits(t *testing.T) {
	f := newDevFixture(t)
	d := f.enrol(t, f.shop.ID)
	self := func() api.Device {
		t.Helper()
		resp, body := f.get(t, d, "/api/v1/devices/self")
		var v api.Device
		if resp.StatusCode != 200 || json.Unmarshal(body, &v) != nil {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		return v
	}
	if got := self().Offline; got == nil || *got != operators.DefaultOfflineLimits {
		t.Errorf("no city setting: %+v, want the defaults %+v", got, operators.DefaultOfflineLimits)
	}
	city := operators.OfflineLimits{OperationCents: 2000, TotalCents: 10000, Count: 10, AgeHours: 8}
	f.ops.Policy = operators.Policy{Offline: city}
	if got := self().Offline; got == nil || *got != city {
		t.Errorf("the city's limits: %+v, want %+v", got, city)
	}
}
