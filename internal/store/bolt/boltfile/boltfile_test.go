package boltfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/store/bolt/boltfile"
	"github.com/sportello/sportello/internal/store/bolt/boltfile/bolttest"
)

// sample makes a bbolt file with every kind of page: a bucket big enough
// for branch pages, nested buckets, an inline bucket, a value spanning
// several pages, and free pages from deleted keys.
func sample(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "sample.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		big, _ := tx.CreateBucket([]byte("big"))
		for i := range 3000 {
			if err := big.Put(fmt.Appendf(nil, "key-%05d", i), bytes.Repeat([]byte{byte(i)}, 40)); err != nil {
				return err
			}
		}
		outer, _ := tx.CreateBucket([]byte("outer"))
		for i := range 3 {
			inner, err := outer.CreateBucket(fmt.Appendf(nil, "inner-%d", i))
			if err != nil {
				return err
			}
			for j := range 200 * i {
				inner.Put(fmt.Appendf(nil, "%04d", j), []byte("value"))
			}
		}
		small, _ := tx.CreateBucket([]byte("small"))
		small.Put([]byte("a"), []byte("b"))
		huge, _ := tx.CreateBucket([]byte("huge"))
		return huge.Put([]byte("blob"), bytes.Repeat([]byte("x"), 3*os.Getpagesize()))
	})
	if err == nil {
		err = db.Update(func(tx *bbolt.Tx) error {
			big := tx.Bucket([]byte("big"))
			for i := 0; i < 3000; i += 3 {
				big.Delete(fmt.Appendf(nil, "key-%05d", i))
			}
			return nil
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every key of every bucket, as far down as they go.
func readAll(tx *bbolt.Tx) int {
	n := 0
	var walk func(b *bbolt.Bucket)
	walk = func(b *bbolt.Bucket) {
		b.ForEach(func(k, v []byte) error {
			n++
			if v == nil {
				walk(b.Bucket(k))
			}
			return nil
		})
	}
	tx.ForEach(func(name []byte, b *bbolt.Bucket) error { walk(b); return nil })
	return n
}

func TestIntactFile(t *testing.T) {
	path := sample(t, t.TempDir())
	rep, pages, err := boltfile.Layout(path)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("an intact file has problems: %v", rep.Problems)
	}
	kinds := map[string]int{}
	for _, p := range pages {
		kinds[p.Kind]++
	}
	if kinds["branch"] == 0 || kinds["leaf"] == 0 || kinds["free"] == 0 || kinds["meta"] != 2 || kinds["freelist"] == 0 {
		t.Errorf("the sample lacks a kind of page: %v", kinds)
	}
	// inner-0 and small are inline; 4 top-level buckets and 3 inner ones.
	if rep.Buckets != 7 || rep.Keys != 2000+200+400+1+1 {
		t.Errorf("checked %d buckets and %d keys, want 7 and 2602", rep.Buckets, rep.Keys)
	}
	db, err := boltfile.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

// TestDamagedFilesRefused: every damage of the table is found by Check
// and refused by Open, read-only or not, with a sentence naming the file,
// and Open leaves the file as it was.
func TestDamagedFilesRefused(t *testing.T) {
	dir := t.TempDir()
	intact := sample(t, dir)
	damages, err := bolttest.Damages(intact)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range damages {
		t.Run(d.Name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("damaged-%d.db", i))
			copyFile(t, intact, path)
			if err := d.Apply(path); err != nil {
				t.Fatal(err)
			}
			rep, err := boltfile.Check(path, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatal("Check found nothing wrong")
			}
			t.Logf("%s", rep.Summary())
			before, _ := os.ReadFile(path)
			for _, ro := range []bool{true, false} {
				db, err := boltfile.Open(path, 0o600, &bbolt.Options{ReadOnly: ro, Timeout: time.Second})
				if err == nil {
					db.Close()
					t.Fatalf("Open (read-only %v) accepted the damaged file", ro)
				}
				d, ok := boltfile.AsDamage(err)
				if !ok || !errors.Is(err, boltfile.ErrDamaged) || d.Path != path || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
					t.Errorf("Open (read-only %v) = %v, want one sentence of damage naming the file", ro, err)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("Open changed the file it refused")
			}
		})
	}
}

// TestDataFlipNotStructural: a bit changed inside a value leaves the
// structure intact: Check does not claim otherwise (what the value means
// is for the program's own checks).
func TestDataFlipNotStructural(t *testing.T) {
	path := sample(t, t.TempDir())
	off, err := bolttest.ValueOffset(path, "big")
	if err != nil {
		t.Fatal(err)
	}
	if err := bolttest.FlipBit(path, off, 0); err != nil {
		t.Fatal(err)
	}
	if rep, err := boltfile.Check(path, time.Second); err != nil || !rep.OK() {
		t.Fatalf("Check = %v, %v", rep.Problems, err)
	}
}

// TestNoFreelist: a file whose freelist bbolt does not store (the
// NoFreelistSync option) is not damaged for it.
func TestNoFreelist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nofreelist.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bbolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("b"))
		for i := range 500 {
			b.Put(fmt.Appendf(nil, "%04d", i), bytes.Repeat([]byte("v"), 100))
		}
		return nil
	})
	db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte("b")) })
	db.Close()
	if rep, err := boltfile.Check(path, time.Second); err != nil || !rep.OK() {
		t.Fatalf("Check = %v, %v", rep.Problems, err)
	}
}

func TestNewFileAndEmptyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	db, err := boltfile.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("a new file: %v", err)
	}
	db.Close()
	// An existing empty file is what is left of a file cut to nothing,
	// not a new one: bbolt writes its first pages before anything else.
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	if _, err := boltfile.Open(empty, 0o600, &bbolt.Options{Timeout: time.Second}); !errors.Is(err, boltfile.ErrDamaged) {
		t.Fatalf("an empty file: %v", err)
	}
	if info, _ := os.Stat(empty); info.Size() != 0 {
		t.Error("Open wrote to the empty file it refused")
	}
}

func TestLockedFile(t *testing.T) {
	path := sample(t, t.TempDir())
	db, err := boltfile.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := boltfile.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 100 * time.Millisecond}); err == nil || errors.Is(err, boltfile.ErrDamaged) {
		t.Errorf("opening a file another opener holds = %v, want the lock's timeout", err)
	}
	if _, err := boltfile.Check(path, 100*time.Millisecond); err == nil {
		t.Error("Check read a file a writer holds")
	}
}

// TestGuardPanic: damage that appears while the file is open makes bbolt
// panic inside a transaction; Guard returns it as damage.
func TestGuardPanic(t *testing.T) {
	path := sample(t, t.TempDir())
	_, pages, _ := boltfile.Layout(path)
	db, err := boltfile.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var leaf uint64
	for _, p := range pages {
		if p.Kind == "leaf" && p.Bucket == "big" {
			leaf = p.ID
		}
	}
	// The page's own id in its header: bbolt asserts it on every read.
	if err := bolttest.FlipBit(path, int64(leaf)*int64(os.Getpagesize())+2, 0); err != nil {
		t.Fatal(err)
	}
	wantGuardedDamage(t, db, path)
}

// TestGuardFault: a file cut short while it is mapped makes a read fault
// (SIGBUS); without Guard that kills the process.
func TestGuardFault(t *testing.T) {
	path := sample(t, t.TempDir())
	db, err := boltfile.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := os.Truncate(path, 2*int64(os.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	wantGuardedDamage(t, db, path)
}

// wantGuardedDamage reads all of db, the file at path, under Guard, which
// must return the damage met on the way as damage of path.
func wantGuardedDamage(t *testing.T, db *bbolt.DB, path string) {
	t.Helper()
	err := boltfile.Guard(path, func() error {
		return db.View(func(tx *bbolt.Tx) error { readAll(tx); return nil })
	})
	if d, ok := boltfile.AsDamage(err); !ok || d.Path != path {
		t.Fatalf("Guard = %v, want damage of %s", err, path)
	}
	t.Log(err)
}

// TestGuardOtherPanics: a panic of the program's own is not damage.
func TestGuardOtherPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "a bug" {
			t.Errorf("recovered %v, want the program's own panic", r)
		}
	}()
	boltfile.Guard("x.db", func() error { panic("a bug") })
	t.Error("Guard swallowed the panic")
}
