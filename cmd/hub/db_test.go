package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/pgtest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/postgres"
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

// hub migrate moves a seeded city's registry into PostgreSQL: the same
// persons are listed from both, and a second move is refused.
func TestMigrateToPostgres(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "300", "--seed", "4"); r.code != 0 {
		t.Fatalf("hub seed = %d, %q", r.code, r.stderr)
	}
	// A closed day of the protocol register moves too, and exports the
	// same bytes from the database.
	yesterday := protocol.DayOf(protocol.DayOf(time.Now()).Start().Add(-time.Hour)).String()
	closed := hub(t, "protocol", "export", "--data", data, "--day", yesterday)
	sha := regexp.MustCompile(`sha-256 ([0-9a-f]{64})`)
	if closed.code != 0 || sha.FindString(closed.stderr) == "" {
		t.Fatalf("hub protocol export = %d, %q", closed.code, closed.stderr)
	}
	conn := pg.Database(t)
	r := hub(t, "migrate", "--from", "bolt", data, "--to", conn)
	if r.code != 0 || !regexp.MustCompile(`^moved the registry: \d+ persons, \d+ families, \d+ events, 0 places; the counts match\n`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "moved the protocol register: 0 entries, 1 closed days; the counts match") {
		t.Fatalf("hub migrate = %d, %q, %q", r.code, r.stdout, r.stderr)
	}
	if moved := hub(t, "protocol", "export", "--db", conn, "--day", yesterday); moved.code != 0 || sha.FindString(moved.stderr) != sha.FindString(closed.stderr) {
		t.Errorf("the moved closed day exports %q, want %s", moved.stderr, sha.FindString(closed.stderr))
	}
	fromBolt := hub(t, "person", "list", "--data", data)
	fromPostgres := hub(t, "person", "list", "--db", conn)
	if fromBolt.code != 0 || fromPostgres.code != 0 || fromBolt.stdout != fromPostgres.stdout || strings.Count(fromBolt.stdout, "\n") < 300 {
		t.Errorf("person list from the file (%d lines) and from PostgreSQL (%d lines) differ: %q %q",
			strings.Count(fromBolt.stdout, "\n"), strings.Count(fromPostgres.stdout, "\n"), fromBolt.stderr, fromPostgres.stderr)
	}
	r = hub(t, "migrate", "--from", "bolt", data, "--to", conn)
	if r.code != 1 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("a second hub migrate = %d, %q; want a refusal", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"migrate", "--from", "sqlite", data, "--to", conn},
		{"migrate", "--from", "bolt", "--to", conn},
		{"migrate", "--from", "bolt", data},
	} {
		if r := hub(t, args...); r.code != 2 {
			t.Errorf("hub %v = %d, %q; want a usage error", args, r.code, r.stderr)
		}
	}
}

// hub protocol export works on a register in PostgreSQL (--db): a number
// a stopped hub left reserved past protocol.ReservationTimeout is annulled
// (and its annulment recorded in the audit log there), and a day that is
// over is closed, every later export giving the same bytes.
func TestProtocolExportInPostgres(t *testing.T) {
	conn := pg.Database(t)
	ctx := context.Background()
	s, err := postgres.OpenStore(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	left := time.Now().Add(-protocol.ReservationTimeout - time.Minute)
	n, _, err := s.Numbering().Reserve(ctx, left, protocol.Register{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	today := protocol.DayOf(time.Now())
	r := hub(t, "protocol", "export", "--db", conn, "--day", today.String())
	if r.code != 0 || !strings.Contains(r.stdout, n.String()+",") || !strings.Contains(r.stdout, protocol.ReasonRecovered) || !strings.Contains(r.stderr, "provisional") {
		t.Fatalf("hub protocol export --db = %d, want %s annulled\n%s%s", r.code, n, r.stdout, r.stderr)
	}
	yesterday := protocol.DayOf(today.Start().Add(-time.Hour))
	sha := regexp.MustCompile(`sha-256 ([0-9a-f]{64})`)
	first := hub(t, "protocol", "export", "--db", conn, "--day", yesterday.String())
	again := hub(t, "protocol", "export", "--db", conn, "--day", yesterday.String())
	if first.code != 0 || again.code != 0 || !strings.Contains(first.stderr, "is closed") || sha.FindString(first.stderr) == "" || sha.FindString(first.stderr) != sha.FindString(again.stderr) {
		t.Errorf("closing yesterday in PostgreSQL: %d %q, then %d %q", first.code, first.stderr, again.code, again.stderr)
	}
}
