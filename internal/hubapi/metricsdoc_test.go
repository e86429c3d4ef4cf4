package hubapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/metricsdoc"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/protocol"
)

// Every metric /metrics exposes is listed in docs/metrics.md with its type
// and labels, and every metric listed there is exposed: operators write
// alerts and dashboards from that page. The hub here has every part that
// adds metrics (operators with an active device, the limits).
func TestMetricsDocumented(t *testing.T) {
	f := newLimitFixture(t, quiet)
	dev := f.enrol(t)
	if a := f.lookup(t, dev, "", ""); a.status != http.StatusOK {
		t.Fatalf("look-up: %+v", a)
	}
	exposed, err := metricsdoc.Exposed(f.metrics(t))
	if err != nil {
		t.Fatal(err)
	}
	documented, err := metricsdoc.Load()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, d := range documented {
		listed[d.Name] = true
		e, ok := exposed[d.Name]
		switch {
		case !ok:
			t.Errorf("docs/metrics.md lists %s, which /metrics no longer exposes", d.Name)
		case e.Type != d.Type:
			t.Errorf("%s is a %s; docs/metrics.md says %s", d.Name, e.Type, d.Type)
		case !slices.Equal(e.Labels, d.Labels):
			t.Errorf("%s has labels %v; docs/metrics.md says %v", d.Name, e.Labels, d.Labels)
		}
	}
	for name := range exposed {
		if !listed[name] {
			t.Errorf("/metrics exposes %s, which docs/metrics.md does not list (name, type, labels, meaning)", name)
		}
	}
}

// The metrics the alerts need: answers by status class, protocol
// allocation failures, and each active device's last contact and backlog.
func TestMetricsForAlerts(t *testing.T) {
	f := newLimitFixture(t, quiet)
	dev := f.enrol(t)
	if _, err := f.ops.SetBacklog(dev.keyID, operators.Backlog{Pending: 3, AmountCents: 600}); err != nil {
		t.Fatal(err)
	}
	if a := f.lookup(t, dev, "", ""); a.status != http.StatusOK {
		t.Fatalf("look-up: %+v", a)
	}
	if a := f.lookup(t, dev, "RSSMRA80A01H501U", "CA00000AA"); a.status/100 != 4 {
		t.Fatalf("look-up of a stranger: %+v", a)
	}
	// An issuance whose number could not be reserved reaches fail marked
	// by the desk; an unrelated failure is not counted.
	f.api.fail(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/certificates", nil), protocol.AllocationFailed(errors.New("disk on fire")))
	f.api.fail(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/certificates", nil), errors.New("disk on fire"))

	text := f.metrics(t)
	contact := f.clock.now().Unix()
	for _, want := range []string{
		`sportello_http_requests_total{code="2xx"} 1`,
		`sportello_http_requests_total{code="4xx"} 1`,
		`sportello_http_requests_total{code="5xx"} 0`,
		`sportello_protocol_allocation_failures_total 1`,
		fmt.Sprintf(`sportello_device_backlog_pending{device=%q,operator=%q} 3`, dev.keyID, f.shop.ID),
		fmt.Sprintf(`sportello_device_last_contact_timestamp_seconds{device=%q,operator=%q} %d`, dev.keyID, f.shop.ID, contact),
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s:\n%s", want, text)
		}
	}
	// A suspended device is not listed: its backlog cannot drain anyway,
	// and the console shows it.
	if _, err := f.ops.SuspendDevice(dev.keyID, "staff", "test"); err != nil {
		t.Fatal(err)
	}
	if text := f.metrics(t); strings.Contains(text, dev.keyID) {
		t.Errorf("a suspended device still has per-device metrics:\n%s", text)
	}
}
