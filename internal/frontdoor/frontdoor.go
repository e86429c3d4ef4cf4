// Package frontdoor is what stands between the network and the hub's
// handlers: which requests reached the hub over HTTPS, directly or through a
// TLS-terminating proxy the city configured; the Strict-Transport-Security
// header on those answers; and the http.Server limits that close connections
// which send their request too slowly or not at all.
//
// Proxy headers are believed only from configured proxy addresses: anyone
// else could send X-Forwarded-Proto: https over plain HTTP to get a cookie
// marked Secure on a connection that is not, or X-Forwarded-For to pass as
// another address to a per-address throttle or allow-list.
package frontdoor

import (
	"context"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// HSTS is the Strict-Transport-Security value on every HTTPS answer: a year,
// as browsers' preload rules ask, without includeSubDomains, because a
// city's other hosts under the same domain are not the hub's to promise.
const HSTS = "max-age=31536000"

// Config says whom to believe about the original request.
type Config struct {
	// Proxies are the addresses of TLS-terminating proxies in front of the
	// hub. Their X-Forwarded-Proto and X-Forwarded-For are honoured; from
	// any other peer those headers are removed before the handlers run.
	Proxies []netip.Prefix
}

type httpsKey struct{}

// Wrap returns next behind the front door: it records whether the request
// arrived over HTTPS (see HTTPS), sets RemoteAddr to the client's address
// when a trusted proxy relayed the request, and adds HSTS to HTTPS answers.
func (c Config) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		https := r.TLS != nil
		peer, ok := addrOf(r.RemoteAddr)
		if ok && c.trusted(peer) {
			if p := lastValue(r.Header.Values("X-Forwarded-Proto")); p != "" {
				https = strings.EqualFold(p, "https")
			}
			if client := c.client(peer, r.Header.Values("X-Forwarded-For")); client != peer {
				r.RemoteAddr = netip.AddrPortFrom(client, 0).String()
			}
		} else {
			// Nothing downstream may mistake a client's claim for a proxy's.
			r.Header.Del("X-Forwarded-Proto")
			r.Header.Del("X-Forwarded-For")
			r.Header.Del("X-Forwarded-Host")
			r.Header.Del("Forwarded")
		}
		if https {
			w.Header().Set("Strict-Transport-Security", HSTS)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), httpsKey{}, https)))
	})
}

// HTTPS reports whether the client's request reached the hub over HTTPS:
// the connection's own TLS, or a trusted proxy's X-Forwarded-Proto when the
// request came through Wrap. Cookies set on such answers are Secure.
func HTTPS(r *http.Request) bool {
	if v, ok := r.Context().Value(httpsKey{}).(bool); ok {
		return v
	}
	return r.TLS != nil
}

func (c Config) trusted(a netip.Addr) bool { return inAny(c.Proxies, a) }

// inAny reports whether a is in one of ps.
func inAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client walks X-Forwarded-For from the right, past every trusted proxy,
// to the first address no trusted proxy vouches for: entries further left
// were written by the client itself and prove nothing.
func (c Config) client(peer netip.Addr, values []string) netip.Addr {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0 && c.trusted(addr); i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		addr = a
	}
	return addr
}

// parseHop reads one X-Forwarded-For entry: an address, or an address
// with the client's port as some proxies write it ("198.51.100.7:51234",
// "[2001:db8::1]:443"). Reading only bare addresses made such an entry
// unreadable, and the request was then taken as the proxy's own, which
// every allow-list trusts and every per-address throttle shares.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// lastValue is the rightmost element of a comma-separated header: the one
// the nearest proxy wrote, whatever the client put before it.
func lastValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}

// ClientAddr is the address r came from: the connection's peer, or the
// client a trusted proxy named once Wrap has rewritten RemoteAddr. False
// when RemoteAddr is not an address and port.
func ClientAddr(r *http.Request) (netip.Addr, bool) { return addrOf(r.RemoteAddr) }

func addrOf(remote string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// ParseProxy reads a proxy address: a CIDR prefix, or one address.
func ParseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Limits bound how long and how much a connection may take. A request must
// arrive whole, headers and body, within Read of its first byte: a client
// that holds back its last byte is cut off then, instead of holding a
// goroutine and its buffers for as long as it likes.
type Limits struct {
	ReadHeader     time.Duration // the request line and headers
	Read           time.Duration // the whole request, body included
	Write          time.Duration // from the end of the headers to the end of the answer
	Idle           time.Duration // a kept-alive connection waiting for its next request
	MaxHeaderBytes int
	// MaxConns bounds the connections held in all, PerSourceConns those
	// from one address (IPv6: one /64); see connGuard. 0 is no bound.
	MaxConns, PerSourceConns int
}

// DefaultLimits suit kiosks on a shop's mobile link and staff browsers:
// requests are a few kilobytes, answers at most a PDF or a CSV.
func DefaultLimits() Limits {
	return Limits{
		ReadHeader:     10 * time.Second,
		Read:           30 * time.Second,
		Write:          60 * time.Second,
		Idle:           90 * time.Second,
		MaxHeaderBytes: 64 << 10,
		// Well under the file limit Go raises itself to at start, so the
		// hub keeps descriptors for its own files; an office of a hundred
		// browsers behind one address stays under the per-source bound.
		MaxConns:       4096,
		PerSourceConns: 256,
	}
}

// NewServer is the hub's http.Server for h with limits l. A header timeout
// longer than the whole-request one is cut to it. Connections from c's
// proxies are not counted per source: every client behind them shares
// their address.
func (c Config) NewServer(h http.Handler, l Limits, errorLog *log.Logger) *http.Server {
	rh := l.ReadHeader
	if rh <= 0 || (l.Read > 0 && l.Read < rh) {
		rh = l.Read
	}
	var connState func(net.Conn, http.ConnState)
	if l.MaxConns > 0 || l.PerSourceConns > 0 {
		connState = newConnGuard(l.MaxConns, l.PerSourceConns, c.Proxies).track
	}
	return &http.Server{
		ConnState:         connState,
		Handler:           h,
		ReadHeaderTimeout: rh,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
}

// Loopback reports whether a listener only accepts connections from this
// machine, so plain HTTP on it never crosses a network.
func Loopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
