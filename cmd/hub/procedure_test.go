package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPersonProcedure: hub person procedure opens and closes the procedure
// flag that stops certificates, the registry keeps it across runs (person
// show reads it back), and bad flags exit non-zero with one sentence.
func TestPersonProcedure(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "20", "--seed", "3"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	r := hub(t, "person", "list", "--data", data, "--limit", "1")
	if r.code != 0 || r.stdout == "" {
		t.Fatalf("person list: %s", r.stderr)
	}
	cf := strings.Fields(r.stdout)[0]
	if r := hub(t, "person", "procedure", "--data", data, "--cf", cf, "--open", "2026-01-05"); r.code != 0 || !strings.Contains(r.stdout, "open since 05/01/2026") {
		t.Fatalf("open: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "person", "show", "--data", data, "--cf", cf); !strings.Contains(r.stdout, "procedure        open since 05/01/2026") {
		t.Errorf("person show after open:\n%s%s", r.stdout, r.stderr)
	}
	if r := hub(t, "person", "procedure", "--data", data, "--cf", cf, "--close"); r.code != 0 {
		t.Fatalf("close: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, "person", "show", "--data", data, "--cf", cf); r.code != 0 || strings.Contains(r.stdout, "procedure") {
		t.Errorf("person show after close:\n%s%s", r.stdout, r.stderr)
	}
	// hub person contact changes the same record without a running hub
	// too (it opened the registry read-only and always failed).
	if r := hub(t, "person", "contact", "--data", data, "--cf", cf, "--email", "a@example.org"); r.code != 0 {
		t.Errorf("person contact: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, "person", "procedure", "--data", filepath.Join(data, "nothing"), "--cf", cf, "--close"); r.code == 0 || !strings.Contains(r.stderr, "no registry") {
		t.Errorf("missing registry: exit %d: %s", r.code, r.stderr)
	}
	for _, bad := range [][]string{
		{"--cf", cf},
		{"--cf", cf, "--open", "2026-01-05", "--close"},
		{"--cf", cf, "--open", "5 January"},
		{"--cf", cf, "--open", "2999-01-01"},
		{"--open", "2026-01-05"},
	} {
		args := append([]string{"person", "procedure", "--data", data}, bad...)
		if r := hub(t, args...); r.code == 0 || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, r.code, r.stderr)
		}
	}
}
