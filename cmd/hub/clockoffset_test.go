package main

import (
	"strings"
	"testing"
)

// TestMovedClockIsLoudAndAudited: hub serve and hub retention run on a
// clock moved by SPORTELLO_CLOCK_OFFSET warn in their log and record it in
// the audit log (actor system:clock, with the offset and both times), so
// an inspector reading the chain sees which dates and which purges came
// from a moved clock. Before, only one line on stderr said so.
func TestMovedClockIsLoudAndAudited(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "20"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	if r := hub(t, "audit", "search", "--data", data, "--actor", "system:clock"); r.code != 0 || r.stdout != "" {
		t.Fatalf("a clock entry before the clock was moved: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Setenv(clockOffsetEnv, "744h")
	h := startServe(t, "--data", data, "--addr", "127.0.0.1:0", "--insecure-plain-http")
	waitLog(t, h, "THE HUB'S CLOCK IS MOVED")
	h.stop(t)
	r := hub(t, "retention", "run", "--data", data)
	if r.code != 0 || !strings.Contains(r.stderr, "THE HUB'S CLOCK IS MOVED") {
		t.Fatalf("retention run on a moved clock: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Setenv(clockOffsetEnv, "")
	r = hub(t, "audit", "search", "--data", data, "--actor", "system:clock")
	if r.code != 0 || !strings.Contains(r.stdout, "hub serve avviato con l'orologio spostato di 744h0m0s") ||
		!strings.Contains(r.stdout, "hub retention run avviato con l'orologio spostato di 744h0m0s") {
		t.Errorf("the audit log does not say the clock was moved: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "audit", "verify", "--data", data); r.code != 0 {
		t.Errorf("audit verify after the clock entries: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
