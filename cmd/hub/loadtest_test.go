package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/loadgen"
)

// TestLoadtest: hub loadtest enrols its kiosks at a running demo hub, logs
// their clerks in and drives it with every kind of the mix up to exactly
// --max-requests, each retry answered with the certificate its key
// already issued and each refusal it asked for refused.
func TestLoadtest(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, data, "127.0.0.1:0")
	r := hub(t, "loadtest", "--hub", h.URL, "--data", data, "--kiosks", "3", "--people", "8", "--max-requests", "90", "--duration", "2m",
		"--mix", "lookup=2,issue=2,retry=1,refusal=1,burst=1", "--burst", "3", "--seed", "7", "--json")
	if r.code != 0 {
		t.Fatalf("hub loadtest: exit %d\n%s\n%s", r.code, r.stderr, h.logs.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("the report is not JSON: %v\n%s", err, r.stdout)
	}
	// A run may end a few short of the bound: a kiosk stops when the
	// rest does not hold its next step's requests (a burst's three).
	if rep.Requests > 90 || rep.Requests < 85 || rep.Kiosks != 3 || len(rep.Hubs) != 1 {
		t.Errorf("report: %d requests by %d kiosks at %v, want 85–90 by 3 at one hub", rep.Requests, rep.Kiosks, rep.Hubs)
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors: %v\n%s", rep.Errors, r.stdout)
	}
	for _, k := range []string{loadgen.KindLookup, loadgen.KindIssue, loadgen.KindReplay, loadgen.KindRefusal, loadgen.KindBurst} {
		if rep.Kinds[k].Count == 0 {
			t.Errorf("no %s request in %v", k, rep.Kinds)
		}
	}
	refused := 0
	for _, n := range rep.Refusals {
		refused += n
	}
	if refused != rep.Kinds[loadgen.KindRefusal].Count {
		t.Errorf("%d refusals asked for, %d refused: %v", rep.Kinds[loadgen.KindRefusal].Count, refused, rep.Refusals)
	}
	if want := rep.Kinds[loadgen.KindIssue].Count + rep.Kinds[loadgen.KindBurst].Count; rep.Issued != want {
		t.Errorf("%d certificates issued, want one per issuance and burst request (%d)", rep.Issued, want)
	}
	if rep.Setup.Count != 6 || rep.Latency.P50 <= 0 || rep.Latency.P99 < rep.Latency.P50 {
		t.Errorf("latencies: setup %+v, all %+v", rep.Setup, rep.Latency)
	}

	// With --prime the kiosk looks its people up while it sets up, so an
	// issuance-only mix measures issuances alone; the text report has a
	// line per kind of request.
	r = hub(t, "loadtest", "--hub", h.URL, "--data", data, "--kiosks", "1", "--people", "3", "--max-requests", "6", "--mix", "issue=1", "--prime")
	if r.code != 0 || !strings.Contains(r.stdout, "requests: 6 in ") || !regexp.MustCompile(`(?m)^issue +6 `).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^setup +5 `).MatchString(r.stdout) || strings.Contains(r.stdout, "\nlookup ") {
		t.Errorf("text report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestLoadtestRefuses: no load test on a hub the demo did not make, and
// bad flags are one sentence and exit 2.
func TestLoadtestRefuses(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "loadtest", "--hub", "https://127.0.0.1:1", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "hub serve --demo") {
		t.Errorf("a directory the demo did not make: exit %d %s", r.code, r.stderr)
	}
	// No --data anywhere: not on the command line, and not from
	// SPORTELLO_DATA, which hub.conf's precedence would otherwise take.
	if r := hubEnv(t, "", []string{"SPORTELLO_DATA="}, "loadtest", "--hub", "https://127.0.0.1:1"); r.code != 2 {
		t.Errorf("loadtest without --data: exit %d %s", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"--data", data},
		{"--hub", "https://127.0.0.1:1", "--data", data, "--mix", "lookup=x"},
		{"--hub", "https://127.0.0.1:1", "--data", data, "--duration", "0"},
		{"--hub", "https://127.0.0.1:1", "--data", data, "--kiosks", "0"},
	} {
		if r := hub(t, append([]string{"loadtest"}, args...)...); r.code != 2 {
			t.Errorf("loadtest %v: exit %d %s", args, r.code, r.stderr)
		}
	}
}
