package frontdoor

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// connGuard bounds the connections the hub holds, so that no one can take
// every file descriptor with idle connections and leave the hub unable to
// accept a kiosk's request or open its own files (seen in an attack: 20,000
// idle TLS connections, `accept4: too many open files`, /healthz timing out).
//
// Two limits, enforced from http.Server.ConnState:
//   - per source (one IPv4 address, one IPv6 /64; trusted proxies exempt,
//     since every client behind them shares their address): a new
//     connection past the limit is closed at once;
//   - in all: past it, kept-alive connections waiting idle for their next
//     request are closed, oldest first, to make room; a new connection is
//     refused only when every held connection is busy. Idle connections are
//     the cheap thing an attacker holds; a busy one is bounded by the read
//     and write time limits.
type connGuard struct {
	max, perSource int
	proxies        []netip.Prefix
	now            func() time.Time

	mu     sync.Mutex
	conns  map[net.Conn]*connInfo
	counts map[netip.Prefix]int
}

type connInfo struct {
	source    netip.Prefix
	idle      bool
	idleSince time.Time
	counted   bool // in counts (not for exempt proxies)
}

func newConnGuard(max, perSource int, proxies []netip.Prefix) *connGuard {
	return &connGuard{
		max: max, perSource: perSource, proxies: proxies, now: time.Now,
		conns: map[net.Conn]*connInfo{}, counts: map[netip.Prefix]int{},
	}
}

// sourceOf groups a peer address the way one client holds addresses: one
// IPv4 address, or one IPv6 /64 (a home or office gets a whole /64).
func sourceOf(remote net.Addr) (netip.Addr, netip.Prefix, bool) {
	a, ok := addrOf(remote.String())
	if !ok {
		return netip.Addr{}, netip.Prefix{}, false
	}
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return a, p, true
}

// track is the http.Server's ConnState hook.
func (g *connGuard) track(c net.Conn, st http.ConnState) {
	var closeNow []net.Conn
	g.mu.Lock()
	switch st {
	case http.StateNew:
		addr, src, ok := sourceOf(c.RemoteAddr())
		info := &connInfo{source: src}
		if ok && !g.exempt(addr) {
			if g.perSource > 0 && g.counts[src] >= g.perSource {
				g.mu.Unlock()
				c.Close()
				return
			}
			g.counts[src]++
			info.counted = true
		}
		g.conns[c] = info
		if g.max > 0 && len(g.conns) > g.max {
			closeNow = g.evictIdle(len(g.conns) - g.max)
			if len(g.conns)-len(closeNow) > g.max {
				g.remove(c)
				closeNow = append(closeNow, c)
			}
		}
	case http.StateIdle:
		if info := g.conns[c]; info != nil {
			info.idle, info.idleSince = true, g.now()
		}
	case http.StateActive:
		if info := g.conns[c]; info != nil {
			info.idle = false
		}
	case http.StateHijacked, http.StateClosed:
		g.remove(c)
	}
	g.mu.Unlock()
	// Closing outside the lock: Close on a TLS connection may write an
	// alert, and the closed connection's own StateClosed comes back here.
	for _, x := range closeNow {
		x.Close()
	}
}

// evictIdle removes up to n idle connections, oldest first, and returns
// them to be closed. A scan per eviction is fine: it runs only when the hub
// is at its limit, and the limit is a few thousand.
func (g *connGuard) evictIdle(n int) []net.Conn {
	var out []net.Conn
	for ; n > 0; n-- {
		var oldest net.Conn
		var since time.Time
		for c, info := range g.conns {
			if info.idle && (oldest == nil || info.idleSince.Before(since)) {
				oldest, since = c, info.idleSince
			}
		}
		if oldest == nil {
			break
		}
		g.remove(oldest)
		out = append(out, oldest)
	}
	return out
}

func (g *connGuard) remove(c net.Conn) {
	info := g.conns[c]
	if info == nil {
		return
	}
	delete(g.conns, c)
	if info.counted {
		if g.counts[info.source]--; g.counts[info.source] <= 0 {
			delete(g.counts, info.source)
		}
	}
}

func (g *connGuard) exempt(a netip.Addr) bool { return inAny(g.proxies, a) }
