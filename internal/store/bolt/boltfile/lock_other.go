//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package boltfile

import (
	"os"
	"time"
)

// lock does nothing where bbolt locks with something a second lock on the
// same file would conflict with (LockFileEx on Windows, fcntl elsewhere):
// the check then runs before bbolt's own lock. Only the kiosk runs there,
// and its outbox has one process.
func lock(*os.File, bool, time.Duration) error { return nil }
