package frontdoor

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// seen is what the handler behind the front door saw of a request.
type seen struct {
	https            bool
	remote, xfp, xff string
	hsts             string
}

func through(t *testing.T, c Config, remote string, tlsConn bool, header map[string]string) seen {
	t.Helper()
	var s seen
	h := c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.https, s.remote = HTTPS(r), r.RemoteAddr
		s.xfp, s.xff = r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-For")
	}))
	r := httptest.NewRequest("GET", "/admin/login", nil)
	r.RemoteAddr = remote
	if tlsConn {
		r.TLS = &tls.ConnectionState{}
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	s.hsts = w.Header().Get("Strict-Transport-Security")
	return s
}

func TestProxyHeadersOnlyFromTrustedProxies(t *testing.T) {
	proxy := Config{Proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}
	fwd := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}

	// A client that claims its plain request was HTTPS is not believed,
	// and nothing behind the door sees the claim.
	s := through(t, proxy, "203.0.113.9:4000", false, fwd)
	if s.https || s.hsts != "" || s.remote != "203.0.113.9:4000" || s.xfp != "" || s.xff != "" {
		t.Errorf("untrusted peer: %+v", s)
	}
	// No proxies configured: nobody is believed, loopback included.
	if s := through(t, Config{}, "127.0.0.1:4000", false, fwd); s.https || s.remote != "127.0.0.1:4000" {
		t.Errorf("no proxies configured: %+v", s)
	}
	// The configured proxy is: HTTPS, HSTS and the client's own address.
	s = through(t, proxy, "10.0.0.3:4000", false, fwd)
	if !s.https || s.hsts != HSTS || s.remote != "198.51.100.7:0" {
		t.Errorf("trusted proxy: %+v", s)
	}
	// The proxy says the client came over plain HTTP.
	if s := through(t, proxy, "10.0.0.3:4000", false, map[string]string{"X-Forwarded-Proto": "http"}); s.https || s.hsts != "" {
		t.Errorf("trusted proxy, plain client: %+v", s)
	}
	// Only what the proxy appended counts: the client's own entries to the
	// left are not believed.
	s = through(t, proxy, "10.0.0.3:4000", false, map[string]string{"X-Forwarded-Proto": "https, http", "X-Forwarded-For": "10.0.0.9, 192.0.2.1, 10.0.0.4"})
	if s.https || s.remote != "192.0.2.1:0" {
		t.Errorf("client-written entries: %+v", s)
	}
	// Direct TLS is HTTPS whoever the peer is.
	if s := through(t, Config{}, "203.0.113.9:4000", true, nil); !s.https || s.hsts != HSTS {
		t.Errorf("direct TLS: %+v", s)
	}
}

func TestParseProxy(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.1": "10.0.0.1/32", "10.1.2.3/8": "10.0.0.0/8", "::1": "::1/128", "::ffff:10.0.0.1": "10.0.0.1/32"} {
		p, err := ParseProxy(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, bad := range []string{"", "proxy.example.it", "10.0.0.1/33"} {
		if _, err := ParseProxy(bad); err == nil {
			t.Errorf("ParseProxy(%q) accepted", bad)
		}
	}
}

// Proxies that write the client's port into X-Forwarded-For (Azure's
// Application Gateway does) must still name the client, not leave the
// request looking like the proxy's own.
func TestForwardedForWithPort(t *testing.T) {
	proxy := Config{Proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}}
	for xff, want := range map[string]string{
		"198.51.100.7:51234":        "198.51.100.7:0",
		"[2001:db8::1]:443":         "[2001:db8::1]:0",
		"[2001:db8::1]":             "[2001:db8::1]:0",
		`"198.51.100.7"`:            "198.51.100.7:0",
		"192.0.2.1, 10.0.0.4:8080":  "192.0.2.1:0",
		"unknown":                   "10.0.0.3:4000", // nothing to believe: the proxy itself
		"203.0.113.5:1, 10.0.0.4:2": "203.0.113.5:0",
	} {
		s := through(t, proxy, "10.0.0.3:4000", false, map[string]string{"X-Forwarded-For": xff})
		if s.remote != want {
			t.Errorf("X-Forwarded-For %q: client %s, want %s", xff, s.remote, want)
		}
	}
}
