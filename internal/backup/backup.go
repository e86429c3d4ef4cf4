// Package backup is the format of a hub's backup file: a gzip-compressed
// tar whose members are the hub's records (the bbolt file's consistent
// copy, or a pg_dump of the database), the certificates' PDFs and the audit
// anchors, optionally the keys sealed under a passphrase, and last a
// manifest naming the city, the version that wrote it, when, and the
// SHA-256 of every member.
//
// The manifest comes last because a member's digest is known only once it
// is written, and a backup is written in one pass while the hub serves.
// Extract therefore stages every member, checks each against the manifest
// and the caller's expectations (the city), and only then lets the caller
// move the result into place: a backup that fails any check leaves nothing
// behind.
//
// It is pure format: no store, no hub; the caller hands it bytes.
package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// Format is the version of this layout, written in every manifest. A
// reader refuses a manifest of a later format: it cannot know what a later
// writer put there. Format 2 binds sealed keys to every other member.
const Format = 2

// ManifestName is the manifest's member name, the tar's last.
const ManifestName = "manifest.json"

// KeysName is the member holding the keys, sealed under a passphrase.
const KeysName = "keys.sealed"

// Manifest describes one backup.
type Manifest struct {
	Format  int       `json:"format"`
	City    string    `json:"city"`    // the comune's Belfiore code
	Version string    `json:"version"` // the hub release that wrote it
	Created time.Time `json:"created"`
	Backend string    `json:"backend"` // "bolt" or "postgres"
	// Members are every member but the manifest, in the order written.
	Members []Member `json:"members"`
	// Keys says how KeysName is sealed; nil when the keys were left out.
	Keys *Sealing `json:"keys,omitempty"`
}

// Member is one file of the backup.
type Member struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Sealing is how the keys' member is encrypted: a key derived from the
// passphrase with scrypt, then XChaCha20-Poly1305 over the member, with
// the city and the creation time as associated data so sealed keys cannot
// be moved into another backup unnoticed.
type Sealing struct {
	KDF   string `json:"kdf"` // "scrypt"
	N     int    `json:"n"`
	R     int    `json:"r"`
	P     int    `json:"p"`
	Salt  []byte `json:"salt"`
	Nonce []byte `json:"nonce"`
}

// Errors a restore reports; each is wrapped with the detail.
var (
	// ErrChecksum: a member does not match the manifest, is missing, is
	// not in it, or the file is cut short or is no backup at all.
	ErrChecksum = errors.New("the backup fails its checksum")
	// ErrCity: the backup is of another city than the one expected.
	ErrCity = errors.New("the backup comes from another city")
	// ErrPassphrase: the keys do not open with the passphrase given.
	ErrPassphrase = errors.New("the keys in the backup do not open with this passphrase")
	// ErrFormat: a later format than this program reads.
	ErrFormat = errors.New("the backup was written in a later format")
)

// Writer writes a backup to w member by member; Close writes the manifest.
type Writer struct {
	gz *gzip.Writer
	tw *tar.Writer
	m  Manifest
}

// NewWriter starts a backup described by m (its Members and Keys are
// filled as members are added).
func NewWriter(w io.Writer, m Manifest) *Writer {
	gz := gzip.NewWriter(w)
	m.Format, m.Members, m.Keys = Format, nil, nil
	return &Writer{gz: gz, tw: tar.NewWriter(gz), m: m}
}

// Add writes a member of size bytes that write produces; it fails if write
// produces another number of bytes.
func (w *Writer) Add(name string, size int64, write func(io.Writer) error) error {
	if w.m.Keys != nil {
		// The sealed keys vouch for the members before them (associated);
		// one written after them would be vouched for by nothing.
		return errors.New("the keys must be the backup's last member")
	}
	if err := checkName(name); err != nil {
		return err
	}
	if err := w.tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: w.m.Created, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("cannot write %s into the backup: %w", name, err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w.tw, h)}
	if err := write(cw); err != nil {
		return fmt.Errorf("cannot write %s into the backup: %w", name, err)
	}
	if cw.n != size {
		return fmt.Errorf("cannot write %s into the backup: %d bytes announced, %d written", name, size, cw.n)
	}
	w.m.Members = append(w.m.Members, Member{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// AddBytes writes a member holding b.
func (w *Writer) AddBytes(name string, b []byte) error {
	return w.Add(name, int64(len(b)), func(out io.Writer) error { _, err := out.Write(b); return err })
}

// AddFile writes the file at p as the member name.
func (w *Writer) AddFile(name, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return w.Add(name, st.Size(), func(out io.Writer) error { _, err := io.Copy(out, f); return err })
}

// AddKeys seals the files (name → content) under passphrase and writes them
// as the keys' member.
func (w *Writer) AddKeys(files map[string][]byte, passphrase []byte) error {
	if w.m.Keys != nil {
		return errors.New("the keys are already in the backup")
	}
	if len(passphrase) == 0 {
		return errors.New("the passphrase is empty")
	}
	var plain bytes.Buffer
	tw := tar.NewWriter(&plain)
	for _, name := range slices.Sorted(maps.Keys(files)) { // one order for one input
		if err := checkName(name); err != nil {
			return err
		}
		b := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(b)), Mode: 0o600, ModTime: w.m.Created, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(b); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	s := &Sealing{KDF: "scrypt", N: 1 << 15, R: 8, P: 1, Salt: make([]byte, 16), Nonce: make([]byte, chacha20poly1305.NonceSizeX)}
	if _, err := rand.Read(s.Salt); err != nil {
		return err
	}
	if _, err := rand.Read(s.Nonce); err != nil {
		return err
	}
	aead, err := s.aead(passphrase)
	if err != nil {
		return err
	}
	sealed := aead.Seal(nil, s.Nonce, plain.Bytes(), associated(w.m))
	if err := w.AddBytes(KeysName, sealed); err != nil {
		return err
	}
	w.m.Keys = s
	return nil
}

// Close writes the manifest and ends the file; it returns the manifest.
func (w *Writer) Close() (Manifest, error) {
	b, err := json.MarshalIndent(w.m, "", "  ")
	if err != nil {
		return w.m, err
	}
	if err := w.tw.WriteHeader(&tar.Header{Name: ManifestName, Size: int64(len(b)), Mode: 0o600, ModTime: w.m.Created, Typeflag: tar.TypeReg}); err != nil {
		return w.m, err
	}
	if _, err := w.tw.Write(b); err != nil {
		return w.m, err
	}
	if err := w.tw.Close(); err != nil {
		return w.m, err
	}
	return w.m, w.gz.Close()
}

func (s *Sealing) aead(passphrase []byte) (interface {
	Seal(dst, nonce, plaintext, ad []byte) []byte
	Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
}, error) {
	if s.KDF != "scrypt" {
		return nil, fmt.Errorf("the keys are sealed with %q, which this program does not know", s.KDF)
	}
	key, err := scrypt.Key(passphrase, s.Salt, s.N, s.R, s.P, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("the keys' sealing parameters are unusable: %w", err)
	}
	return chacha20poly1305.NewX(key)
}

// associated is what the sealed keys are bound to: the city and the time,
// so they cannot be moved into another backup, and from format 2 the
// backend and every other member's name, size and SHA-256. The manifest's
// checksums alone stop accidents, not someone who can rewrite the file
// (change the audit anchors, then their line in the manifest); bound to
// the keys, such a change makes the keys refuse to open, and only the
// passphrase could seal them again.
func associated(m Manifest) []byte {
	ad := []byte("sportello backup keys\x00" + m.City + "\x00" + m.Created.UTC().Format(time.RFC3339Nano))
	if m.Format < 2 {
		return ad
	}
	var others []Member
	for _, x := range m.Members {
		if x.Name != KeysName {
			others = append(others, x)
		}
	}
	b, err := json.Marshal(struct {
		Backend string   `json:"backend"`
		Members []Member `json:"members"`
	}{m.Backend, others})
	if err != nil {
		panic(err) // strings and integers always marshal
	}
	sum := sha256.Sum256(b)
	return append(append(ad, 0), sum[:]...)
}

// OpenKeys opens the keys' member sealed, read from the backup m, with
// passphrase, and returns its files.
func OpenKeys(m Manifest, sealed, passphrase []byte) (map[string][]byte, error) {
	if m.Keys == nil {
		return nil, errors.New("the backup holds no keys")
	}
	aead, err := m.Keys.aead(passphrase)
	if err != nil {
		return nil, err
	}
	if len(m.Keys.Nonce) != chacha20poly1305.NonceSizeX {
		return nil, fmt.Errorf("%w: the keys' nonce is malformed", ErrChecksum)
	}
	plain, err := aead.Open(nil, m.Keys.Nonce, sealed, associated(m))
	if err != nil {
		if m.Format >= 2 {
			return nil, fmt.Errorf("%w, or the backup was changed after it was written", ErrPassphrase)
		}
		return nil, ErrPassphrase
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(plain))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: the sealed keys are not readable: %v", ErrChecksum, err)
		}
		if err := checkName(h.Name); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrChecksum, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("%w: the sealed keys are not readable: %v", ErrChecksum, err)
		}
		files[h.Name] = b
	}
}

// Extract reads the backup from r into dir, which must exist and be empty
// (a staging directory the caller made), checking every member's SHA-256
// against the manifest and the manifest against check. On any error dir
// may hold part of the backup: the caller removes it.
func Extract(r io.Reader, dir string, check func(Manifest) error) (Manifest, error) {
	var m Manifest
	gz, err := gzip.NewReader(r)
	if err != nil {
		return m, fmt.Errorf("%w: it is not a backup file (%v)", ErrChecksum, err)
	}
	tr := tar.NewReader(gz)
	got := map[string]Member{}
	var manifest []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, fmt.Errorf("%w: the file is cut short or damaged (%v)", ErrChecksum, err)
		}
		if manifest != nil {
			return m, fmt.Errorf("%w: %s follows the manifest", ErrChecksum, h.Name)
		}
		if h.Typeflag != tar.TypeReg {
			return m, fmt.Errorf("%w: %s is not a plain file", ErrChecksum, h.Name)
		}
		if h.Name == ManifestName {
			if manifest, err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
				return m, fmt.Errorf("%w: the file is cut short or damaged (%v)", ErrChecksum, err)
			}
			continue
		}
		if err := checkName(h.Name); err != nil {
			return m, fmt.Errorf("%w: %v", ErrChecksum, err)
		}
		if _, dup := got[h.Name]; dup {
			return m, fmt.Errorf("%w: %s appears twice", ErrChecksum, h.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return m, err
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return m, err
		}
		sum := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, sum), tr)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return m, fmt.Errorf("%w: %s cannot be read whole (%v)", ErrChecksum, h.Name, err)
		}
		got[h.Name] = Member{Name: h.Name, Size: n, SHA256: hex.EncodeToString(sum.Sum(nil))}
	}
	// Whatever follows the tar's end must be nothing: gzip checks its own
	// CRC when read to the end.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return m, fmt.Errorf("%w: the file is cut short or damaged (%v)", ErrChecksum, err)
	}
	if manifest == nil {
		return m, fmt.Errorf("%w: it has no manifest (cut short?)", ErrChecksum)
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return m, fmt.Errorf("%w: the manifest is not readable (%v)", ErrChecksum, err)
	}
	if m.Format > Format {
		return m, fmt.Errorf("%w (format %d, written by Sportello %s; this program reads format %d)", ErrFormat, m.Format, m.Version, Format)
	}
	for _, want := range m.Members {
		have, ok := got[want.Name]
		switch {
		case !ok:
			return m, fmt.Errorf("%w: %s is missing", ErrChecksum, want.Name)
		case have != want:
			return m, fmt.Errorf("%w: %s has SHA-256 %s and %d bytes, the manifest says %s and %d bytes", ErrChecksum, want.Name, have.SHA256, have.Size, want.SHA256, want.Size)
		}
		delete(got, want.Name)
	}
	for name := range got {
		return m, fmt.Errorf("%w: %s is not in the manifest", ErrChecksum, name)
	}
	if (m.Keys != nil) != m.has(KeysName) {
		return m, fmt.Errorf("%w: the manifest and the keys' member disagree", ErrChecksum)
	}
	if check != nil {
		if err := check(m); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (m Manifest) has(name string) bool {
	for _, x := range m.Members {
		if x.Name == name {
			return true
		}
	}
	return false
}

// checkName refuses member names that would land outside the directory
// they are extracted into.
func checkName(name string) error {
	clean := path.Clean(name)
	if name == "" || clean != name || path.IsAbs(name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, "\\") || name == ManifestName {
		return fmt.Errorf("%q is not a member name a backup may hold", name)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
