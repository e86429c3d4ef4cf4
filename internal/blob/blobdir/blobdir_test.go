package blobdir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/blob/blobtest"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t, t.TempDir()) })
}

func TestShared(t *testing.T) {
	blobtest.RunShared(t, func(t *testing.T) (blob.Store, blob.Store) {
		dir := t.TempDir()
		return open(t, dir), open(t, dir)
	})
}

func TestLayout(t *testing.T) {
	s := open(t, t.TempDir())
	doc := []byte("%PDF-1.7 layout")
	sum, err := s.Put(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	h := sum.String()
	p := filepath.Join(s.Dir(), h[:2], h[2:])
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("document not at %s: %v", p, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("document mode %v, want 0600 (certificates are personal data)", fi.Mode().Perm())
	}
	left, _ := filepath.Glob(filepath.Join(s.Dir(), h[:2], ".*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left after Put: %v", left)
	}
}

func TestCorrupt(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	for name, damage := range map[string]func([]byte) []byte{
		"flipped":   func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"truncated": func(b []byte) []byte { return b[:len(b)-1] },
		"empty":     func(b []byte) []byte { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			doc := []byte("%PDF-1.7 damaged " + name)
			sum, err := s.Put(ctx, doc)
			if err != nil {
				t.Fatal(err)
			}
			h := sum.String()
			p := filepath.Join(s.Dir(), h[:2], h[2:])
			if err := os.WriteFile(p, damage(bytes.Clone(doc)), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, sum); !errors.Is(err, blob.ErrCorrupt) {
				t.Fatalf("Get of a damaged document: %v, want ErrCorrupt", err)
			}
			// Putting the document again repairs it.
			if _, err := s.Put(ctx, doc); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, sum); err != nil || !bytes.Equal(got, doc) {
				t.Fatalf("Get after putting the damaged document again: %v", err)
			}
		})
	}
}

// TestStrangers: names that are not documents (a write under way, a file
// an administrator left) are not walked and not mistaken for documents.
func TestStrangers(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	sum, err := s.Put(ctx, []byte("%PDF-1.7 real"))
	if err != nil {
		t.Fatal(err)
	}
	h := sum.String()
	for _, p := range []string{
		filepath.Join(h[:2], "."+h[2:]+".tmp-123"),
		filepath.Join(h[:2], h[2:10]),
		filepath.Join(h[:2], h[2:]+".bak"),
		filepath.Join("zz", h[2:]),
		"README",
	} {
		full := filepath.Join(s.Dir(), p)
		os.MkdirAll(filepath.Dir(full), 0o700)
		if err := os.WriteFile(full, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var got []blob.Sum
	if err := s.Walk(ctx, func(s blob.Sum) (bool, error) { got = append(got, s); return true, nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != sum {
		t.Fatalf("Walk = %v, want only %s", got, sum)
	}
}

func TestRemoveStale(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	sum, err := s.Put(ctx, []byte("%PDF-1.7 kept"))
	if err != nil {
		t.Fatal(err)
	}
	h := sum.String()
	dir := filepath.Join(s.Dir(), h[:2])
	old := filepath.Join(dir, "."+h[2:]+".tmp-1")
	young := filepath.Join(dir, "."+h[2:]+".tmp-2")
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for p, mt := range map[string]time.Time{old: now.Add(-2 * time.Hour), young: now.Add(-time.Minute)} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	// The document itself is old too: it must stay.
	os.Chtimes(filepath.Join(dir, h[2:]), now.Add(-48*time.Hour), now.Add(-48*time.Hour))
	n, err := s.RemoveStale(ctx, now.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RemoveStale = %d, %v; want 1 removed", n, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatalf("stale temporary file still there: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Fatalf("a write under way was removed: %v", err)
	}
	if _, err := s.Get(ctx, sum); err != nil {
		t.Fatalf("the document after RemoveStale: %v", err)
	}
}

func TestOpenRefusesNoDir(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o600)
	if _, err := Open(f); err == nil {
		t.Fatal("Open of a regular file succeeded")
	}
}

// TestTwoProcesses runs two processes writing and deleting documents in
// one directory at once, as two hubs on a shared mount do.
func TestTwoProcesses(t *testing.T) {
	if os.Getenv("BLOBDIR_HELPER_DIR") != "" {
		t.Skip("in a helper process")
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for p := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "BLOBDIR_HELPER_DIR="+dir, "BLOBDIR_HELPER_ID="+strconv.Itoa(p))
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outs[i])
		}
	}
	s := open(t, dir)
	ctx := context.Background()
	want := map[blob.Sum]bool{}
	for i := range helperDocs {
		want[blob.Of(helperDoc("shared", i))] = true
		want[blob.Of(helperDoc("own0", i))] = true
	}
	got := map[blob.Sum]bool{}
	if err := s.Walk(ctx, func(sum blob.Sum) (bool, error) {
		if _, err := s.Get(ctx, sum); err != nil {
			return false, err
		}
		got[sum] = true
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d documents after two processes, want %d", len(got), len(want))
	}
	for sum := range want {
		if !got[sum] {
			t.Fatalf("document %s missing", sum)
		}
	}
}

const helperDocs = 200

func helperDoc(kind string, i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%%PDF %s %d;", kind, i)), 200)
}

// TestHelperProcess is one of TestTwoProcesses's processes: it puts the
// shared documents and its own; process 1 deletes its own again.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("BLOBDIR_HELPER_DIR")
	if dir == "" {
		t.Skip("run by TestTwoProcesses")
	}
	id := os.Getenv("BLOBDIR_HELPER_ID")
	s := open(t, dir)
	ctx := context.Background()
	for i := range helperDocs {
		for _, doc := range [][]byte{helperDoc("shared", i), helperDoc("own"+id, i)} {
			if _, err := s.Put(ctx, doc); err != nil {
				t.Fatal(err)
			}
		}
		if id == "1" {
			if err := s.Delete(ctx, blob.Of(helperDoc("own1", i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, blob.Of(helperDoc("shared", i))); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkPut keeps certificate-sized documents (30 KB), each synced.
func BenchmarkPut(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	doc := bytes.Repeat([]byte("%PDF-1.7 benchmark "), 30_000/19)
	ctx := context.Background()
	b.SetBytes(int64(len(doc)))
	for i := 0; b.Loop(); i++ {
		copy(doc, strconv.Itoa(i))
		if _, err := s.Put(ctx, doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutParallel keeps documents from many goroutines at once, as
// concurrent issuances do: the file system may share their syncs.
func BenchmarkPutParallel(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		doc := bytes.Repeat([]byte("%PDF-1.7 benchmark "), 30_000/19)
		for pb.Next() {
			copy(doc, strconv.FormatInt(n.Add(1), 10))
			if _, err := s.Put(ctx, doc); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
