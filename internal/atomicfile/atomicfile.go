// Package atomicfile writes a file so that a reader, or the program after a
// crash, sees either the old content or the whole new content, never part
// of it: keys, profiles, spooled print jobs, exported registers.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data and mode perm: it writes a temporary file
// in the same directory, syncs it, renames it over path and syncs the
// directory, so the rename itself survives a power cut.
func Write(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// PrivateDir creates dir and any missing parents readable by the owner
// only (0700), and tightens dir itself to 0700 when it already exists with
// a looser mode: it is where keys and personal data are kept.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm() != 0o700 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}
