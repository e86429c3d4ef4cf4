// Package disktest gives tests a real file system that runs out of space: a
// small tmpfs the test mounts itself (as root) and fills, so a store on it
// fails the way a hub's disk does when it is full (ENOSPC from write(2)),
// and then gets its space back.
package disktest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of size (in the mount option's syntax, "8m") on a
// new temporary directory and unmounts it when the test ends, after the
// cleanups the test registers later (which close the files on it). It skips
// the test when the machine does not let it mount (not root, or in a
// container without the capability): such tests have a fault-injected
// companion that runs everywhere.
func Tmpfs(tb testing.TB, size string) string {
	tb.Helper()
	dir := tb.TempDir()
	if os.Geteuid() != 0 {
		tb.Skip("mounting a tmpfs to fill needs root; the fault-injected tests cover the same logic")
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		tb.Skipf("cannot mount a tmpfs here (%v: %s); the fault-injected tests cover the same logic", err, strings.TrimSpace(string(out)))
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// Lazily, so a file a failed test left open does not keep the
			// mount, and the next run, busy.
			exec.Command("umount", "-l", dir).Run()
			tb.Errorf("unmounting the test's tmpfs %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// Fill writes a file in dir until the file system has no room left, and
// returns the function that deletes it and so frees the space again.
func Fill(tb testing.TB, dir string) (free func()) {
	tb.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// Big chunks first, then pages, so that what is left is less than a
	// page: tmpfs hands out whole pages.
	for _, size := range []int{1 << 20, 4096, 512} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					tb.Fatalf("filling %s: %v", dir, err)
				}
				break
			}
		}
	}
	return func() {
		if err := os.Remove(path); err != nil {
			tb.Fatal(err)
		}
	}
}
