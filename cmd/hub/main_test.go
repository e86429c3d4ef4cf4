package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/places/anprtest"
)

// The tests build the real binary and run it as a city's staff would.
var hubBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hubtest")
	if err != nil {
		panic(err)
	}
	hubBin = filepath.Join(dir, "hub")
	cmd := exec.Command("go", "build", "-o", hubBin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building hub: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	if err := pg.Stop(); err != nil { // the private PostgreSQL, if a test started it
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// hub runs the hub binary as staff would, with no input.
func hub(t *testing.T, args ...string) result {
	t.Helper()
	return hubIn(t, "", args...)
}

// hubIn runs the hub binary with stdin. SPORTELLO_DATA points nowhere
// useful, so a command that forgets --data fails rather than touching a
// real directory.
func hubIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return hubEnv(t, stdin, nil, args...)
}

// hubEnv is hubIn with more environment variables (NAME=value).
func hubEnv(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hubBin, args...)
	// No settings file: the machine's /etc/sportello/hub.conf is not the test's.
	cmd.Env = append(append(os.Environ(), "SPORTELLO_DATA="+filepath.Join(t.TempDir(), "unused"), "SPORTELLO_CONFIG="), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errOut.String(), code}
}

func TestCFCheck(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr []string
	}{
		{"valid", []string{"cf", "check", "CCCFBA85D03L219P"}, 0,
			[]string{"CCCFBA85D03L219P (valid)", "male", "1985-04-03", "L219 TORINO (TO), comune"}, nil},
		{"omocode", []string{"cf", "check", "CCCFBA85D03L21VE"}, 0,
			[]string{"valid", "omocode of: CCCFBA85D03L219P", "1985-04-03"}, nil},
		{"lower case", []string{"cf", "check", "mrtmra83t56a269b"}, 0, []string{"female", "1983-12-16"}, nil},
		{"check character", []string{"cf", "check", "CCCFBA85D03L219X"}, 1, nil, []string{"character 16", "'P'"}},
		{"too short", []string{"cf", "check", "CCCFBA85D03"}, 1, nil, []string{"16"}},
		{"impossible date", []string{"cf", "check", "RSSMRA50B30A558I"}, 1, nil, []string{"date"}},
		{"unknown place is not invalid", []string{"cf", "check", "RSSMRA50B17A558W"}, 0,
			[]string{"valid", "A558 is not in the loaded places tables"}, nil},
		{"no argument", []string{"cf", "check"}, 2, nil, []string{"usage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hub(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tt.code != 0 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
				t.Errorf("error is not one clear sentence:\n%s", r.stderr)
			}
		})
	}
}

func TestCFEncode(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // stdout, or a stderr substring when code != 0
	}{
		{[]string{"--surname", "Rossi", "--name", "Mario", "--sex", "M", "--birth", "1950-02-17", "--place", "F205"}, 0, "RSSMRA50B17F205"},
		{[]string{"--surname", "Martini", "--name", "Maria", "--sex", "F", "--birth", "1983-12-16", "--place", "A269"}, 1, "A269"}, // not a capital: unknown until imported
		{[]string{"--surname", "Rossi", "--name", "Mario", "--sex", "M", "--birth", "1950-02-30", "--place", "F205"}, 1, "does not exist"},
		{[]string{"--surname", "Rossi", "--name", "Mario", "--sex", "X", "--birth", "1950-02-17", "--place", "F205"}, 2, "--sex"},
		{[]string{"--surname", "Rossi", "--name", "Mario", "--sex", "M", "--birth", "17/02/1950", "--place", "F205"}, 2, "YYYY-MM-DD"},
	}
	for _, tt := range tests {
		r := hub(t, append([]string{"cf", "encode"}, tt.args...)...)
		if r.code != tt.code {
			t.Errorf("%v: exit %d, want %d (%s)", tt.args, r.code, tt.code, r.stderr)
			continue
		}
		got := r.stdout
		if tt.code != 0 {
			got = r.stderr
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("%v: output %q lacks %q", tt.args, got, tt.want)
		}
	}
}

func TestPlacesImportThenDecodeHistoricComune(t *testing.T) {
	data := t.TempDir()
	r := hub(t, "places", "import", "--data", data, anprtest.File(t, "ANPR_archivio_comuni.csv"))
	if r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	if !regexp.MustCompile(`imported \d{5} place records`).MatchString(r.stdout) {
		t.Errorf("import said %q", r.stdout)
	}
	r = hub(t, "places", "import", "--data", data, anprtest.File(t, "stati_esteri.csv"))
	if r.code != 0 {
		t.Fatalf("import states: exit %d: %s", r.code, r.stderr)
	}
	r = hub(t, "cf", "check", "--data", data, "RSSMRA50B17A558W")
	if r.code != 0 || !strings.Contains(r.stdout, "PORRETTA TERME") || !strings.Contains(r.stdout, " to 20") {
		t.Errorf("historic comune: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = hub(t, "cf", "encode", "--data", data, "--surname", "Martini", "--name", "Maria", "--sex", "F", "--birth", "1983-12-16", "--place", "A269")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "MRTMRA83T56A269B" {
		t.Errorf("encode after import: exit %d %q %s", r.code, r.stdout, r.stderr)
	}

	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("a,b,c\n1,2,3\n"), 0o644)
	r = hub(t, "places", "import", "--data", data, bad)
	if r.code != 1 || !strings.Contains(r.stderr, "bad.csv") {
		t.Errorf("bad file: exit %d: %s", r.code, r.stderr)
	}
}

func TestSeedReopenShow(t *testing.T) {
	data := t.TempDir()
	r := hub(t, "seed", "--data", data, "--persons", "500", "--seed", "7")
	if r.code != 0 {
		t.Fatalf("seed: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, "seed", "--data", data, "--persons", "10"); r.code != 1 || !strings.Contains(r.stderr, "already holds") {
		t.Errorf("second seed: exit %d: %s", r.code, r.stderr)
	}
	r = hub(t, "person", "list", "--data", data, "--limit", "5")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 5 {
		t.Fatalf("person list: exit %d, %d lines: %s", r.code, len(lines), r.stderr)
	}
	cf := strings.Fields(lines[2])[0]
	r = hub(t, "person", "show", "--data", data, "--cf", strings.ToLower(cf))
	if r.code != 0 || !strings.Contains(r.stdout, "codice fiscale   "+cf) {
		t.Errorf("person show: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = hub(t, "person", "show", "--data", data, "--cf", "CCCFBA85D03L219P")
	if r.code != 1 || !strings.Contains(r.stderr, "no person") {
		t.Errorf("unknown person: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, "person", "list", "--data", filepath.Join(data, "nothing")); r.code != 1 || !strings.Contains(r.stderr, "no registry") {
		t.Errorf("missing registry: exit %d: %s", r.code, r.stderr)
	}
}

func TestBadDataDirectory(t *testing.T) {
	// Root ignores permission bits, so use a path under a regular file: it fails for everyone.
	file := filepath.Join(t.TempDir(), "afile")
	os.WriteFile(file, nil, 0o644)
	r := hub(t, "seed", "--data", filepath.Join(file, "sub"), "--persons", "10")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot create the data directory") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}

	corrupt := t.TempDir()
	os.WriteFile(filepath.Join(corrupt, "hub.db"), bytes.Repeat([]byte("not a database "), 1000), 0o600)
	r = hub(t, "person", "list", "--data", corrupt)
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("corrupt registry: exit %d: %s", r.code, r.stderr)
	}
}

// TestServe starts a real hub, checks /healthz, runs staff commands while it
// holds the registry, and stops it with SIGTERM.
func TestServe(t *testing.T) {
	data := t.TempDir()
	h := startHub(t, data, "127.0.0.1:0")
	url := h.URL
	if !strings.HasPrefix(url, "https://") || h.CA != filepath.Join(data, "tls", "cert.pem") {
		t.Fatalf("the demo hub listens on %s with certificate %q, want https with its own", url, h.CA)
	}

	resp, err := h.Client(t).Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("HTTPS answer without HSTS: %q", got)
	}
	if plain, err := http.Get("http://" + strings.TrimPrefix(url, "https://") + "/healthz"); err == nil && plain.StatusCode == 200 {
		t.Error("the demo hub answered plain HTTP")
	}
	var health struct {
		Status  string `json:"status"`
		Persons int    `json:"persons"`
	}
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health.Status != "ok" || health.Persons < demoPersons {
		t.Errorf("healthz: %d %+v", resp.StatusCode, health)
	}

	// Staff commands work while the hub holds the bbolt file.
	r := hub(t, "person", "list", "--data", data, "--limit", "3")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("person list through the running hub: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = hub(t, "places", "import", "--data", data, anprtest.File(t, "stati_esteri.csv"))
	if r.code != 0 {
		t.Errorf("places import through the running hub: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, "serve", "--data", data, "--addr", "127.0.0.1:0"); r.code != 1 || !strings.Contains(r.stderr, "already serving") {
		t.Errorf("second serve: exit %d: %s", r.code, r.stderr)
	}

	h.stop(t)
	if !strings.Contains(h.logs.String(), "hub stopped") {
		t.Errorf("no graceful shutdown in the logs:\n%s", h.logs.String())
	}
	// Restarting finds the seeded city and does not seed again.
	r = hub(t, "person", "list", "--data", data)
	if n := strings.Count(r.stdout, "\n"); r.code != 0 || n != health.Persons {
		t.Errorf("after restart: exit %d, %d persons, want %d", r.code, n, health.Persons)
	}
}

// TestRootRunsAsDataOwner: a staff command run as root on the data
// directory of the service's user runs as that user, so what it makes there
// the next hub serve can read (issue 18: a root-owned hub.db or key stopped
// the service).
func TestRootRunsAsDataOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("make test runs as root; this test needs root to change user")
		}
		t.Skip("needs root")
	}
	const nobody = 65534
	base := t.TempDir()
	// t.TempDir's directories are root's 0700: let the owner reach data.
	for _, p := range []string{base, filepath.Dir(base)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(base, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	r := hub(t, "seed", "--data", data, "--persons", "3")
	if r.code != 0 {
		t.Fatalf("seed as root on nobody's directory: exit %d\n%s", r.code, r.stderr)
	}
	entries, err := os.ReadDir(data)
	if err != nil || len(entries) == 0 {
		t.Fatalf("seed made nothing in %s (%v)", data, err)
	}
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(data, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != nobody {
			t.Errorf("%s is owned by uid %d, not the data directory's owner %d", e.Name(), uid, nobody)
		}
	}
}
