package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/pgtest"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
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

// hub migrate moves a whole city into PostgreSQL: the registry, issued
// certificates (one revoked), the audit log, the city's settings; the
// counts match, the same records read back from both, the copied audit
// log verifies, and a second move is refused.
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
	if r := hub(t, "city", "set", "--data", data, "--fee-cap", "120", "--by", "m.bianchi"); r.code != 0 {
		t.Fatalf("hub city set = %d, %q", r.code, r.stderr)
	}
	var ids []string
	list := hub(t, "person", "list", "--data", data, "--limit", "40")
	for _, line := range strings.Split(strings.TrimSpace(list.stdout), "\n") {
		cf := strings.Fields(line)[0]
		r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "residenza", "--out", filepath.Join(t.TempDir(), "c.pdf"))
		if m := regexp.MustCompile(`issued (\w+)`).FindStringSubmatch(r.stdout); r.code == 0 && m != nil {
			ids = append(ids, m[1])
		}
		if len(ids) == 3 {
			break
		}
	}
	if len(ids) < 3 {
		t.Fatalf("only %d residenza certificates could be issued", len(ids))
	}
	if r := hub(t, "certificate", "revoke", "--data", data, "--id", ids[1], "--reason", "rilasciato alla persona sbagliata", "--authorised-by", "Laura Bianchi"); r.code != 0 {
		t.Fatalf("hub certificate revoke = %d, %q", r.code, r.stderr)
	}
	conn := pg.Database(t)
	r := hub(t, "migrate", "--from", "bolt", data, "--to", conn)
	if r.code != 0 || !regexp.MustCompile(`(?m)^registry: \d+ persons, \d+ families, \d+ events, 0 places$`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "the counts match") || !strings.Contains(r.stdout, "certificates: 3 records") || !strings.Contains(r.stdout, "protocol register: 3 entries, 1 closed days") ||
		!regexp.MustCompile(`(?m)^audit log: [1-9]\d* entries`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "city settings: 1 settings changed by staff") {
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
	// The records read back through the stores: the same certificates
	// (the revoked one revoked), the same settings, and an audit log that
	// verifies and ends at the file's head.
	ctx := context.Background()
	src, err := bolt.Open(registryPath(data), registrybolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.OpenStore(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	type snapshot struct {
		Certs []certificate.Record
		Proto []protocol.Entry
		City  city.Config
		Head  audit.Head
	}
	read := func(s store.Store) (snap snapshot) {
		err := s.View(ctx, func(tx store.Tx) (err error) {
			for _, id := range ids {
				c, err := tx.Certificates().Get(id)
				if err != nil {
					return err
				}
				snap.Certs = append(snap.Certs, c)
				n, err := protocol.ParseNumber(c.Protocol)
				if err != nil {
					return err
				}
				e, err := tx.Protocol().Get(n)
				if err != nil {
					return err
				}
				snap.Proto = append(snap.Proto, e)
			}
			if snap.City, err = tx.City().Get(); err != nil {
				return err
			}
			snap.Head, err = tx.Audit().Verify()
			return err
		})
		if err != nil {
			t.Fatalf("reading the %s store: %v", s.Backend(), err)
		}
		return snap
	}
	want, got := read(src), read(dst)
	if fmt.Sprint(got) != fmt.Sprint(want) || got.Certs[1].Status != certificate.Revoked || got.Head.Seq == 0 {
		t.Errorf("the moved city reads back\n%+v\nwant\n%+v", got, want)
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

// TestMigrateDemoCity: the demo city, as hub serve --demo made it (its
// registry, shops, devices, clerks, staff, certificates, register, audit
// log and its two appointment offices), moves to PostgreSQL whole, counts checked, and a hub then
// serves from the database.
func TestMigrateDemoCity(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, data, "127.0.0.1:0")
	h.stop(t)
	conn := pg.Database(t)
	r := hub(t, "migrate", "--from", "bolt", data, "--to", conn)
	if r.code != 0 {
		t.Fatalf("hub migrate of the demo city = %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`registry: [1-9]\d* persons`), regexp.MustCompile(`operators: [1-9]\d* operators`),
		regexp.MustCompile(`[1-9]\d* clerks`), regexp.MustCompile(`certificates: [1-9]\d* records`),
		regexp.MustCompile(`staff: [1-9]\d* accounts`), regexp.MustCompile(`appointments: 2 offices`),
	} {
		if !want.MatchString(r.stdout) {
			t.Errorf("hub migrate says\n%s\nwant a line matching %s", r.stdout, want)
		}
	}
	fromBolt := hub(t, "operator", "list", "--data", data)
	fromPostgres := hubEnv(t, "", []string{"SPORTELLO_DB=" + conn}, "operator", "list", "--data", data)
	if fromBolt.code != 0 || fromPostgres.code != 0 || fromBolt.stdout != fromPostgres.stdout {
		t.Errorf("operator list from the file and from PostgreSQL differ:\n%s%s\n%s%s", fromBolt.stdout, fromBolt.stderr, fromPostgres.stdout, fromPostgres.stderr)
	}
}
