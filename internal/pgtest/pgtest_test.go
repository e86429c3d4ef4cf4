package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

var pg Shared

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }

// Debian installs each major version under its own number; CI may have a
// newer one than this machine, and 17 must win over 9 although "9" sorts
// after "17" as text.
func TestNewestMajor(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9", "17", "15", "18"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if v != "18" { // 18's server package is not installed: no initdb
			if err := os.WriteFile(filepath.Join(bin, "initdb"), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "common", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, want := newestMajor(root), filepath.Join(root, "17", "bin"); got != want {
		t.Errorf("newestMajor = %s, want %s", got, want)
	}
	if got := newestMajor(filepath.Join(root, "none")); got != "" {
		t.Errorf("newestMajor(missing dir) = %q, want none", got)
	}
}

// Each test gets its own database: what one writes the next cannot see,
// and the database is gone after the test.
func TestDatabases(t *testing.T) {
	ctx := context.Background()
	var first string
	t.Run("write", func(t *testing.T) {
		first = pg.Database(t)
		conn, err := pgx.Connect(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE TABLE marker (x int); INSERT INTO marker VALUES (1)"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fresh", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, pg.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Error("a new database holds the table another test made")
		}
		var enc string
		if err := conn.QueryRow(ctx, "SHOW server_encoding").Scan(&enc); err != nil || enc != "UTF8" {
			t.Errorf("server_encoding = %q, %v; want UTF8", enc, err)
		}
	})
	if first == "" {
		return
	}
	if conn, err := pgx.Connect(ctx, first); err == nil {
		conn.Close(ctx)
		t.Error("the first test's database still exists after it ended")
	}
	// Only the socket in the server's own directory: no TCP port.
	var listen string
	conn, err := pgx.Connect(ctx, pg.Server(t).ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen); err != nil || listen != "" {
		t.Errorf("listen_addresses = %q, %v; want empty", listen, err)
	}
}

// Start applies the settings given; Stop ends the server and removes
// everything it wrote.
func TestStartStop(t *testing.T) {
	pg.Server(t) // skips (or fails under CI) where PostgreSQL is missing
	ctx := context.Background()
	s, err := Start(ctx, "fsync=on", "work_mem=5MB")
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	// Settings given override the test defaults (fsync off).
	for name, want := range map[string]string{"fsync": "on", "work_mem": "5MB", "listen_addresses": ""} {
		var got string
		if err := s.admin.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&got); err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the server's directory %s is still there: %v", dir, err)
	}
	if _, err := pgx.Connect(context.Background(), s.ConnString("postgres")); err == nil {
		t.Error("the server still accepts connections after Stop")
	}
}
