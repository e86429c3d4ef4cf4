package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/pgtest"
)

var pg pgtest.Shared

// hub seed and hub person list work on a registry in PostgreSQL (--db),
// and seed refuses a registry that already holds persons there too.
func TestRegistryInPostgres(t *testing.T) {
	conn := pg.Database(t)
	r := hub(t, "seed", "--db", conn, "--persons", "60", "--seed", "3")
	if r.code != 0 || !regexp.MustCompile(`^seeded \d+ persons in \d+ families`).MatchString(r.stdout) {
		t.Fatalf("hub seed --db = %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	r = hub(t, "person", "list", "--db", conn, "--limit", "5")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 5 || !regexp.MustCompile(`^[A-Z0-9]{16} \S`).MatchString(lines[0]) {
		t.Fatalf("hub person list --db = %d, %q, %q; want 5 persons", r.code, r.stdout, r.stderr)
	}
	r = hub(t, "seed", "--db", conn, "--persons", "10")
	if r.code != 1 || !strings.Contains(r.stderr, "already holds") {
		t.Errorf("a second hub seed --db = %d, %q; want a refusal", r.code, r.stderr)
	}
	r = hub(t, "person", "list", "--db", "host=/nonexistent user=postgres dbname=x")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot reach the database") {
		t.Errorf("hub person list on an unreachable database = %d, %q", r.code, r.stderr)
	}
}
