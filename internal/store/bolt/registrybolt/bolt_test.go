package registrybolt

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/storetest"
	"github.com/sportello/sportello/internal/store/bolt/boltfile"
)

type factory struct{}

func (factory) Open(t *testing.T) registry.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// testOptions map enough up front that bbolt never has to wait for open
// readers to grow its map, so the snapshot test sees an update commit while
// its View is still open.
var testOptions = Options{InitialMmapSize: 16 << 20}

func (factory) Reopen(t *testing.T, s registry.Store) registry.Store {
	t.Helper()
	path := s.(*Store).Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

func TestStore(t *testing.T) { storetest.Run(t, factory{}) }

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestOpenLocked(t *testing.T) {
	s, path := newStore(t)
	defer s.Close()
	for _, ro := range []bool{false, true} {
		start := time.Now()
		_, err := Open(path, Options{ReadOnly: ro, Timeout: 100 * time.Millisecond})
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open (read-only %v) = %v, want ErrLocked", ro, err)
		}
		if want := "is in use by another process (is hub serve running?)"; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %q should name %s and say %q", err, path, want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Open waited %v for a 100 ms timeout", d)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the locked file is gone after a refused Open: %v", err)
	}
}

func TestOpenNotARegistry(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a database\n", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(dir, "tiny.db")
	if err := os.WriteFile(tiny, []byte("PK\x03\x04"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A healthy bbolt file that belongs to something else (a kiosk outbox).
	foreign := filepath.Join(dir, "outbox.db")
	db, err := bbolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("outbox")); return err }); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, path := range []string{garbage, tiny, foreign} {
		for _, ro := range []bool{false, true} {
			before, _ := os.ReadFile(path)
			s, err := Open(path, Options{ReadOnly: ro})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s, read-only %v) succeeded", filepath.Base(path), ro)
			}
			if !errors.Is(err, ErrNotRegistry) || !strings.Contains(err.Error(), "not a Sportello registry") {
				t.Errorf("Open(%s, read-only %v) = %v, want ErrNotRegistry saying so", filepath.Base(path), ro, err)
			}
			after, _ := os.ReadFile(path)
			if string(before) != string(after) {
				t.Errorf("Open(%s) changed the file it refused", filepath.Base(path))
			}
		}
	}
}

func TestOpenUnknownVersion(t *testing.T) {
	s, path := newStore(t)
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("Open(version 99) = %v, want ErrVersion naming the version", err)
	}
}

func TestOpenMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "registry.db")
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open in a missing directory = %v, want it to say the directory does not exist", err)
	}
	_, err = Open(filepath.Join(t.TempDir(), "registry.db"), Options{ReadOnly: true})
	if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "no registry file") {
		t.Errorf("read-only Open of a missing file = %v, want ErrNotFound saying there is no registry", err)
	}
}

// unwritableDir returns a directory this process cannot create files in.
// Root ignores permission bits, so it falls back to sysfs, which refuses
// file creation even to root.
func unwritableDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	probe := filepath.Join(dir, "probe")
	f, err := os.Create(probe)
	if err != nil {
		return dir
	}
	f.Close()
	os.Remove(probe)
	if f, err := os.Create("/sys/sportello-probe"); err == nil {
		f.Close()
		os.Remove("/sys/sportello-probe")
	} else if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return "/sys"
	}
	t.Skip("running with privileges that can write to any directory")
	return ""
}

func TestOpenUnwritableDir(t *testing.T) {
	dir := unwritableDir(t)
	path := filepath.Join(dir, "registry.db")
	_, err := Open(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "is not writable") || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open in %s = %v, want it to say the directory is not writable", dir, err)
	}
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		t.Errorf("error %v should wrap the permission error", err)
	}
}

func TestOpenFailureClassification(t *testing.T) {
	// Errors a test cannot provoke as root are classified from their cause.
	tests := []struct {
		name    string
		existed bool
		err     error
		want    string
	}{
		{"create denied", false, &fs.PathError{Op: "open", Path: "/x/registry.db", Err: syscall.EACCES}, "the directory /x is not writable"},
		{"read-only file system", false, &fs.PathError{Op: "open", Path: "/x/registry.db", Err: syscall.EROFS}, "the directory /x is not writable"},
		{"open denied", true, &fs.PathError{Op: "open", Path: "/x/registry.db", Err: syscall.EACCES}, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := openFailure("/x/registry.db", tt.existed, tt.err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("openFailure = %q, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, tt.err.(*fs.PathError).Err) {
				t.Errorf("openFailure = %v does not wrap its cause", err)
			}
		})
	}
}

func TestOpenFailedCreateLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	broken := errors.New("disk full")
	prepareHook = func() error { return broken }
	defer func() { prepareHook = nil }()
	path := filepath.Join(dir, "registry.db")
	if _, err := Open(path, Options{}); !errors.Is(err, broken) {
		t.Fatalf("Open = %v, want the set-up failure", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed Open of a new file left %d files behind", len(entries))
	}
	// An existing file is never removed, even empty (what is left of a
	// registry cut to nothing, refused as damaged).
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrNotRegistry) || !errors.Is(err, boltfile.ErrDamaged) {
		t.Fatalf("Open = %v, want the empty file refused as damaged", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Open removed a file it did not create: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	s, path := newStore(t)
	ctx := context.Background()
	p := &registry.Person{CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
		BirthDate: registry.Date{Year: 1950, Month: 2, Day: 17}, BirthPlace: "A558", CivilStatus: registry.Single}
	if err := s.Update(ctx, func(w registry.Writer) error { return w.PutPerson(p) }); err != nil {
		t.Fatal(err)
	}
	s.Close()

	r1, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	// Readers share the file.
	r2, err := Open(path, Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("second read-only Open = %v, want shared access", err)
	}
	defer r2.Close()
	err = r2.View(ctx, func(r registry.Reader) error {
		got, err := r.PersonByCF("rssmra50b17a558w")
		if err == nil && got.ID != p.ID {
			t.Errorf("PersonByCF = person %d, want %d", got.ID, p.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r1.Update(ctx, func(w registry.Writer) error { return nil })
	if !errors.Is(err, ErrReadOnly) {
		t.Errorf("Update on a read-only store = %v, want ErrReadOnly", err)
	}
	// A writer must wait for the readers.
	if _, err := Open(path, Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("read-write Open while readers hold the file = %v, want ErrLocked", err)
	}
}

func TestRollbackResetsAssignedIDs(t *testing.T) {
	s, _ := newStore(t)
	defer s.Close()
	fam := &registry.Family{Kind: registry.Famiglia}
	p := &registry.Person{CF: "RSSMRA50B17A558W", Surname: "Rossi", GivenNames: "Mario", Sex: registry.Male,
		BirthDate: registry.Date{Year: 1950, Month: 2, Day: 17}, BirthPlace: "A558", CivilStatus: registry.Single}
	err := s.Update(context.Background(), func(w registry.Writer) error {
		if err := w.PutFamily(fam); err != nil {
			return err
		}
		if err := w.PutPerson(p); err != nil {
			return err
		}
		return errors.New("give up")
	})
	if err == nil {
		t.Fatal("Update succeeded")
	}
	if p.ID != 0 || fam.ID != 0 {
		t.Errorf("IDs after rollback: person %d, family %d; want 0 so the records can be retried", p.ID, fam.ID)
	}
}

func TestClosed(t *testing.T) {
	s, _ := newStore(t)
	s.Close()
	err := s.View(context.Background(), func(registry.Reader) error { return nil })
	if !errors.Is(err, ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
}
