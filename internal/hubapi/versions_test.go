package hubapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/issuance/issuancetest"
)

func versionHub(t *testing.T, vs *api.Versions) string {
	t.Helper()
	d := issuancetest.New(t, 10, 3, testNow)
	s := &Server{Store: d.Store, Desk: d.Service, Now: d.Service.Now, Log: slog.New(slog.DiscardHandler), Versions: vs}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func getHeaders(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// TestVersionHeaders: every /api/ answer, refusals included, and /healthz
// say which version answered and which the hub serves; other paths carry
// no such header; GET /api/versions answers unsigned with the set.
func TestVersionHeaders(t *testing.T) {
	url := versionHub(t, nil)
	for _, c := range []struct {
		path, version string
		status        int
	}{
		{"/api/versions", "1", http.StatusOK},
		{"/api/v1/devices/self", "1", http.StatusUnauthorized},
		{"/healthz", "1", http.StatusOK},
		// A kiosk of a later version asking this hub: refused by the
		// routes, told the set it must speak.
		{"/api/v2/devices/self", "2", http.StatusNotFound},
	} {
		code, h, b := getHeaders(t, url+c.path)
		if code != c.status || h.Get(api.HeaderVersion) != c.version || h.Get(api.HeaderSupported) != "1" {
			t.Errorf("%s: %d %s=%q %s=%q (%s)", c.path, code, api.HeaderVersion, h.Get(api.HeaderVersion),
				api.HeaderSupported, h.Get(api.HeaderSupported), b)
		}
		if h.Get(api.HeaderDeprecation) != "" || h.Get(api.HeaderSunset) != "" {
			t.Errorf("%s: a version not being retired answers Deprecation %q Sunset %q", c.path, h.Get(api.HeaderDeprecation), h.Get(api.HeaderSunset))
		}
	}
	_, h, b := getHeaders(t, url+"/api/versions")
	var vs api.Versions
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatalf("/api/versions: %v: %s", err, b)
	}
	if want := (api.Versions{Current: "1", Supported: []string{"1"}, Deprecated: map[string]api.Retirement{}}); !reflect.DeepEqual(vs, want) {
		t.Errorf("/api/versions = %+v, want %+v", vs, want)
	}
	if h.Get("Signature") != "" || h.Get("Content-Type") != "application/json" {
		t.Errorf("/api/versions: Signature %q Content-Type %q", h.Get("Signature"), h.Get("Content-Type"))
	}
	if _, h, _ := getHeaders(t, url+"/openapi.json"); h.Get(api.HeaderVersion) != "" {
		t.Errorf("/openapi.json carries %s %q", api.HeaderVersion, h.Get(api.HeaderVersion))
	}
}

// TestVersionRetiring: a hub that shipped version 2 on 1 June 2026 still
// serves 1 until the policy's sunset, twelve months on, and says so on
// every answer in version 1 (RFC 9745 Deprecation, RFC 8594 Sunset), not
// on those in 2.
func TestVersionRetiring(t *testing.T) {
	shipped := time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)
	r := api.RetirementOf(shipped)
	if want := time.Date(2027, 6, 1, 9, 30, 0, 0, time.UTC); !r.Sunset.Equal(want) {
		t.Fatalf("sunset %v, want %v (policy %d months)", r.Sunset, want, api.SupportMonths)
	}
	url := versionHub(t, &api.Versions{Current: "2", Supported: []string{"1", "2"}, Deprecated: map[string]api.Retirement{"1": r}})
	code, h, b := getHeaders(t, url+"/api/v1/devices/self")
	if code != http.StatusUnauthorized || h.Get(api.HeaderSupported) != "1, 2" ||
		h.Get(api.HeaderDeprecation) != "@1780306200" || h.Get(api.HeaderSunset) != "Tue, 01 Jun 2027 09:30:00 GMT" {
		t.Errorf("v1 while retiring: %d %v %s", code, h, b)
	}
	if _, h, _ := getHeaders(t, url+"/api/v2/devices/self"); h.Get(api.HeaderDeprecation) != "" || h.Get(api.HeaderSunset) != "" {
		t.Errorf("v2 answers Deprecation %q Sunset %q", h.Get(api.HeaderDeprecation), h.Get(api.HeaderSunset))
	}
	_, _, b = getHeaders(t, url+"/api/versions")
	var vs api.Versions
	if err := json.Unmarshal(b, &vs); err != nil || vs.Current != "2" || !vs.Deprecated["1"].Sunset.Equal(r.Sunset) {
		t.Errorf("/api/versions while retiring 1: %v %s", err, b)
	}
}
