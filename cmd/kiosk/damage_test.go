package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/outbox"
	"github.com/sportello/sportello/internal/store/bolt/boltfile/bolttest"
	"github.com/sportello/sportello/printer"
)

// envMainArgs makes this test binary the kiosk program: a test runs it
// again as a real process, with these arguments (JSON), so a crash is a
// real crash and not a failed test.
const envMainArgs = "KIOSK_TEST_MAIN_ARGS"

// TestKioskMain is the kiosk program in a process runKioskProcess starts;
// it does nothing in a normal run.
func TestKioskMain(t *testing.T) {
	a := os.Getenv(envMainArgs)
	if a == "" {
		t.Skip("the kiosk program for runKioskProcess")
	}
	var args []string
	if err := json.Unmarshal([]byte(a), &args); err != nil {
		t.Fatal(err)
	}
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, now: time.Now}
	os.Exit(c.run(context.Background(), args))
}

// runKioskProcess runs the kiosk as a process of its own, with stdin, for
// at most a minute.
func runKioskProcess(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, _ := json.Marshal(args)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKioskMain$")
	cmd.Env = append(os.Environ(), envMainArgs+"="+string(a), demoSecretEnv+"=")
	// No window for the app, which must fail before opening one; a
	// locale Fyne can read (it logs about "C" when its package loads).
	cmd.Env = append(cmd.Env, "DISPLAY=", "LANG=en_US.UTF-8", "LC_ALL=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("kiosk %s still ran after a minute", strings.Join(args, " "))
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// TestDamagedOutbox: an outbox.db cut short or with one bit changed, in
// each of the table's ways, makes every kiosk command that opens it (the
// app, kiosk check, the outbox and print-job commands) exit 1 with one
// sentence naming the file and what to do, never a crash or a stack dump.
func TestDamagedOutbox(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command on a dozen damaged files")
	}
	const pass = "edicola di piazza 1954"
	profile, keys := sealedProfile(t, pass)
	ob, err := outbox.Open(outboxPath(profile), outbox.Options{Key: keys.Outbox})
	if err != nil {
		t.Fatal(err)
	}
	// Enough queued sales for pages of their own, and print jobs.
	for i := range 60 {
		op := outbox.Op{Kind: "certificate.request", IdempotencyKey: fmt.Sprintf("sale-%03d", i), PersonalData: true,
			Payload: fmt.Appendf(nil, `{"cf":"RSSMRA80A01F205X","types":["residenza"],"note":%q}`, strings.Repeat("x", 400))}
		if _, err := ob.Enqueue(context.Background(), op); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		// As the kiosk's spool keeps a printer job.
		j := printer.Job{ID: fmt.Sprintf("job-%d", i), Name: "certificato", Format: printer.FormatPDF, Printer: "dir:a4", Created: time.Now(), Data: bytes.Repeat([]byte("%PDF"), 500)}
		data, _ := json.Marshal(j)
		if err := ob.PutJob(outbox.Job{ID: j.ID, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	commands := [][]string{
		{"run", "--demo", "--profile", "PROFILE", "--secret-stdin"},
		{"check", "--profile", "PROFILE", "--secret-stdin"},
		{"check", "--profile", "PROFILE", "--without-key"},
		{"outbox", "list", "--profile", "PROFILE", "--secret-stdin"},
		{"printer", "jobs", "--profile", "PROFILE", "--secret-stdin"},
	}
	withProfile := func(args []string, dir string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = strings.ReplaceAll(a, "PROFILE", dir)
		}
		return out
	}
	copyProfile := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "kiosk")
		if err := os.CopyFS(dir, os.DirFS(profile)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// On the intact file the commands work (the app is not started: it
	// would open its window), so a refusal below is the damage's.
	for _, args := range commands[1:] {
		if code, _, stderr := runKioskProcess(t, pass+"\n", withProfile(args, copyProfile(t))...); code != 0 {
			t.Fatalf("intact: kiosk %s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
	}
	// A bit changed inside a sealed payload leaves the structure sound:
	// kiosk check finds it when it opens the payloads with the key, and
	// cannot without.
	t.Run("a bit changed in a sealed payload", func(t *testing.T) {
		dir := copyProfile(t)
		off, err := bolttest.ValueOffset(outboxPath(dir), "payloads")
		if err != nil {
			t.Fatal(err)
		}
		if err := bolttest.FlipBit(outboxPath(dir), off, 5); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runKioskProcess(t, pass+"\n", "check", "--profile", dir, "--secret-stdin")
		if code != 1 || !strings.Contains(stdout, "its sealed payload does not open") || strings.Contains(strings.TrimSpace(stderr), "\n") {
			t.Errorf("kiosk check: exit %d\n%s%s", code, stdout, stderr)
		}
		if code, stdout, stderr := runKioskProcess(t, "", "check", "--profile", dir, "--without-key"); code != 0 || !strings.Contains(stdout, "not opened") {
			t.Errorf("kiosk check --without-key: exit %d\n%s%s", code, stdout, stderr)
		}
	})
	damages, err := bolttest.Damages(outboxPath(profile))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range damages {
		t.Run(d.Name, func(t *testing.T) {
			dir := copyProfile(t)
			file := outboxPath(dir)
			if err := d.Apply(file); err != nil {
				t.Fatal(err)
			}
			for _, args := range commands {
				args := withProfile(args, dir)
				code, _, stderr := runKioskProcess(t, pass+"\n", args...)
				msg := strings.TrimSpace(stderr)
				if code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, file) ||
					strings.Contains(msg, "goroutine") || strings.Contains(msg, "panic") || !strings.Contains(msg, "kiosk check --profile") {
					t.Errorf("kiosk %s: exit %d, want 1 and one sentence naming %s and what to do:\n%.600s", strings.Join(args[:2], " "), code, file, stderr)
				}
			}
		})
	}
}
