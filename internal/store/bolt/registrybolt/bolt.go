// Package bolt is the registry Store kept in one bbolt file.
//
// Layout (all IDs are big-endian uint64 so keys sort in ID order):
//
//	persons   ID → person record
//	families  ID → family record
//	events    ID → event record
//	cf        Base(CF) ‖ ID → exact CF, empty when it is the base itself
//	nis       NIS → person ID (every CIE the person holds)
//	members   family ID ‖ person ID → ∅ (current and former members: Person.Memberships)
//	pevents   person ID ‖ event ID → ∅
//	places    code ‖ 0 ‖ YYYYMMDD of From → place (JSON)
//	meta      "version" → format version, "persons" → count
//
// A single cf index keyed by the omocodia base form serves both exact and
// omocode look-ups: the exact code is among the (almost always one) entries
// sharing its base, so a second exact-code index would only double the
// random-order B-tree writes that dominate a bulk load.
//
// ID sequences are the buckets' own bbolt sequences, so they roll back with
// the transaction like everything else.
package registrybolt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/store/bolt/boltfile"
)

// FormatVersion is the layout this package writes and reads.
const FormatVersion = 1

// ServeGCPercent is the GOGC a process serving look-ups from a store should
// run with. The registry lives in the mapped file, so such a process has a
// small live heap while every look-up allocates a little: at the default of
// 100 the collector runs every few thousand look-ups and its pauses make the
// latency tail (BenchmarkLookupByCF1400000 on 1.4M residents: p99 45 µs at
// 100, 27–31 µs at 400; issuance goes from 436 to 661 certificates a second),
// for a few tens of MB more.
const ServeGCPercent = 400

// Sentinel errors; the errors returned wrap them (test with errors.Is) and
// carry a full sentence for the user.
var (
	ErrLocked      = errors.New("registry file is in use by another process")
	ErrNotRegistry = errors.New("not a Sportello registry or damaged")
	ErrVersion     = errors.New("unknown registry format version")
	ErrReadOnly    = errors.New("registry opened read-only")
	ErrClosed      = errors.New("registry closed")
)

var (
	bucketPersons  = []byte("persons")
	bucketFamilies = []byte("families")
	bucketEvents   = []byte("events")
	bucketCF       = []byte("cf")
	bucketNIS      = []byte("nis")
	bucketMembers  = []byte("members")
	bucketPEvents  = []byte("pevents")
	bucketPlaces   = []byte("places")
	bucketMeta     = []byte("meta")

	allBuckets = [][]byte{bucketPersons, bucketFamilies, bucketEvents, bucketCF, bucketNIS,
		bucketMembers, bucketPEvents, bucketPlaces, bucketMeta}

	keyVersion = []byte("version")
	keyRelease = []byte("release") // the release that last opened the file to write
	keyPersons = []byte("persons")
)

// Options tune Open. The zero value is right for a hub.
type Options struct {
	// ReadOnly opens the file with a shared lock: several readers may hold
	// it, but not while a writer does.
	ReadOnly bool
	// Timeout is how long to wait for the file lock; default 1 s.
	Timeout time.Duration
	// NoSync skips fsync at each commit. Only for a bulk load that is
	// simply restarted after a crash (hub seed): a power cut can corrupt
	// the file.
	NoSync bool
	// InitialMmapSize maps this many bytes up front. bbolt must stop all
	// readers to grow its map, so a hub expecting a large registry, or a
	// bulk load, avoids those stalls by mapping the expected size at once.
	InitialMmapSize int
	// Release is the Sportello release opening the file (cmd/hub's
	// version), recorded in the file at each writable open so that a
	// release meeting a format it cannot read names the one that wrote it.
	Release string
}

// Store is a registry.Store on a bbolt file. It is safe for concurrent use:
// any number of View calls run alongside one Update at a time.
type Store struct {
	db       *bbolt.DB
	path     string
	readOnly bool
	release  string // Options.Release

	indexMaps [2]indexMaps // reused by each Update; bbolt runs one at a time
	// filters of the cf and nis buckets, built by the first Update large
	// enough to pay for them; only write transactions touch them.
	filters [2]*keyFilter
}

var _ registry.Store = (*Store)(nil)

// openError reads as one sentence and still matches both the package
// sentinel and the underlying cause with errors.Is.
type openError struct {
	msg      string
	sentinel error
	cause    error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() []error {
	errs := []error{}
	if e.sentinel != nil {
		errs = append(errs, e.sentinel)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// Open opens the registry file at path, creating it (and its buckets) when it
// does not exist and opts.ReadOnly is false. A file Open created is removed
// again if Open fails, so a failed first start leaves nothing behind.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	info, statErr := os.Stat(path)
	existed := statErr == nil
	switch {
	case existed && info.IsDir():
		return nil, &openError{msg: fmt.Sprintf("%s is a directory, not a registry file", path), sentinel: ErrNotRegistry}
	case !existed && !errors.Is(statErr, fs.ErrNotExist):
		return nil, &openError{msg: fmt.Sprintf("cannot reach the registry file %s: %v", path, unwrapPath(statErr)), cause: statErr}
	case !existed && opts.ReadOnly:
		return nil, &openError{msg: fmt.Sprintf("there is no registry file at %s", path), sentinel: registry.ErrNotFound, cause: statErr}
	}
	// An existing empty file is not new: boltfile refuses it as a file cut
	// to nothing, since bbolt writes its first pages before anything else.
	fresh := !existed

	db, err := boltfile.Open(path, 0o600, &bbolt.Options{
		Timeout:         timeout,
		ReadOnly:        opts.ReadOnly,
		NoSync:          opts.NoSync,
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: opts.InitialMmapSize,
	})
	if err != nil {
		if !existed {
			_ = os.Remove(path)
		}
		return nil, openFailure(path, existed, err)
	}
	s := &Store{db: db, path: path, readOnly: opts.ReadOnly, release: opts.Release}
	err = s.prepare(fresh)
	if err == nil && !opts.ReadOnly {
		err = ensureNames(db)
	}
	if err != nil {
		_ = db.Close()
		if !existed {
			_ = os.Remove(path)
		}
		return nil, err
	}
	return s, nil
}

func openFailure(path string, existed bool, err error) error {
	dir := filepath.Dir(path)
	if d, ok := boltfile.AsDamage(err); ok {
		// The damage names the file already; a garbage file and a
		// registry with a changed bit look alike from here.
		return &openError{msg: fmt.Sprintf("the file %s is not a Sportello registry or is damaged: %s", path, d.Problem), sentinel: ErrNotRegistry, cause: err}
	}
	switch {
	case errors.Is(err, bberrors.ErrTimeout):
		return &openError{msg: fmt.Sprintf("the registry file %s is in use by another process (is hub serve running?)", path), sentinel: ErrLocked, cause: err}
	case !existed && errors.Is(err, fs.ErrNotExist):
		return &openError{msg: fmt.Sprintf("cannot create the registry file %s: the directory %s does not exist", path, dir), cause: err}
	case !existed && isNotWritable(err):
		return &openError{msg: fmt.Sprintf("cannot create the registry file %s: the directory %s is not writable", path, dir), cause: err}
	case isNotWritable(err):
		return &openError{msg: fmt.Sprintf("cannot open the registry file %s: permission denied", path), cause: err}
	case errors.Is(err, bberrors.ErrInvalid), errors.Is(err, bberrors.ErrChecksum),
		errors.Is(err, bberrors.ErrVersionMismatch), existed:
		// bbolt reports a foreign or truncated file in several ways, some
		// of them unexported; anything failing on an existing file past the
		// open and lock steps is the file's fault.
		return &openError{msg: fmt.Sprintf("the file %s is not a Sportello registry or is damaged (%v)", path, unwrapPath(err)), sentinel: ErrNotRegistry, cause: err}
	}
	return &openError{msg: fmt.Sprintf("cannot open the registry file %s: %v", path, unwrapPath(err)), cause: err}
}

func isNotWritable(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}

// unwrapPath drops the path an *fs.PathError repeats, since our sentence
// already names the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// prepareHook lets tests make the set-up of a new file fail.
var prepareHook func() error

// prepare creates the buckets of a new file, or checks that an existing one
// is a registry this program understands.
func (s *Store) prepare(fresh bool) error {
	check := func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return &openError{msg: fmt.Sprintf("the file %s is not a Sportello registry (it is a bbolt file without registry metadata)", s.path), sentinel: ErrNotRegistry}
		}
		v, err := strconv.Atoi(string(meta.Get(keyVersion)))
		if err != nil {
			return &openError{msg: fmt.Sprintf("the file %s is not a Sportello registry or is damaged (its format version %q is not a number)", s.path, meta.Get(keyVersion)), sentinel: ErrNotRegistry}
		}
		if v != FormatVersion {
			return &openError{msg: s.versionMessage(v, string(meta.Get(keyRelease))), sentinel: ErrVersion}
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return &openError{msg: fmt.Sprintf("the registry file %s is damaged: bucket %q is missing", s.path, name), sentinel: ErrNotRegistry}
			}
		}
		return nil
	}
	if s.readOnly {
		return s.db.View(check)
	}
	if !fresh {
		if err := s.db.View(check); err != nil {
			return err
		}
		return s.recordRelease()
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		if prepareHook != nil {
			if err := prepareHook(); err != nil {
				return err
			}
		}
		if tx.Bucket(bucketMeta) != nil {
			return check(tx)
		}
		empty := true
		_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
		if !empty {
			return check(tx)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return fmt.Errorf("cannot initialise the registry file %s: %w", s.path, err)
			}
		}
		if err := tx.Bucket(bucketMeta).Put(keyVersion, []byte(strconv.Itoa(FormatVersion))); err != nil {
			return err
		}
		return putRelease(tx, s.release)
	})
}

// versionMessage is the sentence for a file of format v, last written by
// release written ("" for a file from before releases were recorded).
func (s *Store) versionMessage(v int, written string) string {
	by, this := "a release of Sportello that did not record its version", "this release"
	if written != "" {
		by = "Sportello " + written
	}
	if s.release != "" {
		this = "Sportello " + s.release
	}
	if v > FormatVersion {
		return fmt.Sprintf("the registry file %s has format version %d, written by %s; %s reads format %d and older, so it refuses to start on it: run %s or a later one (or restore a backup taken before the upgrade)", s.path, v, by, this, FormatVersion, by)
	}
	return fmt.Sprintf("the registry file %s has format version %d, written by %s; %s reads format %d only and has no upgrade from format %d", s.path, v, by, this, FormatVersion, v)
}

// recordRelease notes the release opening an existing file to write, when
// it is not the one already recorded.
func (s *Store) recordRelease() error {
	if s.release == "" {
		return nil
	}
	var same bool
	if err := s.db.View(func(tx *bbolt.Tx) error {
		same = string(tx.Bucket(bucketMeta).Get(keyRelease)) == s.release
		return nil
	}); err != nil || same {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error { return putRelease(tx, s.release) })
}

func putRelease(tx *bbolt.Tx, release string) error {
	if release == "" {
		return nil
	}
	return tx.Bucket(bucketMeta).Put(keyRelease, []byte(release))
}

// Release is the release that last opened the file to write; empty when
// none recorded it.
func (s *Store) Release() (string, error) {
	var r string
	err := s.db.View(func(tx *bbolt.Tx) error {
		r = string(tx.Bucket(bucketMeta).Get(keyRelease))
		return nil
	})
	return r, err
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// Close releases the file and its lock.
func (s *Store) Close() error { return s.db.Close() }

// View runs fn on a consistent snapshot.
func (s *Store) View(ctx context.Context, fn func(registry.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("registry read not started: %w", err)
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		r := newReader(tx, nil)
		return fn(&r)
	})
	if errors.Is(err, bberrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("the registry %s is closed: %w", s.path, ErrClosed)
	}
	return err
}

// Update runs fn in one write transaction: every change fn makes is
// committed, or none if fn returns an error. IDs that fn's PutX calls
// assigned are reset to zero on failure, so the records can be retried.
func (s *Store) Update(ctx context.Context, fn func(registry.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("registry update not started: %w", err)
	}
	if s.readOnly {
		return fmt.Errorf("cannot change the registry %s: it was opened read-only: %w", s.path, ErrReadOnly)
	}
	var w *writer
	err := s.db.Update(func(tx *bbolt.Tx) error {
		w = newWriter(tx, s)
		if err := fn(w); err != nil {
			return err
		}
		return w.flush()
	})
	if err != nil && w != nil {
		w.forgetAssigned()
	}
	if errors.Is(err, bberrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("the registry %s is closed: %w", s.path, ErrClosed)
	}
	return err
}

// DB returns the bbolt handle. The hub keeps all its records in one file:
// sibling stores (issued certificates, the protocol register, operators) add
// their own buckets to it and can share a transaction with the registry.
func (s *Store) DB() *bbolt.DB { return s.db }

// ReaderOf returns a registry Reader on a transaction begun on DB(), so a
// write that also reads the registry (an issuance) sees one snapshot.
func ReaderOf(tx *bbolt.Tx) registry.Reader {
	r := newReader(tx, nil)
	return &r
}

// WriterIn returns a registry Writer on tx, a write transaction begun on
// DB(), for the hub's transaction that spans every domain
// (internal/store/bolt). Call flush before tx commits; call forget if it
// does not, so the IDs the writer assigned go back to zero.
func (s *Store) WriterIn(tx *bbolt.Tx) (w registry.Writer, flush func() error, forget func()) {
	wr := newWriter(tx, s)
	return wr, wr.flush, wr.forgetAssigned
}
