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

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// issueSome seeds a registry in data and issues certificates at the office
// until n are issued; it returns their ids and PDFs.
func issueSome(t *testing.T, data string, n int) (ids, pdfs []string) {
	t.Helper()
	if r := hub(t, "seed", "--data", data, "--persons", "120"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	issued := regexp.MustCompile(`^issued (\w+), protocol`)
	list := hub(t, "person", "list", "--data", data, "--limit", "40")
	for _, line := range strings.Split(strings.TrimSpace(list.stdout), "\n") {
		out := filepath.Join(t.TempDir(), "c.pdf")
		r := hub(t, "certificate", "issue", "--data", data, "--cf", strings.Fields(line)[0], "--type", "residenza", "--out", out)
		if m := issued.FindStringSubmatch(r.stdout); r.code == 0 && m != nil {
			ids, pdfs = append(ids, m[1]), append(pdfs, out)
		}
		if len(ids) == n {
			return ids, pdfs
		}
	}
	t.Fatalf("only %d certificates issued", len(ids))
	return nil, nil
}

// TestBackupRestore is issue 18's "backup → restore → verify": a serving
// hub with issued certificates is backed up through its control socket,
// keys sealed under a passphrase; the backup is restored into a new
// directory, where hub audit verify passes and a certificate issued before
// the backup verifies with hub verify and on /v/{id}. A backup that fails
// its checksum, is of another city, would overwrite data or comes with the
// wrong passphrase is refused with exit 1 and leaves nothing behind.
func TestBackupRestore(t *testing.T) {
	data := t.TempDir()
	ids, pdfs := issueSome(t, data, 2)
	h := startServe(t, "--data", data, "--addr", "127.0.0.1:0", "--insecure-plain-http")
	work := t.TempDir()
	pass := filepath.Join(work, "pass")
	if err := os.WriteFile(pass, []byte("una frase lunga abbastanza\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(work, "hub.backup")
	r := hub(t, "backup", "--data", data, "--to", file, "--with-keys", "--passphrase-file", pass)
	if r.code != 0 || !regexp.MustCompile(`^backup of F205 written to .*hub\.backup: \d+ members \(2 PDFs\), SHA-256 [0-9a-f]{64}\n$`).MatchString(r.stdout) {
		t.Fatalf("backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(h.logs.String(), `msg="staff command" args="[backup`) {
		t.Errorf("the backup did not run inside the serving hub:\n%s", h.logs.String())
	}
	if r := hub(t, "backup", "--data", data, "--to", file); r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("backup over an existing file: exit %d\n%s", r.code, r.stderr)
	}
	if r := hub(t, "backup", "--data", data, "--to", file+"2", "--with-keys"); r.code != 2 {
		t.Errorf("--with-keys without a passphrase: exit %d\n%s", r.code, r.stderr)
	}
	h.stop(t)

	restored := filepath.Join(t.TempDir(), "restored")
	refusals := []struct {
		name, from, city, pass, want string
	}{
		{"another city", file, "H501", pass, "the backup comes from another city: it is the backup of F205"},
		{"wrong passphrase", file, "F205", writeTemp(t, "not the right passphrase\n"), "do not open with this passphrase"},
		{"damaged", damaged(t, file), "F205", pass, "the backup fails its checksum"},
		{"not a backup", writeTemp(t, "hello"), "F205", pass, "the backup fails its checksum"},
		{"over data", file, "F205", pass, "never overwrites data"},
	}
	for _, c := range refusals {
		to := restored
		if c.name == "over data" {
			to = data
		}
		r := hub(t, "restore", "--from", c.from, "--data", to, "--city", c.city, "--passphrase-file", c.pass)
		if r.code != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d\n%s%s", c.name, r.code, r.stdout, r.stderr)
		}
		if entries, _ := os.ReadDir(filepath.Dir(restored)); len(entries) != 0 {
			t.Fatalf("%s: the refused restore left %v behind", c.name, entries[0].Name())
		}
	}

	r = hub(t, "restore", "--from", file, "--data", restored, "--city", "f205", "--passphrase-file", pass)
	if r.code != 0 || !strings.Contains(r.stdout, "restored the backup of F205") {
		t.Fatalf("restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "audit", "verify", "--data", restored); r.code != 0 || !verifyHead.MatchString(r.stdout) || strings.HasPrefix(r.stdout, "0 entries") {
		t.Fatalf("audit verify on the restored data: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, pdf := range pdfs {
		if r := hub(t, "verify", pdf, "--data", restored); r.code != 0 {
			t.Errorf("hub verify on the restored data: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	h = startServe(t, "--data", restored, "--addr", "127.0.0.1:0", "--insecure-plain-http")
	for _, id := range ids {
		req, _ := http.NewRequest("GET", h.URL+"/v/"+id, nil)
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil || resp.StatusCode != http.StatusOK || v["status"] != "valid" {
			t.Errorf("/v/%s on the restored hub: %d %s", id, resp.StatusCode, b)
		}
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// damaged is a copy of the file with one byte in its middle changed.
func damaged(t *testing.T, file string) string {
	t.Helper()
	b := readFile(t, file)
	b[len(b)/2] ^= 0x40
	return writeTemp(t, string(b))
}

// TestBackupRestorePostgres is TestBackupRestore on PostgreSQL: pg_dump of
// the city's database with the data directory's keys, anchors and PDFs,
// restored with pg_restore into an empty database of the private server;
// a database that holds tables is refused and left as it was.
func TestBackupRestorePostgres(t *testing.T) {
	conn := pg.Database(t)
	data := t.TempDir()
	if r := hub(t, "seed", "--db", conn, "--data", data, "--persons", "120"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	issued := regexp.MustCompile(`^issued (\w+), protocol`)
	var id, pdf string
	list := hub(t, "person", "list", "--db", conn, "--limit", "40")
	for _, line := range strings.Split(strings.TrimSpace(list.stdout), "\n") {
		out := filepath.Join(t.TempDir(), "c.pdf")
		r := hub(t, "certificate", "issue", "--db", conn, "--data", data, "--cf", strings.Fields(line)[0], "--type", "residenza", "--out", out)
		if m := issued.FindStringSubmatch(r.stdout); r.code == 0 && m != nil {
			id, pdf = m[1], out
			break
		}
	}
	if id == "" {
		t.Fatal("no certificate issued")
	}
	pass := writeTemp(t, "una frase lunga abbastanza\n")
	file := filepath.Join(t.TempDir(), "hub.backup")
	if r := hub(t, "backup", "--db", conn, "--data", data, "--to", file, "--with-keys", "--passphrase-file", pass); r.code != 0 || !strings.Contains(r.stdout, "(1 PDFs)") {
		t.Fatalf("backup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	parent := t.TempDir()
	restored := filepath.Join(parent, "restored")
	// Into the database it came from: refused, nothing written.
	if r := hub(t, "restore", "--from", file, "--db", conn, "--data", restored, "--city", "F205", "--passphrase-file", pass); r.code != 1 || !strings.Contains(r.stderr, "already holds tables") {
		t.Fatalf("restore into a database with tables: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Fatalf("the refused restore left %s behind", entries[0].Name())
	}
	if r := hub(t, "restore", "--from", file, "--data", restored, "--city", "F205", "--passphrase-file", pass); r.code != 2 || !strings.Contains(r.stderr, "--db") {
		t.Errorf("a PostgreSQL backup without --db: exit %d\n%s", r.code, r.stderr)
	}
	empty := pg.Database(t)
	r := hub(t, "restore", "--from", file, "--db", empty, "--data", restored, "--city", "F205", "--passphrase-file", pass)
	if r.code != 0 || !strings.Contains(r.stdout, "restored into the database") {
		t.Fatalf("restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "audit", "verify", "--db", empty, "--data", restored); r.code != 0 || !verifyHead.MatchString(r.stdout) || strings.HasPrefix(r.stdout, "0 entries") {
		t.Fatalf("audit verify on the restored database: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "verify", pdf, "--data", restored); r.code != 0 {
		t.Errorf("hub verify on the restored keys: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	h := startServe(t, "--db", empty, "--data", restored, "--addr", "127.0.0.1:0", "--insecure-plain-http")
	req, _ := http.NewRequest("GET", h.URL+"/v/"+id, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"status":"valid"`) {
		t.Errorf("/v/%s on the restored hub: %d %s", id, resp.StatusCode, b)
	}
}

// hub serve refuses a data directory a newer release wrote (a later file
// format), in one sentence naming both releases, and changes nothing.
func TestServeRefusesNewerData(t *testing.T) {
	data := t.TempDir()
	if r := hub(t, "seed", "--data", data, "--persons", "10"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	db, err := bbolt.Open(registryPath(data), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if err := meta.Put([]byte("version"), []byte(strconv.Itoa(registrybolt.FormatVersion+1))); err != nil {
			return err
		}
		return meta.Put([]byte("release"), []byte("9.0.0"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := readFile(t, registryPath(data))
	r := hub(t, "serve", "--data", data, "--addr", "127.0.0.1:0", "--insecure-plain-http")
	if r.code != 1 || !strings.Contains(r.stderr, "written by Sportello 9.0.0; Sportello dev reads format") || !strings.Contains(r.stderr, "refuses to start") {
		t.Fatalf("serve on newer data: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if string(readFile(t, registryPath(data))) != string(before) {
		t.Error("the refused start changed the file")
	}
}
