package boltfile_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/store/bolt/boltfile"
	"github.com/sportello/sportello/internal/store/bolt/boltfile/bolttest"
)

// FuzzOpen opens damaged files: whatever the bytes, Open either refuses
// them as damage (or as an error) or returns a file that every bucket and
// key can be read from without a panic or a fault. A file that passes the
// check and then trips bbolt is a gap in the check, and fails.
//
// The seed corpus is a small intact file and each damage of the table.
// Run with: go test -fuzz FuzzOpen ./internal/store/bolt/boltfile
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	intact := small(f, dir)
	rep, err := boltfile.Check(intact, 0)
	if err != nil {
		f.Fatal(err)
	}
	// The fuzzer works on the pages in use only: what bbolt allocated past
	// them is never read, and a short input mutates and minimizes faster.
	inUse := int(rep.Pages) * rep.PageSize
	add := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), inUse)])
	}
	add(intact)
	damages, err := bolttest.Damages(intact)
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range damages {
		path := filepath.Join(dir, "seed.db")
		copyFile(f, intact, path)
		if err := d.Apply(path); err != nil {
			f.Fatal(err)
		}
		add(path)
	}
	path := filepath.Join(dir, "fuzz.db") // one worker runs one input at a time
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		// Read-only: a writable open may commit (bbolt rewrites a
		// missing freelist), which costs an fsync per input and checks
		// nothing more.
		db, err := boltfile.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return
		}
		err = boltfile.Guard(path, func() error {
			return db.View(func(tx *bbolt.Tx) error { readAll(tx); return nil })
		})
		db.Close()
		if err != nil {
			t.Fatalf("the file passed the check, then reading it failed: %v", err)
		}
	})
}

// small is a bbolt file of a few pages with every kind of page, small
// enough for the fuzzer to mutate.
func small(t testing.TB, dir string) string {
	path := filepath.Join(dir, "small.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{PageSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("b"))
		for i := range 60 {
			b.Put([]byte{byte(i), 'k'}, []byte("some value"))
		}
		in, _ := tx.CreateBucket([]byte("inline"))
		return in.Put([]byte("k"), []byte("v"))
	})
	if err == nil {
		err = db.Update(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("b")).Delete([]byte{0, 'k'}) })
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRandomFlips is FuzzOpen's property over single changed bits at
// random places of the sample file (seeded, so a failure repeats): Open
// refuses the file, or every key reads back without a panic or a fault.
func TestRandomFlips(t *testing.T) {
	dir := t.TempDir()
	intact := sample(t, dir)
	orig, err := os.ReadFile(intact)
	if err != nil {
		t.Fatal(err)
	}
	_, pages, _ := boltfile.Layout(intact)
	hwm := int64(len(pages)) * int64(os.Getpagesize())
	n := 120
	if testing.Short() {
		n = 50
	}
	rng := rand.New(rand.NewPCG(12, 34))
	path := filepath.Join(dir, "flipped.db")
	refused := 0
	for range n {
		data := bytes.Clone(orig)
		// Most of the file past the pages in use is never read: flip
		// where the data is.
		off := rng.Int64N(hwm)
		data[off] ^= 1 << rng.IntN(8)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := boltfile.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			if !errors.Is(err, boltfile.ErrDamaged) {
				t.Fatalf("a bit changed at %d: %v, want damage", off, err)
			}
			refused++
			continue
		}
		err = boltfile.Guard(path, func() error {
			return db.View(func(tx *bbolt.Tx) error { readAll(tx); return nil })
		})
		db.Close()
		if err != nil {
			t.Fatalf("a bit changed at byte %d passed the check, then reading failed: %v", off, err)
		}
	}
	t.Logf("%d of %d files with a changed bit refused, the rest read back whole", refused, n)
}
