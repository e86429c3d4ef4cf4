package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/store/bolt/auditbolt"
)

// clockAhead is the SPORTELLO_CLOCK_OFFSET that moves the hub's clock by
// months and days from now.
func clockAhead(months, days int) string {
	now := time.Now()
	return now.AddDate(0, months, days).Sub(now).String()
}

// verifyHead is the start of hub audit verify's first line on success.
var verifyHead = regexp.MustCompile(`^(\d+) entries, chain intact, head [0-9a-f]{64}\n`)

// TestRetention is issue 13's "done when" for retention: certificates
// issued at the office; a dry run changes nothing in the file; the clock
// moved 31 days ahead, the daily job of hub serve deletes the PDFs and
// /v/{id} still says valid; moved 37 months ahead, hub retention run
// purges the records and the old audit entries, /v/{id} answers "purged"
// with nothing about the person, the protocol register is whole, and hub
// audit verify passes; a kept entry changed after the purge, or a purge of
// entries younger than 36 months made with the store's own code, fails it.
func TestRetention(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "120"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	// Three certificates at the office, on residents residenza accepts.
	issued := regexp.MustCompile(`^issued (\w+), protocol (\d{4}/\d{7}),`)
	type cert struct{ id, protocol, cf, day string }
	var certs []cert
	list := hub(t, "person", "list", "--data", data, "--limit", "40")
	for _, line := range strings.Split(strings.TrimSpace(list.stdout), "\n") {
		cf := strings.Fields(line)[0]
		r := hub(t, "certificate", "issue", "--data", data, "--cf", cf, "--type", "residenza", "--out", filepath.Join(t.TempDir(), "c.pdf"))
		if m := issued.FindStringSubmatch(r.stdout); r.code == 0 && m != nil {
			certs = append(certs, cert{m[1], m[2], cf, protocol.DayOf(time.Now()).String()})
		}
		if len(certs) == 3 {
			break
		}
	}
	if len(certs) != 3 {
		t.Fatalf("only %d certificates issued", len(certs))
	}
	r := hub(t, "audit", "verify", "--data", data)
	m := verifyHead.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("verify before: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	entriesBefore, _ := strconv.Atoi(m[1])

	dbFile, anchors := registryPath(data), filepath.Join(data, "audit-anchors.log")
	// A dry run, 37 months ahead, says what would go and changes not a
	// byte of the file or of the anchors.
	t.Setenv(clockOffsetEnv, clockAhead(37, 0))
	db0, an0 := readFile(t, dbFile), readFile(t, anchors)
	r = hub(t, "retention", "run", "--data", data, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "PDFs deleted: 3 would go") || !strings.Contains(r.stdout, "records purged: 3 would go") ||
		!strings.Contains(r.stdout, "nothing is changed") {
		t.Fatalf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if string(readFile(t, dbFile)) != string(db0) || string(readFile(t, anchors)) != string(an0) {
		t.Fatal("the dry run changed the file or the anchors")
	}

	// 31 days ahead: hub serve's daily job deletes the PDFs at start.
	t.Setenv(clockOffsetEnv, clockAhead(0, 31))
	h := startServe(t, "--data", data, "--addr", "127.0.0.1:0", "--insecure-plain-http")
	waitLog(t, h, "pdfs_deleted=3")
	verifyPage := func(id string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", h.URL+"/v/"+id, nil)
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("/v/%s: %s", id, b)
		}
		return resp.StatusCode, v
	}
	for _, c := range certs {
		if code, v := verifyPage(c.id); code != http.StatusOK || v["status"] != "valid" || v["protocol"] != c.protocol {
			t.Errorf("/v/%s after the PDFs went: %d %v", c.id, code, v)
		}
	}
	// Through the running hub: nothing more to delete, the records stay.
	r = hub(t, "retention", "run", "--data", data, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "PDFs deleted: 0 would go") || !strings.Contains(r.stdout, "records purged: 0 would go") {
		t.Errorf("dry run through the hub: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	h.stop(t)
	// Deleting PDFs reads no one's data: logged, not in the audit log.
	if r := hub(t, "audit", "search", "--data", data, "--actor", "system:retention"); r.code != 0 || r.stdout != "" {
		t.Errorf("an audit entry for deleting PDFs: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// 37 months ahead: records and the old audit entries go.
	t.Setenv(clockOffsetEnv, clockAhead(37, 0))
	r = hub(t, "retention", "run", "--data", data)
	pruned := regexp.MustCompile(`audit entries pruned: (\d+) went \(the chain starts after entry (\d+),`).FindStringSubmatch(r.stdout)
	if r.code != 0 || !strings.Contains(r.stdout, "records purged: 3 went") || pruned == nil || !strings.Contains(r.stdout, "oldest record kept: none") {
		t.Fatalf("retention run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n, _ := strconv.Atoi(pruned[1]); n < entriesBefore {
		t.Errorf("%d audit entries pruned, want at least the %d of the issuances", n, entriesBefore)
	}
	if r := hub(t, "audit", "search", "--data", data, "--actor", "system:retention"); r.code != 0 || !strings.Contains(r.stdout, "retention run: 0 PDF, 3 registrazioni di rilascio, "+pruned[1]+" voci") {
		t.Errorf("the run's audit entry: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	os.Unsetenv(clockOffsetEnv) // verification needs no clock: the anchors carry the hub's
	r = hub(t, "audit", "verify", "--data", data)
	if r.code != 0 || verifyHead.FindStringSubmatch(r.stdout) == nil || !strings.Contains(r.stdout, "entries 1–"+pruned[2]+" were removed by retention") {
		t.Fatalf("verify after the purge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range certs {
		if r := hub(t, "audit", "search", "--data", data, "--cf", c.cf); r.code != 0 || r.stdout != "" {
			t.Errorf("audit entries about %s after the purge: %s%s", c.cf, r.stdout, r.stderr)
		}
	}
	t.Setenv(clockOffsetEnv, clockAhead(37, 0))
	h = startServe(t, "--data", data, "--addr", "127.0.0.1:0", "--insecure-plain-http")
	for _, c := range certs {
		code, v := verifyPage(c.id)
		if code != http.StatusGone || v["status"] != "purged" || v["issued"] == "" || v["subject"] != nil || v["protocol"] != nil || v["facts"] != nil {
			t.Errorf("/v/%s after the purge: %d %v", c.id, code, v)
		}
	}
	h.stop(t)
	os.Unsetenv(clockOffsetEnv)
	// The protocol register keeps every issuance.
	for _, c := range certs {
		if r := hub(t, "protocol", "export", "--data", data, "--day", c.day); r.code != 0 || !strings.Contains(r.stdout, c.protocol+",") || !strings.Contains(r.stdout, ","+c.id) {
			t.Errorf("protocol register lacks %s: exit %d\n%s%s", c.protocol, r.code, r.stdout, r.stderr)
		}
	}

	purgedDB, purgedAnchors := readFile(t, dbFile), readFile(t, anchors)
	restore := func() {
		os.WriteFile(dbFile, purgedDB, 0o600)
		os.WriteFile(anchors, purgedAnchors, 0o600)
	}
	t.Run("kept entry changed", func(t *testing.T) {
		restore()
		editAudit(t, dbFile, func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte("audit"))
			k, v := b.Cursor().First()
			e, h, err := audit.Decode(v)
			if err != nil {
				return err
			}
			e.Purpose = "cambiato"
			return b.Put(k, append(e.AppendCanonical(nil), h[:]...))
		})
		if r := hub(t, "audit", "verify", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "does not match its hash") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("young entries pruned with the store's own code", func(t *testing.T) {
		restore()
		editAudit(t, dbFile, func(tx *bbolt.Tx) error {
			head, err := auditbolt.Head(tx)
			if err != nil {
				return err
			}
			_, _, err = auditbolt.Prune(tx, head, 1000)
			return err
		})
		if r := hub(t, "audit", "verify", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "less than the 36 months") {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("checkpoint not anchored", func(t *testing.T) {
		restore()
		// The anchor file without the line of the checkpoint's point.
		p := audit.Pruned{}
		db, err := bbolt.Open(dbFile, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		db.View(func(tx *bbolt.Tx) (err error) { p, err = auditbolt.Pruned(tx); return })
		db.Close()
		var kept []string
		for _, l := range readLines(t, anchors) {
			if s, err := audit.ParseSignedHead(l); err != nil || s.Seq != p.At.Seq {
				kept = append(kept, l)
			}
		}
		os.WriteFile(anchors, []byte(strings.Join(kept, "\n")+"\n"), 0o600)
		if r := hub(t, "audit", "verify", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "no signed anchor names entry "+strconv.FormatUint(p.At.Seq, 10)) {
			t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
}

// waitLog waits for s in the hub's log.
func waitLog(t *testing.T, h *runningHub, s string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(h.logs.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the hub never logged %q:\n%s", s, h.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRetentionSettings: hub city set takes the retention periods, refuses
// records kept under the law's 36 months with one sentence and exit 1, and
// hub city show says what is in force; hub retention run then keeps
// records for that period.
func TestRetentionSettings(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "20"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	r := hub(t, "city", "set", "--data", data, "--retention-months", "24")
	if r.code != 1 || !strings.Contains(r.stderr, "between 36 and 120 months") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
		t.Errorf("24 months: exit %d\n%s", r.code, r.stderr)
	}
	r = hub(t, "city", "set", "--data", data, "--retention-months", "48", "--retention-pdf-days", "7")
	if r.code != 0 || !strings.Contains(r.stdout, "records kept: 36 months → 48 months") || !strings.Contains(r.stdout, "PDF re-download window: 30 days → 7 days") {
		t.Fatalf("48 months: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = hub(t, "city", "show", "--data", data)
	if !regexp.MustCompile(`records kept\s+48 months\n`).MatchString(r.stdout) || !regexp.MustCompile(`PDF re-download window\s+7 days\n`).MatchString(r.stdout) {
		t.Errorf("city show:\n%s", r.stdout)
	}
	r = hub(t, "retention", "run", "--data", data, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "policy: records and audit entries kept 48 months, PDFs 7 days") {
		t.Errorf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
