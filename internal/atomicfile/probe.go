package atomicfile

import (
	"crypto/rand"
	"os"
)

// Probe reports whether dir can take size more bytes, durably: it writes
// them to a temporary file there, syncs it and removes it. The bytes are
// random, so a file system that compresses cannot store them in less room
// than they take. A hub whose disk filled up runs it to tell when space is
// back.
func Probe(dir string, size int) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	b := make([]byte, size)
	rand.Read(b)
	return writeClose(f, b)
}
