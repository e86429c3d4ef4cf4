package anchorlog

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/audit"
)

func testKey(seed byte) (ed25519.PrivateKey, map[string]ed25519.PublicKey) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return key, map[string]ed25519.PublicKey{"kid": key.Public().(ed25519.PublicKey)}
}

// lineBuffer is an anchor sink that writes lines as File does, without a
// file and its fsyncs.
type lineBuffer struct{ bytes.Buffer }

func (b *lineBuffer) Anchor(s audit.SignedHead) error {
	b.WriteString(s.String() + "\n")
	return nil
}

func head(seq uint64) audit.Head {
	return audit.Head{Seq: seq, Hash: audit.Hash{byte(seq), byte(seq >> 8)}}
}

func TestFileAppendsSignedLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	key, keys := testKey(1)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := audit.NewAnchorer(key, "kid", time.Now, audit.Head{}, f)
	for seq := uint64(1); seq <= 3; seq++ {
		if err := a.Anchor(head(seq)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("anchor file %v %v, want mode 0600", st.Mode(), err)
	}
	lines, err := Read(path)
	if err != nil || len(lines) != 3 {
		t.Fatalf("%d lines, %v", len(lines), err)
	}
	c := audit.CheckAnchors(lines, keys)
	if len(c.Anchors()) != 3 || c.Last.Head != head(3) || c.LastWhere != "line 3 of "+path || c.ForgedN+c.UnreadableN != 0 {
		t.Errorf("%+v", c)
	}

	// Reopened, it appends after what is there; never truncates.
	f, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	last, ok, err := LastSigned(path, keys)
	if err != nil || !ok || last.Head != head(3) {
		t.Fatalf("last %v %v %v", last, ok, err)
	}
	a = audit.NewAnchorer(key, "kid", time.Now, last.Head, f)
	if err := a.Anchor(head(4)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if lines, _ := Read(path); len(lines) != 4 || lines[3].Signed.Head != head(4) {
		t.Errorf("after reopening: %+v", lines)
	}
	if err := f.Anchor(audit.SignedHead{}); err == nil {
		t.Error("a closed file took an anchor")
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestTornLastLine is a crash in the middle of writing a line: the line is
// unreadable, the next anchor starts a line of its own.
func TestTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	key, keys := testKey(1)
	f, _ := Open(path)
	a := audit.NewAnchorer(key, "kid", time.Now, audit.Head{}, f)
	a.Anchor(head(1))
	a.Anchor(head(2))
	f.Close()
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, b[:len(b)-40], 0o600); err != nil {
		t.Fatal(err)
	}
	lines, err := Read(path)
	if err != nil || len(lines) != 2 || !lines[1].Torn || lines[1].Err == nil || lines[0].Torn {
		t.Fatalf("torn file read as %+v %v", lines, err)
	}
	if last, ok, _ := LastSigned(path, keys); !ok || last.Head != head(1) {
		t.Errorf("last signed of a torn file: %v %v", last, ok)
	}
	f, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a = audit.NewAnchorer(key, "kid", time.Now, head(1), f)
	if err := a.Anchor(head(3)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	lines, _ = Read(path)
	if len(lines) != 3 || lines[1].Err == nil || lines[2].Err != nil || lines[2].Signed.Head != head(3) || lines[2].Torn {
		t.Errorf("after the torn line: %+v", lines)
	}
}

// TestLastSignedSkipsForgeries reads back past lines another key signed and
// garbage, across the chunks it reads the file in.
func TestLastSignedSkipsForgeries(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	key, keys := testKey(1)
	other, _ := testKey(2)
	var b lineBuffer
	a := audit.NewAnchorer(key, "kid", time.Now, audit.Head{}, &b)
	const n = 2000 // about 400 KB: several chunks
	for seq := uint64(1); seq <= n; seq++ {
		if err := a.Anchor(head(seq)); err != nil {
			t.Fatal(err)
		}
	}
	forger := audit.NewAnchorer(other, "kid", time.Now, audit.Head{}, &b)
	for seq := uint64(n + 1); seq < n+tailChunk/150; seq++ {
		forger.Anchor(head(seq))
	}
	fmt.Fprintln(&b, "not an anchor")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	last, ok, err := LastSigned(path, keys)
	if err != nil || !ok || last.Head != head(n) {
		t.Errorf("last signed %v %v %v, want entry %d", last.Head, ok, err, n)
	}
	if _, ok, err := LastSigned(path, map[string]ed25519.PublicKey{}); ok || err != nil {
		t.Errorf("with no key: %v %v", ok, err)
	}
	if _, ok, err := LastSigned(filepath.Join(t.TempDir(), "none"), keys); ok || err != nil {
		t.Errorf("no file: %v %v", ok, err)
	}
}

// TestJournal sends anchors to a private listener speaking as journald's
// socket does, and reports a journal that went away once, without failing
// the anchor: the file is the anchor the hub depends on.
func TestJournal(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "journal.sock")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	var reported []error
	j := &Journal{Socket: sock, OnError: func(err error) { reported = append(reported, err) }}
	defer j.Close()
	key, keys := testKey(1)
	a := audit.NewAnchorer(key, "kid", time.Now, audit.Head{}, j)
	if err := a.Anchor(head(1)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _, err := ln.ReadFromUnix(buf)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(string(buf[:n]), "\n"), "\n") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	s, err := audit.ParseSignedHead(fields["SPORTELLO_AUDIT_ANCHOR"])
	if err != nil || s.Check(keys) != nil || s.Head != head(1) {
		t.Errorf("journal entry %q: %v", buf[:n], err)
	}
	if fields["SYSLOG_IDENTIFIER"] != "sportello-hub" || fields["MESSAGE"] != "audit anchor "+fields["SPORTELLO_AUDIT_ANCHOR"] {
		t.Errorf("journal fields %v", fields)
	}

	ln.Close()
	os.Remove(sock)
	for seq := uint64(2); seq <= 3; seq++ {
		if err := a.Anchor(head(seq)); err != nil {
			t.Errorf("a journal that is down failed the anchor: %v", err)
		}
	}
	if len(reported) != 1 || !strings.Contains(reported[0].Error(), "entry 2 could not be copied to the journal") {
		t.Errorf("reported %v, want the first failure once", reported)
	}
	if a.Last().Seq != 3 {
		t.Errorf("last %v", a.Last())
	}
	// Back again: the next anchor reaches it on a new connection.
	ln, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a.Anchor(head(4))
	if n, _, err = ln.ReadFromUnix(buf); err != nil || !strings.Contains(string(buf[:n]), "SPORTELLO_AUDIT_ANCHOR=4 ") {
		t.Errorf("after the journal came back: %q %v", buf[:n], err)
	}
}

// Signed.Before picks, among the hub's own anchors signed before the
// cutoff, the one with the highest entry number not beyond max; a forged
// line with a better number and an unreadable line are passed over, and no
// file means no anchor.
func TestSignedBefore(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	key, keys := testKey(1)
	other, _ := testKey(2)
	start := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	clock := start
	var b lineBuffer
	a := audit.NewAnchorer(key, "kid", func() time.Time { return clock }, audit.Head{}, &b)
	for seq := uint64(1); seq <= 10; seq++ {
		clock = start.Add(time.Duration(seq) * time.Hour)
		a.Anchor(head(seq))
	}
	clock = start.Add(5*time.Hour + 30*time.Minute)
	audit.NewAnchorer(other, "kid", func() time.Time { return clock }, audit.Head{Seq: 6}, &b).Anchor(head(7))
	fmt.Fprintln(&b, "not an anchor")
	os.WriteFile(path, b.Bytes(), 0o600)
	s := Signed{Path: path, Keys: keys}
	for _, tt := range []struct {
		max    uint64
		cutoff time.Time
		want   uint64
	}{
		{10, start.Add(24 * time.Hour), 10},
		{8, start.Add(24 * time.Hour), 8},
		{10, start.Add(6*time.Hour + time.Minute), 6}, // the forged 7, signed at 5:30, is not the hub's
		{10, start.Add(time.Hour), 0},                 // entry 1 was anchored at 1:00, not before
	} {
		got, ok, err := s.Before(tt.max, tt.cutoff)
		if err != nil || ok != (tt.want > 0) || (ok && got.Head != head(tt.want)) {
			t.Errorf("Before(%d, %s) = %v %v %v, want entry %d", tt.max, tt.cutoff.Format(time.Kitchen), got.Head, ok, err, tt.want)
		}
	}
	if _, ok, err := (Signed{Path: filepath.Join(t.TempDir(), "none"), Keys: keys}).Before(10, start.Add(24*time.Hour)); ok || err != nil {
		t.Errorf("no file: %v %v", ok, err)
	}
}
