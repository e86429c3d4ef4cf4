package hubapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/frontdoor"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
)

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

// metricsAllowed lets through a request from MetricsAllow (loopback when
// that is empty) or one bearing MetricsToken. The metrics tell who is
// probing the signed API and how many shops and devices there are: not
// for anyone on the internet. The address is the connection's peer, or
// the client a trusted proxy named (see package frontdoor): behind a
// proxy on the same machine that the hub was not told about, every
// request looks local, so such a set-up must use the token.
func (s *Server) metricsAllowed(r *http.Request) (*fault.Error, bool) {
	if s.MetricsToken != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.MetricsToken)) == 1 {
			return nil, true
		}
	}
	if a, ok := frontdoor.ClientAddr(r); ok {
		if len(s.MetricsAllow) == 0 && a.IsLoopback() {
			return nil, true
		}
		for _, p := range s.MetricsAllow {
			if p.Contains(a) {
				return nil, true
			}
		}
	}
	if s.MetricsToken != "" {
		return fault.New(fault.Unauthenticated, "metrics_token_required", "from this address the metrics need the bearer token configured on the hub (hub serve --metrics-token-file)"), false
	}
	return fault.New(fault.Forbidden, "metrics_forbidden", "the metrics are served only to the addresses configured on the hub (hub serve --metrics-allow), loopback by default"), false
}

// metrics writes the Prometheus text exposition format (version 0.0.4) by
// hand: a few counters and gauges do not need a client library.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if err, ok := s.metricsAllowed(r); !ok {
		if err.Kind == fault.Unauthenticated {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		}
		s.fail(w, r, err)
		return
	}
	var b bytes.Buffer
	fmt.Fprintln(&b, "# HELP sportello_signature_refusals_total Signed requests refused, by reason.")
	fmt.Fprintln(&b, "# TYPE sportello_signature_refusals_total counter")
	var counts map[httpsig.Reason]uint64
	if s.Refusals != nil {
		counts = s.Refusals.Snapshot()
	}
	reasons := append([]httpsig.Reason(nil), httpsig.Reasons...)
	for r := range counts {
		if !containsReason(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	sort.Slice(reasons, func(i, j int) bool { return reasons[i] < reasons[j] })
	for _, r := range reasons {
		fmt.Fprintf(&b, "sportello_signature_refusals_total{reason=%q} %d\n", string(r), counts[r])
	}
	fmt.Fprintln(&b, "# HELP sportello_build_info The hub's version, as /healthz reports it; always 1.")
	fmt.Fprintln(&b, "# TYPE sportello_build_info gauge")
	fmt.Fprintf(&b, "sportello_build_info{version=%q} 1\n", s.Version)
	fmt.Fprintln(&b, "# HELP sportello_http_requests_total Requests the hub answered since it started (kiosk API, console, verification pages), by status class: 2xx, 3xx, 4xx, 5xx.")
	fmt.Fprintln(&b, "# TYPE sportello_http_requests_total counter")
	for class := 2; class <= 5; class++ {
		fmt.Fprintf(&b, "sportello_http_requests_total{code=\"%dxx\"} %d\n", class, s.httpCounts.byClass[class].Load())
	}
	fmt.Fprintln(&b, "# HELP sportello_protocol_allocation_failures_total Certificates and request filings refused since the hub started because the protocol register could not hand out a number (storage failing, clock behind the register, invalid register codes).")
	fmt.Fprintln(&b, "# TYPE sportello_protocol_allocation_failures_total counter")
	fmt.Fprintf(&b, "sportello_protocol_allocation_failures_total %d\n", s.allocFailures.Load())
	if s.Operators != nil {
		ops, err := s.Operators.List()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		byStatus := map[operators.Status]int{}
		devices := map[operators.DeviceStatus]int{}
		var contact, pending bytes.Buffer
		for _, o := range ops {
			byStatus[o.Status]++
			ds, err := s.Operators.Devices(o.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, d := range ds {
				devices[d.Status]++
				if d.Status != operators.DeviceActive {
					continue
				}
				bl, err := s.Operators.Backlog(d.KeyID)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				last := int64(0)
				if !d.LastContact.IsZero() {
					last = d.LastContact.Unix()
				}
				n := 0
				if bl != nil {
					n = bl.Pending
				}
				fmt.Fprintf(&contact, "sportello_device_last_contact_timestamp_seconds{device=%q,operator=%q} %d\n", d.KeyID, o.ID, last)
				fmt.Fprintf(&pending, "sportello_device_backlog_pending{device=%q,operator=%q} %d\n", d.KeyID, o.ID, n)
			}
		}
		fmt.Fprintf(&b, "# HELP sportello_device_last_contact_timestamp_seconds When each active device was last heard from (Unix time, to within %v; 0 if never).\n", operators.ContactInterval)
		fmt.Fprintln(&b, "# TYPE sportello_device_last_contact_timestamp_seconds gauge")
		b.Write(contact.Bytes())
		fmt.Fprintln(&b, "# HELP sportello_device_backlog_pending Operations waiting in each active device's offline queue, as the device last reported them (0 if it never did).")
		fmt.Fprintln(&b, "# TYPE sportello_device_backlog_pending gauge")
		b.Write(pending.Bytes())
		fmt.Fprintln(&b, "# HELP sportello_operators Operators in the programme, by status.")
		fmt.Fprintln(&b, "# TYPE sportello_operators gauge")
		for _, st := range []operators.Status{operators.Applied, operators.Approved, operators.Active, operators.Suspended, operators.Revoked} {
			fmt.Fprintf(&b, "sportello_operators{status=%q} %d\n", st, byStatus[st])
		}
		fmt.Fprintln(&b, "# HELP sportello_devices Enrolled devices, by status.")
		fmt.Fprintln(&b, "# TYPE sportello_devices gauge")
		for _, st := range []operators.DeviceStatus{operators.DeviceActive, operators.DeviceSuspended, operators.DeviceRevoked} {
			fmt.Fprintf(&b, "sportello_devices{status=%q} %d\n", st, devices[st])
		}
	}
	if s.Limits != nil {
		if err := s.limitMetrics(r.Context(), &b); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	fmt.Fprintln(&b, "# HELP sportello_uptime_seconds Seconds since the hub started.")
	fmt.Fprintln(&b, "# TYPE sportello_uptime_seconds gauge")
	fmt.Fprintf(&b, "sportello_uptime_seconds %d\n", int64(s.Now().Sub(s.started).Seconds()))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

// limitMetrics writes the limits' counters: refusals since the hub
// started, and, from the limits' store (so they survive a restart), the
// alerts raised by kind and the devices suspended.
func (s *Server) limitMetrics(ctx context.Context, b *bytes.Buffer) error {
	alerts, err := s.Limits.Store.Alerts(ctx)
	if err != nil {
		return err
	}
	byKind := map[limits.Kind]int{}
	suspended := 0
	for _, a := range alerts {
		byKind[a.Kind]++
		if a.Level == limits.LevelSuspend {
			suspended++
		}
	}
	refusals, outcomes := s.limitCounts.snapshot()
	fmt.Fprintln(b, "# HELP sportello_limited_requests_total Signed requests of the routes the limits guard (certificates, look-ups, access log, clerk log-ins) since the hub started, by outcome: served (2xx), refused (refused by the route itself, 4xx; these feed the refusal-ratio flag), failed (5xx), limited (refused by the limits, see sportello_limit_refusals_total).")
	fmt.Fprintln(b, "# TYPE sportello_limited_requests_total counter")
	for _, o := range []string{outcomeFailed, outcomeLimited, outcomeRefused, outcomeServed} {
		fmt.Fprintf(b, "sportello_limited_requests_total{outcome=%q} %d\n", o, outcomes[o])
	}
	fmt.Fprintln(b, "# HELP sportello_limit_refusals_total Signed requests the limits refused since the hub started, by reason: rate_limited (429, a device, clerk or shop over its rate), daily_cap_reached (429, over a daily cap), outside_opening_hours (403, issuance while the shop is closed), device_suspended (403, the request that took the device past a second threshold).")
	fmt.Fprintln(b, "# TYPE sportello_limit_refusals_total counter")
	for _, reason := range limits.Reasons() {
		fmt.Fprintf(b, "sportello_limit_refusals_total{reason=%q} %d\n", reason, refusals[reason])
	}
	fmt.Fprintln(b, "# HELP sportello_anomaly_alerts_total Anomaly alerts raised, by kind: flood (rate-limited requests of one device), repeated_subject (one subject asked about across a shop's devices), night_burst (a device's requests at night), refusal_ratio (share of a device's requests refused). Kept in the hub's file: it survives a restart.")
	fmt.Fprintln(b, "# TYPE sportello_anomaly_alerts_total counter")
	for _, k := range limits.Kinds() {
		fmt.Fprintf(b, "sportello_anomaly_alerts_total{kind=%q} %d\n", k, byKind[k])
	}
	fmt.Fprintln(b, "# HELP sportello_devices_suspended_total Devices suspended by the limits past a second threshold, until staff reinstate them in the console (sportello_devices{status=\"suspended\"} is how many are suspended now).")
	fmt.Fprintln(b, "# TYPE sportello_devices_suspended_total counter")
	fmt.Fprintf(b, "sportello_devices_suspended_total %d\n", suspended)
	return nil
}

// statusCounter counts the hub's answers by status class (index 2 for
// 2xx … 5 for 5xx), for the error ratio; the zero value is ready.
type statusCounter struct{ byClass [6]atomic.Uint64 }

func (c *statusCounter) add(status int) {
	if k := status / 100; k >= 2 && k <= 5 {
		c.byClass[k].Add(1)
	}
}

func containsReason(rs []httpsig.Reason, r httpsig.Reason) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
