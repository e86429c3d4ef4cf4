package hubapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/operators"
)

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

// metrics writes the Prometheus text exposition format (version 0.0.4) by
// hand: a few counters and gauges do not need a client library.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
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
	if s.Operators != nil {
		ops, err := s.Operators.List()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		byStatus := map[operators.Status]int{}
		devices := map[operators.DeviceStatus]int{}
		for _, o := range ops {
			byStatus[o.Status]++
			ds, err := s.Operators.Devices(o.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, d := range ds {
				devices[d.Status]++
			}
		}
		fmt.Fprintln(&b, "# HELP sportello_operators Operators in the programme, by status.")
		fmt.Fprintln(&b, "# TYPE sportello_operators gauge")
		for _, st := range []operators.Status{operators.Applied, operators.Approved, operators.Active, operators.Suspended, operators.Revoked} {
			fmt.Fprintf(&b, "sportello_operators{status=%q} %d\n", st, byStatus[st])
		}
		fmt.Fprintln(&b, "# HELP sportello_devices Enrolled devices, by status.")
		fmt.Fprintln(&b, "# TYPE sportello_devices gauge")
		for _, st := range []operators.DeviceStatus{operators.DeviceActive, operators.DeviceRevoked} {
			fmt.Fprintf(&b, "sportello_devices{status=%q} %d\n", st, devices[st])
		}
	}
	fmt.Fprintln(&b, "# HELP sportello_uptime_seconds Seconds since the hub started.")
	fmt.Fprintln(&b, "# TYPE sportello_uptime_seconds gauge")
	fmt.Fprintf(&b, "sportello_uptime_seconds %d\n", int64(s.Now().Sub(s.started).Seconds()))
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b.Bytes())
}

func containsReason(rs []httpsig.Reason, r httpsig.Reason) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
