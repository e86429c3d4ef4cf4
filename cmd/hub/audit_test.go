package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/protocol"
)

// TestAuditLog reads two persons' records as staff would, then checks that
// the reads are on record, searchable, and that hub audit verify notices an
// altered or removed record in the file.
func TestAuditLog(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if r := hub(t, "seed", "--data", data, "--persons", "40", "--seed", "3"); r.code != 0 {
		t.Fatalf("seed: %s", r.stderr)
	}
	r := hub(t, "person", "list", "--data", data, "--limit", "2")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 {
		t.Fatalf("person list: %q %s", r.stdout, r.stderr)
	}
	cf1, _, _ := strings.Cut(lines[0], " ")
	cf2, _, _ := strings.Cut(lines[1], " ")
	for _, args := range [][]string{
		{"--cf", cf1, "--purpose", "pratica 123: verifica residenza"},
		{"--cf", strings.ToLower(cf2)},
		{"--cf", cf1, "--json", "--purpose", "richiesta della Procura"},
	} {
		if r := hub(t, append([]string{"person", "show", "--data", data}, args...)...); r.code != 0 {
			t.Fatalf("person show %v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	// A look-up that finds nobody read nobody's data: not recorded.
	if r := hub(t, "person", "show", "--data", data, "--cf", "RSSMRA50B17A558W"); r.code != 1 {
		t.Fatalf("show of an unknown person: exit %d", r.code)
	}

	r = hub(t, "audit", "verify", "--data", data)
	m := regexp.MustCompile(`^3 entries, chain intact, head ([0-9a-f]{64})\nlast anchored: entry 3 at \S+ \(line 3 of \S+/audit-anchors.log\)\n$`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	head := m[1]
	if r := hub(t, "audit", "anchors", "--data", data); !strings.Contains(r.stdout, "head 3:"+head) {
		t.Errorf("anchors: %s%s", r.stdout, r.stderr)
	}

	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	today := protocol.DayOf(time.Now()).String()
	tomorrow := protocol.DayOf(time.Now().Add(24 * time.Hour)).String()
	searches := []struct {
		args []string
		seqs []string
		text string // in every line
	}{
		{[]string{"--cf", cf1}, []string{"1", "3"}, cf1},
		{[]string{"--cf", cf2}, []string{"2"}, noPurpose},
		{[]string{"--actor", "staff:" + u.Username}, []string{"1", "2", "3"}, "\tcli\t"},
		{[]string{"--actor", "operator:" + u.Username}, nil, ""},
		{[]string{"--from", today, "--to", today}, []string{"1", "2", "3"}, "\tstaff:" + u.Username + "\t"},
		{[]string{"--from", tomorrow}, nil, ""},
		{[]string{"--cf", cf1, "--from", today, "--limit", "1"}, []string{"1"}, "pratica 123"},
	}
	for _, s := range searches {
		r := hub(t, append([]string{"audit", "search", "--data", data}, s.args...)...)
		if r.code != 0 {
			t.Errorf("search %v: exit %d: %s", s.args, r.code, r.stderr)
			continue
		}
		var seqs []string
		for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
			if line == "" {
				continue
			}
			seqs = append(seqs, strings.SplitN(line, "\t", 2)[0])
			if !strings.Contains(line, s.text) {
				t.Errorf("search %v: line lacks %q: %s", s.args, s.text, line)
			}
		}
		if strings.Join(seqs, ",") != strings.Join(s.seqs, ",") {
			t.Errorf("search %v: entries %v, want %v\n%s", s.args, seqs, s.seqs, r.stdout)
		}
	}
	if r := hub(t, "audit", "search", "--data", data, "--from", tomorrow, "--to", today); r.code != 2 {
		t.Errorf("a range ending before it starts: exit %d", r.code)
	}

	file := registryPath(data)
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tampers := []struct {
		name    string
		edit    func(log *bbolt.Bucket) error
		args    []string
		problem string
	}{
		{"purpose edited", func(log *bbolt.Bucket) error {
			k := binary.BigEndian.AppendUint64(nil, 1)
			v := bytes.Replace(log.Get(k), []byte("123"), []byte("124"), 1)
			return log.Put(k, v)
		}, nil, "audit entry 1 does not match its hash"},
		{"last entry removed", func(log *bbolt.Bucket) error {
			return log.Delete(binary.BigEndian.AppendUint64(nil, 3))
		}, nil, "audit entry 3 is missing"},
		{"published head disagrees", func(*bbolt.Bucket) error { return nil },
			[]string{"--anchor", "3:" + strings.Repeat("0", 64)}, "audit entry 3 has hash " + head},
	}
	for _, tt := range tampers {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(file, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := bbolt.Open(file, 0o600, &bbolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error { return tt.edit(tx.Bucket([]byte("audit"))) })
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			r := hub(t, append([]string{"audit", "verify", "--data", data}, tt.args...)...)
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, tt.problem) {
				t.Fatalf("exit %d, want 1 and %q\nstdout: %s\nstderr: %s", r.code, tt.problem, r.stdout, r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("error is not one line:\n%s", r.stderr)
			}
		})
	}
}

// TestAuditThroughRunningHub records and verifies while hub serve holds the
// file: the commands run inside the hub over the control socket.
func TestAuditThroughRunningHub(t *testing.T) {
	data := t.TempDir()
	startHub(t, data, "127.0.0.1:0")

	r := hub(t, "person", "list", "--data", data, "--limit", "1")
	cf, _, _ := strings.Cut(r.stdout, " ")
	if r.code != 0 || cf == "" {
		t.Fatalf("person list: %s", r.stderr)
	}
	if r := hub(t, "person", "show", "--data", data, "--cf", cf, "--purpose", "controllo"); r.code != 0 || !strings.Contains(r.stdout, cf) {
		t.Fatalf("person show through the hub: exit %d: %s", r.code, r.stderr)
	}
	if r := hub(t, "audit", "verify", "--data", data); r.code != 0 || !strings.HasPrefix(r.stdout, "1 entries, chain intact, head ") {
		t.Errorf("verify through the hub: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if r := hub(t, "audit", "search", "--data", data, "--cf", cf); r.code != 0 || !strings.HasPrefix(r.stdout, "1\t") || !strings.Contains(r.stdout, "\tcontrollo\t") {
		t.Errorf("search through the hub: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}
