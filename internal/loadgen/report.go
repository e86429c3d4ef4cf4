package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"time"
)

// The kinds of request a run sends, each timed apart: their latencies
// differ by an order of magnitude (a look-up reads, an issuance signs a
// PDF and syncs the register), so one distribution would hide both.
const (
	KindEnrol   = "enrol"   // POST /api/v1/devices, once per kiosk
	KindClerk   = "clerk"   // the clerk's log-in, once per kiosk
	KindLookup  = "lookup"  // POST /api/v1/persons/identify
	KindIssue   = "issue"   // POST /api/v1/certificates with a new key
	KindReplay  = "replay"  // the same request again under the same key
	KindRefusal = "refusal" // a request the hub must refuse
	KindBurst   = "burst"   // an issuance queued offline, sent with the others of its batch
)

// Outcome reasons that are not the hub's own reason codes.
const (
	// ReasonNetwork: the hub could not be reached or the connection broke.
	ReasonNetwork = "network"
	// ReasonUnsigned: an answer not signed by the hub key pinned at enrolment.
	ReasonUnsigned = "unsigned_answer"
	// ReasonBadAnswer: a signed answer that is not the route's JSON.
	ReasonBadAnswer = "bad_answer"
	// ReasonReplayMismatch: a retry under the same key answered another
	// certificate, or did not say it was a replay: the hub acted twice.
	ReasonReplayMismatch = "replay_mismatch"
	// ReasonNotRefused: a request the hub must refuse was served.
	ReasonNotRefused = "not_refused"
	// ReasonOther: any other failure (see the run's log).
	ReasonOther = "other"
)

// Report is what a run measured.
type Report struct {
	Hubs    []string      `json:"hubs"`
	Kiosks  int           `json:"kiosks"`
	Elapsed time.Duration `json:"elapsed_ns"`
	// Requests counts every signed request sent while driving the hub
	// (enrolments and clerk log-ins are apart, in Setup).
	Requests int `json:"requests"`
	// PerSecond is Requests over Elapsed.
	PerSecond float64 `json:"requests_per_second"`
	// Issued counts certificates the hub issued (new ones, not replays),
	// IssuedPerSecond over Elapsed.
	Issued          int     `json:"issued"`
	IssuedPerSecond float64 `json:"issued_per_second"`
	// Latency is the whole run's, every kind together; Kinds each kind's.
	Latency Latency            `json:"latency"`
	Kinds   map[string]Latency `json:"kinds"`
	// Refusals are the refusals the mix asked for, by the hub's reason
	// code: expected answers, not errors.
	Refusals map[string]int `json:"refusals"`
	// Errors are the requests that failed, by reason (the hub's reason
	// code, or one of Reason*).
	Errors    map[string]int `json:"errors"`
	ErrorRate float64        `json:"error_rate"`
	// Setup is the latency of the enrolments, clerk log-ins and the
	// look-ups of Config.Prime, sent before the measured run.
	Setup Latency `json:"setup"`
}

// Latency is a distribution of request times.
type Latency struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"`
}

// latencyOf sorts ds in place and takes its percentiles (nearest rank).
func latencyOf(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{Count: len(ds), P50: percentile(ds, 50), P95: percentile(ds, 95), P99: percentile(ds, 99), Max: ds[len(ds)-1]}
}

// percentile is the nearest-rank p-th percentile of sorted ds: the
// smallest value at or above which p percent of the values lie.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100·n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// WriteText writes the report for a person to read.
func (r *Report) WriteText(w io.Writer) error {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("hubs: %v, kiosks: %d\n", r.Hubs, r.Kiosks)
	p("requests: %d in %.2f s: %.0f/s; certificates issued: %d (%.0f/s); errors: %d (%.2f%%)\n",
		r.Requests, r.Elapsed.Seconds(), r.PerSecond, r.Issued, r.IssuedPerSecond, sum(r.Errors), 100*r.ErrorRate)
	p("%-8s %8s %8s %8s %8s %8s\n", "kind", "count", "p50 ms", "p95 ms", "p99 ms", "max ms")
	row := func(name string, l Latency) {
		p("%-8s %8d %8s %8s %8s %8s\n", name, l.Count, ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Kinds)) {
		row(k, r.Kinds[k])
	}
	row("all", r.Latency)
	row("setup", r.Setup)
	table := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		p("%s:\n", title)
		keys := slices.Collect(maps.Keys(m))
		sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
		for _, k := range keys {
			p("  %-32s %d\n", k, m[k])
		}
	}
	table("refusals asked for, by reason", r.Refusals)
	table("errors, by reason", r.Errors)
	return err
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
