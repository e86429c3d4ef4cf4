package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/codicefiscale"
	"github.com/sportello/sportello/internal/hubclient"
)

func TestParseMix(t *testing.T) {
	m, err := ParseMix("lookup=3, issue=2,burst=1")
	if err != nil || m != (Mix{Lookup: 3, Issue: 2, Burst: 1}) {
		t.Fatalf("%+v %v", m, err)
	}
	if back, err := ParseMix(DefaultMix.String()); err != nil || back != DefaultMix {
		t.Errorf("the default mix does not read back: %+v %v", back, err)
	}
	for _, bad := range []string{"", "lookup=0", "lookup", "look=1", "issue=-1", "issue=x"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := latencyOf(ds)
	want := Latency{Count: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if l != want {
		t.Errorf("got %+v, want %+v", l, want)
	}
	// Nearest rank: with three values, p50 is the second, p95 and p99 the third.
	l = latencyOf([]time.Duration{3, 1, 2})
	if l.P50 != 2 || l.P95 != 3 || l.P99 != 3 || l.Max != 3 {
		t.Errorf("three values: %+v", l)
	}
	if (latencyOf(nil) != Latency{}) {
		t.Error("no values should give a zero Latency")
	}
}

func TestTakeBounds(t *testing.T) {
	r := &run{max: 10}
	if !r.take(6) || r.take(5) || !r.take(4) || r.take(1) {
		t.Errorf("take: sent %d of 10", r.sent.Load())
	}
	r = &run{deadline: time.Now().Add(-time.Second)}
	if r.take(1) {
		t.Error("a request taken after the deadline")
	}
}

func TestReasonOf(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&hubclient.APIError{Status: 403, Reason: "identification_failed"}, "identification_failed"},
		{fmt.Errorf("x: %w", &url.Error{Op: "Post", URL: "https://h", Err: errors.New("refused")}), ReasonNetwork},
		{fmt.Errorf("%w: bad", hubclient.ErrUnsignedResponse), ReasonUnsigned},
		{fmt.Errorf("%w: bad", hubclient.ErrBadAnswer), ReasonBadAnswer},
		{fmt.Errorf("%w: C1 then C2", errReplayMismatch), ReasonReplayMismatch},
		{errNotRefused, ReasonNotRefused},
		{errors.New("?"), ReasonOther},
	} {
		if got := reasonOf(tt.err); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	k := []Kiosk{{Hub: "https://127.0.0.1:1", Code: "x"}}
	p := []Person{{CF: "RSSMRA50B17A558W", Document: "CA00000AA"}}
	for name, cfg := range map[string]Config{
		"no kiosks": {People: p, Duration: time.Second},
		"no people": {Kiosks: k, Duration: time.Second},
		"no bound":  {Kiosks: k, People: p},
		"bad CA":    {Kiosks: k, People: p, Duration: time.Second, HubCAPEM: "nothing"},
	} {
		if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStrangerIsWellFormed(t *testing.T) {
	w := &worker{rng: newRand(1)}
	for range 50 {
		cf := w.stranger()
		if _, err := codicefiscale.Base(cf); err != nil {
			t.Fatalf("%s: %v", cf, err)
		}
	}
}

func TestReportText(t *testing.T) {
	rep := &Report{Hubs: []string{"https://h"}, Kiosks: 2, Elapsed: 2 * time.Second, Requests: 4, PerSecond: 2, Issued: 1, IssuedPerSecond: 0.5,
		Kinds:    map[string]Latency{KindIssue: {Count: 1, P50: 5 * time.Millisecond}},
		Refusals: map[string]int{"identification_failed": 2}, Errors: map[string]int{ReasonNetwork: 1}, ErrorRate: 0.25}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"requests: 4 in 2.00 s: 2/s", "errors: 1 (25.00%)", "issue           1      5.0", "identification_failed", "network"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Kinds[KindIssue].P50 != 5*time.Millisecond || back.Errors[ReasonNetwork] != 1 {
		t.Errorf("JSON round trip: %+v %v", back, err)
	}
}
