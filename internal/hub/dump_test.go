package hub

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDumpKeepsPasswordOffCommandLine: pg_dump is given the database's
// password in its environment, not in --dbname, where every user of the
// machine could read it in ps (issue 18).
func TestDumpKeepsPasswordOffCommandLine(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seen")
	// A pg_dump that writes down what it was given.
	script := "#!/bin/sh\n{ printf '%s\\n' \"$@\"; echo \"PGPASSWORD=$PGPASSWORD\"; } > " + out + "\n"
	if err := os.WriteFile(filepath.Join(dir, "pg_dump"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("PGPASSWORD", "")
	for _, tc := range []struct{ conn, want string }{
		{"postgres://hub:s3cret%20x@db.example:5432/sportello?sslmode=require", "postgres://hub@db.example:5432/sportello?sslmode=require"},
		{"postgres://hub@db.example/sportello?password=s3cret%20x&sslmode=disable", "postgres://hub@db.example/sportello?sslmode=disable"},
		{"host=/run/postgresql user=hub password='s3cret x' dbname=sportello", "host=/run/postgresql user=hub dbname=sportello"},
	} {
		if err := DumpDatabase(context.Background(), tc.conn, filepath.Join(dir, "dump")); err != nil {
			t.Fatal(err)
		}
		seen, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(seen)), "\n")
		args, env := lines[:len(lines)-1], lines[len(lines)-1]
		for _, a := range args {
			if strings.Contains(a, "s3cret") {
				t.Errorf("%s: the password is on pg_dump's command line: %q", tc.conn, a)
			}
		}
		if !strings.Contains(strings.Join(args, "\n"), "--dbname="+tc.want) {
			t.Errorf("%s: pg_dump was given %q, want --dbname=%s", tc.conn, args, tc.want)
		}
		if env != "PGPASSWORD=s3cret x" {
			t.Errorf("%s: pg_dump's environment has %q, want the password", tc.conn, env)
		}
	}
}
