// Package anchorlog keeps the audit chain's signed anchors (audit.SignedHead)
// outside the hub's bbolt file: in an append-only text file beside it, one
// anchor a line as audit.SignedHead.String writes it, and, when asked, in the
// systemd journal, from which a city can ship them off the machine.
//
// The file is opened O_APPEND and each anchor is one write of one line
// followed by fsync, so the anchor is on disk before the commit it anchors is
// acknowledged. Append-only by the hub's own code is not append-only against
// whoever can edit hub.db as the hub's user; for that, make the file
// append-only for the file system too (chattr +a, which only root can undo)
// and keep the journal's copy elsewhere.
package anchorlog

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/audit"
)

// FileName is the anchor file's name in the hub's data directory.
const FileName = "audit-anchors.log"

// File is the anchor file, open for appending. It is an audit.AnchorSink.
type File struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

var _ audit.AnchorSink = (*File)(nil)

// Open opens the anchor file at path for appending, creating it 0600.
func Open(path string) (*File, error) {
	_, statErr := os.Lstat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the audit anchor file: %w", err)
	}
	a := &File{f: f, path: path}
	if created {
		// The new name must outlive a crash as the anchors in it do.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, err
		}
		return a, nil
	}
	// A crash in the middle of a write can leave a last line without its
	// new-line: end it, so the next anchor is a line of its own and the
	// torn one reads as one unreadable line.
	torn, err := endsTorn(path)
	if err == nil && torn {
		_, err = f.Write([]byte("\n"))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot open the audit anchor file %s: %w", path, err)
	}
	return a, nil
}

func endsTorn(path string) (bool, error) {
	r, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil || st.Size() == 0 {
		return false, err
	}
	var b [1]byte
	if _, err := r.ReadAt(b[:], st.Size()-1); err != nil {
		return false, err
	}
	return b[0] != '\n', nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot sync the directory of the audit anchor file: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cannot sync the directory of the audit anchor file: %w", err)
	}
	return nil
}

// Path is the file's path.
func (a *File) Path() string { return a.path }

// Anchor appends s as one line and syncs it to disk.
func (a *File) Anchor(s audit.SignedHead) error {
	line := s.String() + "\n"
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return fmt.Errorf("the audit anchor file %s is closed", a.path)
	}
	if _, err := a.f.WriteString(line); err != nil {
		return fmt.Errorf("cannot append to the audit anchor file: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("cannot sync the audit anchor file: %w", err)
	}
	return nil
}

// Close closes the file; later anchors fail.
func (a *File) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// Read reads every line of the anchor file at path (or of a copy of it,
// such as lines taken from the journal), naming each "line N of PATH". A
// missing file is an error wrapping os.ErrNotExist.
func Read(path string) ([]audit.AnchorLine, error) {
	var out []audit.AnchorLine
	err := Each(path, func(l audit.AnchorLine) { out = append(out, l) })
	return out, err
}

// Each calls fn with every line of the anchor file at path, in order, as
// Read names them, holding one line at a time: the file grows by a line a
// commit, for as long as the hub runs.
func Each(path string, fn func(audit.AnchorLine)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return EachFrom(f, path, fn)
}

// EachFrom is Each on lines read from r, named after name.
func EachFrom(r io.Reader, name string, fn func(audit.AnchorLine)) error {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if line == "" && err == io.EOF {
			return nil
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("cannot read the audit anchors in %s: %w", name, err)
		}
		fn(parseLine(line, fmt.Sprintf("line %d of %s", n, name)))
		if err == io.EOF {
			return nil
		}
	}
}

func parseLine(line, where string) audit.AnchorLine {
	l := audit.AnchorLine{Where: where}
	body, complete := bytes.CutSuffix([]byte(line), []byte("\n"))
	l.Torn = !complete
	l.Signed, l.Err = audit.ParseSignedHead(string(body))
	return l
}

// tailChunk is how much of the file LastSigned reads at a time from its end.
const tailChunk = 64 << 10

// LastSigned returns the last line of the anchor file at path whose
// signature one of keys verifies, reading from the end (the file grows by
// a line a commit). ok is false when there is none, or no file.
func LastSigned(path string, keys map[string]ed25519.PublicKey) (s audit.SignedHead, ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("cannot read the audit anchor file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return s, false, fmt.Errorf("cannot read the audit anchor file: %w", err)
	}
	end := st.Size()
	var carry []byte // the start of a line whose rest was read before
	for end > 0 {
		start := max(0, end-tailChunk)
		buf := make([]byte, end-start, end-start+int64(len(carry)))
		if _, err := f.ReadAt(buf, start); err != nil {
			return s, false, fmt.Errorf("cannot read the audit anchor file %s: %w", path, err)
		}
		buf = append(buf, carry...)
		lines := bytes.Split(buf, []byte("\n"))
		first := 0
		if start > 0 {
			// The first piece may be the end of a line that begins
			// before this chunk: keep it for the next round.
			carry, first = lines[0], 1
		}
		for i := len(lines) - 1; i >= first; i-- {
			got, err := audit.ParseSignedHead(string(lines[i]))
			if err == nil && got.Check(keys) == nil {
				return got, true, nil
			}
		}
		end = start
	}
	return s, false, nil
}

// Signed reads the anchor file at Path, keeping the lines one of Keys
// signed. It is retention's view of the anchors (retention.Anchors).
type Signed struct {
	Path string
	Keys map[string]ed25519.PublicKey
}

// Before returns the anchor with the highest entry number at most max
// among the valid ones signed before cutoff; false when there is none or
// no file. Lines that are torn, unreadable or forged are passed over: they
// vouch for nothing.
func (s Signed) Before(max uint64, cutoff time.Time) (best audit.SignedHead, ok bool, err error) {
	err = Each(s.Path, func(l audit.AnchorLine) {
		if l.Err != nil || l.Signed.Seq > max || !l.Signed.Time.Before(cutoff) || l.Signed.Check(s.Keys) != nil {
			return
		}
		if !ok || l.Signed.Seq > best.Seq {
			best, ok = l.Signed, true
		}
	})
	if errors.Is(err, os.ErrNotExist) {
		return best, false, nil
	}
	return best, ok, err
}
