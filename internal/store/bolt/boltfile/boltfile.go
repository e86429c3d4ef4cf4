// Package boltfile opens bbolt files so that a damaged one is refused with
// a sentence instead of crashing the program.
//
// bbolt trusts its file: it maps it into memory and follows page ids
// without bounds checks, so a file cut short kills the process with SIGBUS
// and a changed bit in a page makes it panic deep inside a read. Open
// therefore checks the whole file before bbolt maps it, reading it with
// plain reads under the file lock: both meta pages (magic, version, page
// size, checksum), the file's size against the pages in use, the freelist,
// and every page of every bucket (page ids in range, kinds, element
// bounds, key order, no page used twice, every page in use or free). What
// it finds comes back as a *DamageError naming the file and the problem.
//
// Guard covers what a check before opening cannot: a file damaged while it
// is open, or damage the check does not see. It turns a panic raised inside
// bbolt, or a memory fault, into a *DamageError as well.
package boltfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// ErrDamaged is matched (errors.Is) by every *DamageError.
var ErrDamaged = errors.New("damaged bbolt file")

// DamageError is a bbolt file found damaged: Problem says what is wrong
// and where, in words.
type DamageError struct {
	Path    string
	Problem string
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("the file %s is damaged: %s", e.Path, e.Problem)
}

func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

// AsDamage returns the *DamageError in err's chain, if there is one.
func AsDamage(err error) (*DamageError, bool) {
	var d *DamageError
	ok := errors.As(err, &d)
	return d, ok
}

// Open opens the bbolt file at path as bbolt.Open does, after checking the
// whole file (see the package comment) when it exists: a damaged file is
// refused with a *DamageError and left as it was. A file that does not
// exist yet is created by bbolt as usual; one that exists but is empty is
// damage, not a new file, because bbolt never leaves a file empty.
//
// The check runs while the file is locked as bbolt locks it (shared when
// read-only, else exclusive), so a process writing the file at the same
// time cannot make it look damaged; opts.Timeout bounds the wait as it
// does for bbolt, with bbolt's own timeout error.
func Open(path string, mode os.FileMode, opts *bbolt.Options) (*bbolt.DB, error) {
	o := bbolt.Options{}
	if opts != nil {
		o = *opts
	}
	open := o.OpenFile
	if open == nil {
		open = os.OpenFile
	}
	o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		_, statErr := os.Stat(name)
		f, err := open(name, flag, perm)
		if err != nil {
			return nil, err
		}
		if errors.Is(statErr, fs.ErrNotExist) {
			return f, nil // a new file: bbolt writes its first pages
		}
		if err := lock(f, !o.ReadOnly, o.Timeout); err != nil {
			f.Close()
			return nil, err
		}
		if err := checkOpen(f, path); err != nil {
			f.Close() // releases the lock
			return nil, err
		}
		return f, nil
	}
	var db *bbolt.DB
	err := Guard(path, func() (err error) {
		db, err = bbolt.Open(path, mode, &o)
		return err
	})
	return db, err
}

func checkOpen(f *os.File, path string) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	rep := inspect(f, info.Size(), false)
	if !rep.OK() {
		return &DamageError{Path: path, Problem: rep.Summary()}
	}
	return nil
}

// Check checks the whole file at path, as Open does, and reports all it
// finds (up to a limit). It takes a shared lock on the file, waiting up to
// timeout (0: for ever) while a writer holds it. The error is for a file
// that cannot be checked at all (missing, locked, unreadable), never for
// damage: that is in the Report.
func Check(path string, timeout time.Duration) (*Report, error) {
	return check(path, timeout, false)
}

// Layout is Check with the list of the file's pages and what each holds.
func Layout(path string) (*Report, []PageInfo, error) {
	rep, err := check(path, 0, true)
	if err != nil {
		return nil, nil, err
	}
	return rep, rep.layout, nil
}

func check(path string, timeout time.Duration, layout bool) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := lock(f, false, timeout); err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a bbolt file", path)
	}
	return inspect(f, info.Size(), layout), nil
}

// Guard runs fn, typically a transaction on the file at path, so that
// damage met on the way returns as a *DamageError naming path: a panic
// raised inside bbolt's code, or a memory fault (SIGBUS, SIGSEGV) anywhere
// in fn, which debug.SetPanicOnFault makes a panic for the calling
// goroutine while fn runs. Any other panic goes on as it was.
//
// It covers the calling goroutine only: bbolt work fn hands to another
// goroutine needs a Guard of its own.
func Guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			d := fromPanic(path, r)
			if d == nil {
				panic(r)
			}
			err = d
		}
	}()
	return fn()
}

// fromPanic turns the value r of a panic into a *DamageError when the panic
// is bbolt's or a memory fault, and returns nil otherwise. It must be
// called by the deferred function that recovered r, while the panicking
// frames are still on the stack: that is how a panic from bbolt is told
// from the program's own.
func fromPanic(path string, r any) *DamageError {
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		return &DamageError{Path: path, Problem: fmt.Sprintf("reading it hit an unmapped address (%#x): it was cut short or changed while in use", f.Addr())}
	}
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		fr, more := frames.Next()
		if strings.HasPrefix(fr.Function, "go.etcd.io/bbolt.") || strings.HasPrefix(fr.Function, "go.etcd.io/bbolt/") {
			msg := strings.ReplaceAll(fmt.Sprint(r), "\n", " ")
			return &DamageError{Path: path, Problem: "the storage engine stopped on an inconsistency (" + msg + ")"}
		}
		if !more {
			return nil
		}
	}
}
