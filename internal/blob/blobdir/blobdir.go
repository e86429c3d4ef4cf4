// Package blobdir keeps documents in a directory by their SHA-256: the
// default blob.Store of a hub. A document with sum abcdef… is the file
// ab/cdef… under the root, so no directory holds more than 1/256 of them
// (1.5 million certificates a year would otherwise crowd one directory).
//
// Several hub processes may share one root, also on a network mount: every
// write is a whole file renamed into place (readers see no document or all
// of it, never part of it), the content decides the name (two hubs putting
// the same document write the same bytes under the same name), and nothing
// is kept in a process's memory. Files are synced and then the directory
// holding the new name, so a document Put returned for survives a power
// cut.
package blobdir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/atomicfile"
	"github.com/sportello/sportello/internal/blob"
)

// Store is a blob.Store over one directory. Its zero value is not usable:
// call Open.
type Store struct {
	root string
}

var _ blob.Store = (*Store)(nil)

// Open uses dir as the root of a store, creating it (owner only: the
// documents are certificates about people) if missing.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("blobdir: no directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("blobdir: %w", err)
	}
	return &Store{root: dir}, nil
}

// Dir is the store's root.
func (s *Store) Dir() string { return s.root }

// path is where the document with sum sum lives: the first byte in
// hexadecimal names the directory, the rest the file.
func (s *Store) path(sum blob.Sum) (dir, file string) {
	h := sum.String()
	dir = filepath.Join(s.root, h[:2])
	return dir, filepath.Join(dir, h[2:])
}

// Put keeps data under its sum. A document already there intact is left
// as is (content addressing makes the second write a no-op); one found
// damaged is replaced whole.
func (s *Store) Put(ctx context.Context, data []byte) (blob.Sum, error) {
	sum := blob.Of(data)
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	dir, file := s.path(sum)
	if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, data) {
		// Written anew as far as the orphan sweep can tell (Written): the
		// document is about to be named by a record again.
		now := time.Now()
		_ = os.Chtimes(file, now, now)
		// Another hub may have renamed it in a moment ago and not yet
		// synced the directory: sync it here, as this Put promises.
		atomicfile.SyncDir(dir)
		return sum, nil
	}
	switch err := os.Mkdir(dir, 0o700); {
	case err == nil:
		// The new directory's name must survive a power cut too, or the
		// document synced inside it could be lost with it.
		atomicfile.SyncDir(s.root)
	case errors.Is(err, fs.ErrExist):
	default:
		return sum, fmt.Errorf("blobdir: %w", err)
	}
	if err := atomicfile.Write(file, data, 0o600); err != nil {
		return sum, fmt.Errorf("blobdir: keeping document %s: %w", sum, err)
	}
	return sum, nil
}

// Get reads the document with sum sum and checks it still hashes to it.
func (s *Store) Get(ctx context.Context, sum blob.Sum) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, file := s.path(sum)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("document %s: %w", sum, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blobdir: reading document %s: %w", sum, err)
	}
	if sha256.Sum256(data) != sum {
		return nil, fmt.Errorf("document %s (%s): %w", sum, file, blob.ErrCorrupt)
	}
	return data, nil
}

// Delete removes the document with sum sum; one already gone (perhaps
// deleted by another hub) is not an error.
func (s *Store) Delete(ctx context.Context, sum blob.Sum) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, file := s.path(sum)
	if err := os.Remove(file); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("blobdir: deleting document %s: %w", sum, err)
	}
	atomicfile.SyncDir(dir)
	return nil
}

var _ blob.Ager = (*Store)(nil)

// Written is when the document with sum sum was last put: its file's
// modification time (blob.Ager).
func (s *Store) Written(ctx context.Context, sum blob.Sum) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	_, file := s.path(sum)
	fi, err := os.Lstat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, fmt.Errorf("%w: %s", blob.ErrNotFound, sum)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("blobdir: %w", err)
	}
	return fi.ModTime(), nil
}

// Walk calls fn with the sum of every document kept. Names that are not a
// document's (temporary files of writes under way, anything else put in
// the directory) are skipped; a directory another hub empties meanwhile
// is not an error.
func (s *Store) Walk(ctx context.Context, fn func(blob.Sum) (bool, error)) error {
	shards, err := os.ReadDir(s.root)
	if err != nil {
		return fmt.Errorf("blobdir: %w", err)
	}
	for _, sh := range shards {
		if !sh.IsDir() || !isHex(sh.Name(), 2) {
			continue
		}
		names, err := readNames(filepath.Join(s.root, sh.Name()))
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !isHex(n, 2*len(blob.Sum{})-2) {
				continue
			}
			sum, err := blob.ParseSum(sh.Name() + n)
			if err != nil {
				continue
			}
			more, err := fn(sum)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
	}
	return nil
}

// RemoveStale deletes the temporary files of writes that started before
// before and never finished (a hub that crashed between creating and
// renaming one), and returns how many it removed. Writes under way in
// other hubs are younger than any sensible bound (a document is written
// in milliseconds), so a bound of an hour leaves them alone. The caller
// gives the time from its clock.
func (s *Store) RemoveStale(ctx context.Context, before time.Time) (int, error) {
	shards, err := os.ReadDir(s.root)
	if err != nil {
		return 0, fmt.Errorf("blobdir: %w", err)
	}
	removed := 0
	for _, sh := range shards {
		if !sh.IsDir() || !isHex(sh.Name(), 2) {
			continue
		}
		dir := filepath.Join(s.root, sh.Name())
		names, err := readNames(dir)
		if err != nil {
			return removed, err
		}
		for _, n := range names {
			if err := ctx.Err(); err != nil {
				return removed, err
			}
			if !strings.HasPrefix(n, ".") || !strings.Contains(n, ".tmp-") {
				continue
			}
			p := filepath.Join(dir, n)
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(before) {
				continue
			}
			if err := os.Remove(p); err == nil {
				removed++
			} else if !errors.Is(err, fs.ErrNotExist) {
				return removed, fmt.Errorf("blobdir: %w", err)
			}
		}
	}
	return removed, nil
}

// readNames lists dir's entries; a directory gone meanwhile has none.
func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("blobdir: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("blobdir: %w", err)
	}
	return names, nil
}

// isHex reports whether name is n lowercase hexadecimal digits, the only
// names documents and their directories have.
func isHex(name string, n int) bool {
	if len(name) != n {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
