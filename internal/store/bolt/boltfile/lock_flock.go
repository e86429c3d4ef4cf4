//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package boltfile

import (
	"errors"
	"os"
	"syscall"
	"time"

	bberrors "go.etcd.io/bbolt/errors"
)

// lock takes the lock bbolt takes on these systems (flock), on f itself:
// bbolt then locks the same open file again, which flock grants at once,
// so the file stays locked from the check to the close.
func lock(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	start := time.Now()
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if timeout > 0 && time.Since(start) > timeout {
			return bberrors.ErrTimeout
		}
		time.Sleep(50 * time.Millisecond)
	}
}
