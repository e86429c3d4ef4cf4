package frontdoor

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// serveGuarded runs NewServer with the given connection bounds on a
// loopback port and returns its address.
func serveGuarded(t *testing.T, c Config, l Limits) string {
	addr, _ := serveGuardedIdle(t, c, l)
	return addr
}

// serveGuardedIdle is serveGuarded that also tells when the guard has seen
// a connection go idle: the server marks a connection idle after the
// client already has its answer, and on a loaded machine that can come
// after a later connection's.
func serveGuardedIdle(t *testing.T, c Config, l Limits) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := c.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), l, nil)
	idle := make(chan struct{}, 64)
	if guard := srv.ConnState; guard != nil {
		srv.ConnState = func(conn net.Conn, st http.ConnState) {
			guard(conn, st)
			if st == http.StateIdle {
				select {
				case idle <- struct{}{}:
				default:
				}
			}
		}
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), idle
}

// dialFrom opens a connection from a given loopback source address.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends one keep-alive request on c and reads the answer; false when
// the server closed the connection instead of answering.
func get(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: hub\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2))
	resp.Body.Close()
	return resp.StatusCode == 200 && string(b) == "ok"
}

// closedByServer reports whether the server has closed c (a read sees EOF
// or a reset rather than waiting).
func closedByServer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

func TestPerSourceConnectionBound(t *testing.T) {
	addr := serveGuarded(t, Config{}, Limits{Read: time.Minute, Idle: time.Minute, PerSourceConns: 3})
	var held []net.Conn
	for range 3 {
		c := dialFrom(t, "127.0.0.1", addr)
		if !get(c) {
			t.Fatal("a connection within the per-address bound was not served")
		}
		held = append(held, c)
	}
	if extra := dialFrom(t, "127.0.0.1", addr); !closedByServer(extra) {
		t.Error("a fourth connection from the same address was kept open")
	}
	// Another address is not affected by the first one's connections.
	if other := dialFrom(t, "127.0.0.2", addr); !get(other) {
		t.Error("another address was refused because of the first one's connections")
	}
	// Once one closes, the address may connect again.
	held[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if get(dialFrom(t, "127.0.0.1", addr)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the address stayed refused after closing a connection")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An attacker holding idle kept-alive connections from many addresses
// cannot keep a kiosk out: at the bound, the oldest idle ones make room.
func TestIdleConnectionsMakeRoom(t *testing.T) {
	addr, wentIdle := serveGuardedIdle(t, Config{}, Limits{Read: time.Minute, Idle: time.Minute, MaxConns: 8})
	var idle []net.Conn
	for i := range 8 {
		c := dialFrom(t, fmt.Sprintf("127.0.3.%d", i+1), addr)
		if !get(c) {
			t.Fatal("a connection within the bound was not served")
		}
		// The order the test relies on is the order the guard saw them
		// go idle: wait for it before the next one.
		select {
		case <-wentIdle:
		case <-time.After(30 * time.Second):
			t.Fatal("the server never marked a served connection idle")
		}
		idle = append(idle, c)
	}
	kiosk := dialFrom(t, "127.0.4.1", addr)
	if !get(kiosk) {
		t.Fatal("a new client was refused while the hub held only idle connections")
	}
	if !closedByServer(idle[0]) {
		t.Error("the oldest idle connection was not closed to make room")
	}
	for _, c := range idle[1:] {
		if !get(c) {
			t.Error("a newer idle connection was closed before the oldest")
			break
		}
	}
}

// Behind a trusted proxy every client shares its address: the proxy is not
// bound per source.
func TestProxyExemptFromPerSourceBound(t *testing.T) {
	c := Config{Proxies: []netip.Prefix{netip.MustParsePrefix("127.0.5.1/32")}}
	addr := serveGuarded(t, c, Limits{Read: time.Minute, Idle: time.Minute, PerSourceConns: 2})
	for i := range 5 {
		if !get(dialFrom(t, "127.0.5.1", addr)) {
			t.Fatalf("connection %d from the trusted proxy refused", i+1)
		}
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("listening on %s", addr)
	}
}
