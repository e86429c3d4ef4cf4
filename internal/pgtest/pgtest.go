// Package pgtest runs a private PostgreSQL server for tests: Debian's
// server binaries (package postgresql, which `make deps` installs and which
// starts no server of its own here), a cluster initialised in a new
// temporary directory, listening only on a unix socket in that directory,
// and a fresh database for each test that asks for one.
//
// A test package shares one server among its tests:
//
//	var pg pgtest.Shared
//
//	func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }
//
//	func TestX(t *testing.T) {
//		conn := pg.Database(t) // a new, empty database; dropped at the end
//		...
//	}
//
// The server starts on the first Database call, so `go test -run` of tests
// that need none costs nothing, and stops when Run returns.
//
// Where PostgreSQL is not installed the tests that need it skip with a
// sentence saying how to install it, except under CI (CI=true), where they
// fail: CI installs the package, so a server that cannot start there is a
// fault to see, never a silent skip.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// debianRoot is where Debian's postgresql-NN packages put each major
// version's server binaries (/usr/lib/postgresql/15/bin/initdb); several
// versions may be installed side by side.
const debianRoot = "/usr/lib/postgresql"

// port names the socket file (.s.PGSQL.5432) in the server's own
// directory. With listen_addresses empty the server opens no TCP port, so
// the number cannot collide with another server's.
const port = 5432

// Server is a running private PostgreSQL.
type Server struct {
	dir     string // holds data/, the socket and the log
	bin     string // directory of initdb, pg_ctl, postgres
	asOwner func(cmd string) *exec.Cmd
	admin   *pgx.Conn

	mu  sync.Mutex
	seq int
}

// FindBin returns the directory of the newest PostgreSQL server binaries
// installed: the highest major version under /usr/lib/postgresql (CI may run
// on a Debian with 16 or 17 where this machine has 15), else the directory
// of an initdb on the PATH. PGTEST_BIN names one explicitly.
func FindBin() (string, error) {
	if dir := os.Getenv("PGTEST_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", fmt.Errorf("PGTEST_BIN=%s holds no initdb: %w", dir, err)
		}
		return dir, nil
	}
	if dir := newestMajor(debianRoot); dir != "" {
		return dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL's server is not installed (no initdb in /usr/lib/postgresql/*/bin or on the PATH): apt-get install postgresql, or run make deps")
}

// newestMajor returns root/N/bin for the highest major version N that has
// an initdb, compared as numbers (17 after 9), or "" when there is none.
func newestMajor(root string) string {
	entries, _ := os.ReadDir(root)
	var majors []int
	for _, e := range entries {
		if v, err := strconv.Atoi(e.Name()); err == nil {
			if _, err := os.Stat(filepath.Join(root, e.Name(), "bin", "initdb")); err == nil {
				majors = append(majors, v)
			}
		}
	}
	if len(majors) == 0 {
		return ""
	}
	sort.Ints(majors)
	return filepath.Join(root, strconv.Itoa(majors[len(majors)-1]), "bin")
}

// Start initialises a cluster in a new temporary directory and starts a
// server on it. initdb refuses to run as root, so as root the cluster is
// made and run by the postgres user the Debian package creates.
//
// The server runs without fsync, as tests need no durability; settings
// ("name=value", given to postgres as -c) are applied after the defaults,
// so a benchmark that claims durability passes "fsync=on",
// "synchronous_commit=on" and "full_page_writes=on".
func Start(ctx context.Context, settings ...string) (*Server, error) {
	bin, err := FindBin()
	if err != nil {
		return nil, err
	}
	// Not under TMPDIR's test directories: a unix socket path must fit
	// in 107 bytes, and the postgres user must be able to reach it.
	dir, err := os.MkdirTemp("/tmp", "pgtest")
	if err != nil {
		return nil, fmt.Errorf("cannot make the server's directory: %w", err)
	}
	s := &Server{dir: dir, bin: bin}
	s.asOwner = func(cmd string) *exec.Cmd { return exec.Command("/bin/sh", "-c", cmd) }
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, the server must run as user postgres, which does not exist (is the postgresql package installed?): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("cannot give the server's directory to postgres: %w", err)
		}
		s.asOwner = func(cmd string) *exec.Cmd {
			return exec.Command("su", "postgres", "-s", "/bin/sh", "-c", cmd)
		}
	}
	data := filepath.Join(dir, "data")
	// -A trust: only this directory's socket reaches the server, and
	// the directory is the postgres user's. --no-sync and fsync=off: a
	// test cluster need not survive a power cut (benchmarks that claim
	// durability start their own with fsync on). UTF8 and the C locale
	// so text sorts by bytes and behaves the same on every machine.
	initdb := fmt.Sprintf("%s -D %s -A trust -U postgres --no-sync -E UTF8 --locale=C >%s 2>&1",
		quote(filepath.Join(bin, "initdb")), quote(data), quote(filepath.Join(dir, "initdb.log")))
	if out, err := s.asOwner(initdb).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "initdb.log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb failed: %v: %s%s", err, out, log)
	}
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off", dir, port)
	for _, set := range settings {
		opts += " -c " + set
	}
	start := fmt.Sprintf("%s -D %s -o %s -l %s -w -t 60 start", quote(filepath.Join(bin, "pg_ctl")),
		quote(data), quote(opts), quote(filepath.Join(dir, "server.log")))
	if out, err := s.asOwner(start).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		s.stop()
		return nil, fmt.Errorf("the PostgreSQL server did not start: %v: %s%s", err, out, log)
	}
	// pg_ctl -w returns once the server accepts connections; a connection
	// of our own proves the socket is reachable from this process.
	admin, err := pgx.Connect(ctx, s.ConnString("postgres"))
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("the PostgreSQL server started but refuses connections: %w", err)
	}
	s.admin = admin
	return s, nil
}

// quote makes s one word for /bin/sh.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ConnString returns a connection string for database name.
func (s *Server) ConnString(name string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.dir, port, name)
}

// Dir is the server's directory (data, socket, server.log).
func (s *Server) Dir() string { return s.dir }

// CreateDatabase creates a new, empty database and returns its connection
// string.
func (s *Server) CreateDatabase(ctx context.Context) (name, conn string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	name = fmt.Sprintf("test_%d", s.seq)
	// template0: template1 may have been changed; the new database
	// must be empty whatever ran before.
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", "", fmt.Errorf("cannot create database %s: %w", name, err)
	}
	return name, s.ConnString(name), nil
}

// DropDatabase drops a database, closing any connection left to it.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Stop stops the server (pg_ctl -m fast: open sessions are ended) and
// removes its directory.
func (s *Server) Stop() error {
	if s.admin != nil {
		s.admin.Close(context.Background())
	}
	return s.stop()
}

func (s *Server) stop() error {
	var err error
	if _, statErr := os.Stat(filepath.Join(s.dir, "data", "postmaster.pid")); statErr == nil {
		cmd := fmt.Sprintf("%s -D %s -m fast -w -t 60 stop", quote(filepath.Join(s.bin, "pg_ctl")), quote(filepath.Join(s.dir, "data")))
		if out, e := s.asOwner(cmd).CombinedOutput(); e != nil {
			err = fmt.Errorf("pg_ctl stop: %v: %s", e, bytes.TrimSpace(out))
		}
	}
	if e := os.RemoveAll(s.dir); e != nil && err == nil {
		err = e
	}
	return err
}

// Shared is one server for a test package, started on first use.
type Shared struct {
	// Settings are passed to Start.
	Settings []string

	once sync.Once
	srv  *Server
	err  error
}

// Run runs the package's tests and stops the server if one was started;
// its result is the exit code for os.Exit.
func (sh *Shared) Run(m *testing.M) int {
	code := m.Run()
	if err := sh.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Stop stops the server if one was started. A TestMain with several
// Shared servers calls it for each after m.Run.
func (sh *Shared) Stop() error {
	if sh.srv == nil {
		return nil
	}
	srv := sh.srv
	sh.srv = nil
	return srv.Stop()
}

// Server returns the shared server, starting it on the first call. Where
// it cannot start, the test is skipped, or failed under CI (CI=true).
func (sh *Shared) Server(tb testing.TB) *Server {
	tb.Helper()
	sh.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sh.srv, sh.err = Start(ctx, sh.Settings...)
	})
	if sh.err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL must run under CI: %v", sh.err)
		}
		tb.Skipf("no private PostgreSQL for this test: %v", sh.err)
	}
	return sh.srv
}

// Database creates a new, empty database on the shared server for this
// test and returns its connection string; it is dropped when the test ends,
// after the test's own clean-ups (which close its connections) have run.
func (sh *Shared) Database(tb testing.TB) string {
	tb.Helper()
	srv := sh.Server(tb)
	ctx := context.Background()
	name, conn, err := srv.CreateDatabase(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.DropDatabase(ctx, name); err != nil {
			tb.Errorf("dropping the test database: %v", err)
		}
	})
	return conn
}
