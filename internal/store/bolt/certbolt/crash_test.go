package certbolt

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/auditbolt"
)

// The crash test runs this test binary again as a hub process (the child),
// selected by these environment variables, and kills it with SIGKILL.
const (
	envCrashDB     = "CERTBOLT_CRASH_DB"
	envCrashHeld   = "CERTBOLT_CRASH_HELD"   // issuances left holding their numbers
	envCrashCommit = "CERTBOLT_CRASH_COMMIT" // "1": one issuance registered above them
	envCrashNow    = "CERTBOLT_CRASH_NOW"    // the child's clock, RFC 3339
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envCrashDB); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// crashChild opens the file, starts the held issuances (their renderer
// never returns), registers one more if asked, says "ready" and waits to
// be killed.
func crashChild(path string) int {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	now, err := time.Parse(time.RFC3339, os.Getenv(envCrashNow))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := New(db, Options{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	held, _ := strconv.Atoi(os.Getenv(envCrashHeld))
	for i := range held {
		reserved := make(chan error, 1)
		go func() {
			_, _, err := s.Issue(context.Background(), now, Idempotency{Key: fmt.Sprint("held", i), RequestHash: "h"}, func(protocol.Number, time.Time) (*Built, error) {
				reserved <- nil
				time.Sleep(time.Hour) // rendering when the process dies
				return nil, nil
			})
			reserved <- err
		}()
		if err := <-reserved; err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if os.Getenv(envCrashCommit) == "1" {
		build := (&issuer{seq: 5000}).build(subject(), request(certificate.Residenza), "op-1")
		if _, _, err := s.Issue(context.Background(), now, Idempotency{}, build); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println("ready")
	time.Sleep(time.Hour) // until killed
	return 1
}

// killedHub runs a child hub on path and SIGKILLs it once it is ready.
func killedHub(t *testing.T, path string, now time.Time, held int, commit bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashDB+"="+path, envCrashNow+"="+now.Format(time.RFC3339), envCrashHeld+"="+strconv.Itoa(held), envCrashCommit+"="+map[bool]string{true: "1"}[commit])
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child hub did not get ready: %q", line)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
}

// TestKilledHubRecoveryIsAudited kills a hub process while issuances hold
// protocol numbers. Numbers below a registered one are annulled at the
// next start, each with its entry in the audit log; numbers above the last
// registered one are simply handed out again, annulling nothing.
func TestKilledHubRecoveryIsAudited(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	restart := at.Add(time.Hour)
	reopen := func(restart time.Time) (*Store, *bbolt.DB) {
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(db, Options{Now: func() time.Time { return restart }})
		if err != nil {
			db.Close()
			t.Fatal(err)
		}
		return s, db
	}

	// Three numbers held, the fourth registered: 1–3 are lost.
	killedHub(t, path, at, 3, true)
	s, db := reopen(restart)
	var got []string
	for _, e := range s.Recovered() {
		got = append(got, e.Number.String())
	}
	if fmt.Sprint(got) != "[2026/0000001 2026/0000002 2026/0000003]" {
		t.Errorf("recovered %v", got)
	}
	aud, err := auditbolt.New(db, func() time.Time { return restart })
	if err != nil {
		t.Fatal(err)
	}
	es, err := aud.Search(audit.Query{Actor: "system:protocollo"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	for _, e := range es {
		logged = append(logged, e.Request)
		if !e.Time.Equal(restart) || e.Channel != "recovery" {
			t.Errorf("audit entry %+v", e)
		}
	}
	if fmt.Sprint(logged) != fmt.Sprint(got) {
		t.Errorf("the audit log names %v, the recovery annulled %v", logged, got)
	}
	if _, err := aud.Verify(); err != nil {
		t.Error(err)
	}
	db.Close()

	// Two numbers held and nothing registered above them: nothing is lost.
	killedHub(t, path, restart, 2, false)
	s, db = reopen(restart.Add(time.Hour))
	defer db.Close()
	if rs := s.Recovered(); len(rs) != 0 {
		t.Errorf("recovered %v with no number registered above the held ones", rs)
	}
	rec, _, err := s.Issue(context.Background(), restart.Add(time.Hour), Idempotency{}, (&issuer{seq: 7000}).build(subject(), request(certificate.Residenza), ""))
	if err != nil || rec.Protocol != "2026/0000005" {
		t.Errorf("after the second kill: %s %v", rec.Protocol, err)
	}
	aud, err = auditbolt.New(db, func() time.Time { return restart })
	if err != nil {
		t.Fatal(err)
	}
	if es, err := aud.Search(audit.Query{Actor: "system:protocollo"}, 0); len(es) != 3 || err != nil {
		t.Errorf("%d audit entries of recoveries, want the 3 of the first: %v", len(es), err)
	}
}
