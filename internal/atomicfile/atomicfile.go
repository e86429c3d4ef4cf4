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
	if err := writeClose(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	SyncDir(dir)
	return nil
}

// Create writes data to path, which must not exist yet, with mode perm and
// syncs it. It is for the files of a new directory that is itself renamed
// into place once whole (hub convention export): the rename, not each
// file, is what makes the set appear at once.
func Create(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	return writeClose(f, data)
}

// SyncDir syncs dir so that the names created or renamed in it survive a
// power cut. It is best effort: not every file system can sync a
// directory, and the data itself is already synced.
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// writeClose writes data to f, syncs and closes it; f is closed whatever
// fails.
func writeClose(f *os.File, data []byte) error {
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
