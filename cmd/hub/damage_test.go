package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/store/bolt/boltfile/bolttest"
)

// damageRig is a hub data directory with every kind of record (the demo's
// registry, operators, staff and certificates, one certificate issued at
// the command line, reads in the audit log), and the command lines that
// open its hub.db.
type damageRig struct {
	data     string
	commands [][]string // each with DATA where the data directory goes
}

func newDamageRig(t *testing.T) *damageRig {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	h := startHub(t, data, "127.0.0.1:0")
	h.stop(t)
	r := hub(t, "person", "list", "--data", data, "--limit", "40")
	var cf, id string
	out := filepath.Join(t.TempDir(), "c.pdf")
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		candidate := strings.Fields(line)[0]
		if r := hub(t, "certificate", "issue", "--data", data, "--cf", candidate, "--type", "residenza", "--out", out); r.code == 0 {
			cf, id = candidate, regexp.MustCompile(`issued (\w+)`).FindStringSubmatch(r.stdout)[1]
			break
		}
	}
	if id == "" {
		t.Fatal("no resident among the first 40 could get a residenza")
	}
	// Enough reads that the audit log has pages of its own.
	for range 12 {
		if r := hub(t, "person", "show", "--data", data, "--cf", cf, "--purpose", "pratica 12/2026"); r.code != 0 {
			t.Fatalf("person show: exit %d: %s", r.code, r.stderr)
		}
	}
	day := time.Now().Format("2006-01-02")
	return &damageRig{data: data, commands: [][]string{
		{"serve", "--demo", "--data", "DATA", "--addr", "127.0.0.1:0"},
		{"check", "--data", "DATA"},
		{"person", "list", "--data", "DATA"},
		{"person", "show", "--data", "DATA", "--cf", cf},
		{"certificate", "issue", "--data", "DATA", "--cf", cf, "--type", "residenza", "--out", filepath.Join(t.TempDir(), "again.pdf")},
		{"certificate", "show", "--data", "DATA", "--id", id},
		{"audit", "verify", "--data", "DATA"},
		{"operator", "list", "--data", "DATA"},
		{"staff", "list", "--data", "DATA"},
		{"city", "show", "--data", "DATA"},
		{"protocol", "export", "--data", "DATA", "--day", day, "--out", filepath.Join(t.TempDir(), "register.csv")},
	}}
}

// copyData copies the rig's data directory to a new one.
func (r *damageRig) copyData(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "data")
	if err := os.CopyFS(dst, os.DirFS(r.data)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// runBounded runs the hub with a time limit: a damaged file must not make
// a command, hub serve included, run on.
func runBounded(t *testing.T, args []string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hubBin, args...)
	cmd.Env = append(os.Environ(), "SPORTELLO_DATA="+filepath.Join(t.TempDir(), "unused"), "SPORTELLO_CONFIG=")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("hub %s still ran after a minute", strings.Join(args, " "))
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func withData(args []string, data string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, "DATA", data)
	}
	return out
}

// TestDamagedHubFile: a hub.db cut short or with one bit changed, in each
// of the table's ways, makes every command that opens it (hub serve and
// hub check included) exit 1 with one sentence naming the file and saying
// what to do; never a crash, a stack dump or a hub that serves on.
func TestDamagedHubFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command on a dozen damaged files")
	}
	rig := newDamageRig(t)
	// On the intact file every command works (hub serve is started and
	// stopped by the rig), so a refusal below is the damage's.
	for _, args := range rig.commands[1:] {
		data := rig.copyData(t)
		if r := runBounded(t, withData(args, data)); r.code != 0 {
			t.Fatalf("intact: hub %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	damages, err := bolttest.Damages(registryPath(rig.data))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range damages {
		t.Run(d.Name, func(t *testing.T) {
			data := rig.copyData(t)
			file := registryPath(data)
			if err := d.Apply(file); err != nil {
				t.Fatal(err)
			}
			for _, args := range rig.commands {
				args := withData(args, data)
				r := runBounded(t, args)
				msg := strings.TrimSpace(r.stderr)
				if r.code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, file) ||
					strings.Contains(msg, "goroutine") || strings.Contains(msg, "panic") || !strings.Contains(msg, "hub check --data") {
					t.Errorf("hub %s: exit %d, want 1 and one sentence naming %s and what to do:\n%s", strings.Join(args[:2], " "), r.code, file, firstLines(r.stderr, 5))
				}
			}
		})
	}
}

// TestHubCheckFindsDataFlips: a bit changed inside an audit entry leaves
// the file's structure sound, so every command opens it; hub check (and
// hub audit verify) find it through the audit log's hash chain and say so.
func TestHubCheckFindsDataFlips(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a hub")
	}
	rig := newDamageRig(t)
	data := rig.copyData(t)
	off, err := bolttest.ValueOffset(registryPath(data), "audit")
	if err != nil {
		t.Fatal(err)
	}
	if err := bolttest.FlipBit(registryPath(data), off, 1); err != nil {
		t.Fatal(err)
	}
	r := runBounded(t, []string{"check", "--data", data})
	if r.code != 1 || !strings.Contains(r.stdout, "DAMAGED    audit log") || !strings.Contains(r.stdout, "structure  ") ||
		strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 || !strings.Contains(r.stderr, "the audit log") {
		t.Errorf("hub check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBounded(t, []string{"audit", "verify", "--data", data}); r.code != 1 {
		t.Errorf("hub audit verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestServeStopsOnDamage: a hub.db cut short under a serving hub (the
// disk, or another program) makes the next read fault. Met by a request,
// it is answered 503; met by a staff command the hub runs for the command
// line, that command exits 1 with the sentence. Either way the hub stops
// with exit 1 and the sentence, rather than crash or write on.
func TestServeStopsOnDamage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a hub")
	}
	for _, via := range []string{"request", "staff command"} {
		t.Run(via, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			h := startHub(t, data, "127.0.0.1:0")
			client := h.Client(t)
			if resp, err := client.Get(h.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
				t.Fatalf("healthz before: %v %v", resp, err)
			}
			if err := os.Truncate(registryPath(data), 8192); err != nil {
				t.Fatal(err)
			}
			if via == "request" {
				resp, err := client.Get(h.URL + "/healthz")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 503 {
					t.Errorf("healthz on a cut file: %d, want 503", resp.StatusCode)
				}
			} else {
				r := runBounded(t, []string{"person", "list", "--data", data})
				if msg := strings.TrimSpace(r.stderr); r.code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, "is damaged") {
					t.Errorf("hub person list in the serving hub: exit %d: %s", r.code, r.stderr)
				}
			}
			err := h.cmd.Wait()
			logs := strings.TrimSpace(h.logs.String())
			last := logs[strings.LastIndex(logs, "\n")+1:]
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || strings.Contains(logs, "goroutine") ||
				!strings.HasPrefix(last, "hub serve: the file "+registryPath(data)+" is damaged") || !strings.Contains(last, "hub check --data") {
				t.Errorf("hub serve: %v, want exit 1 ending with the sentence:\n%s", err, logs)
			}
		})
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}
