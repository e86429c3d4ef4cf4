package printer

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/sportello/sportello/internal/atomicfile"
	"golang.org/x/crypto/chacha20poly1305"
)

// ErrNoJob is returned for a job ID the spool does not hold.
var ErrNoJob = errors.New("no such job in the spool")

// Spool keeps jobs that did not print until they are reprinted.
type Spool interface {
	Put(Job) error // adds or replaces by ID
	Get(id string) (Job, error)
	List() ([]Job, error) // oldest first
	Delete(id string) error
}

// MemSpool is a Spool in memory, for tests and for kiosks without a disk.
type MemSpool struct {
	mu   sync.Mutex
	jobs map[string]Job
}

func NewMemSpool() *MemSpool { return &MemSpool{jobs: map[string]Job{}} }

func (s *MemSpool) Put(j Job) error {
	if err := checkID(j.ID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j.Data = append([]byte(nil), j.Data...)
	s.jobs[j.ID] = j
	return nil
}

func (s *MemSpool) Get(id string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok {
		return Job{}, fmt.Errorf("job %q: %w", id, ErrNoJob)
	}
	j.Data = append([]byte(nil), j.Data...)
	return j, nil
}

func (s *MemSpool) List() ([]Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Job, 0, len(s.jobs))
	for _, j := range s.jobs {
		out = append(out, j)
	}
	sortJobs(out)
	return out, nil
}

func (s *MemSpool) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jobs[id]; !ok {
		return fmt.Errorf("job %q: %w", id, ErrNoJob)
	}
	delete(s.jobs, id)
	return nil
}

// DirSpool is a Spool of one sealed file per job in a directory, so a job
// that failed survives a kiosk restart while what it holds — certificates,
// with personal data — cannot be read from the disk: each file is
// XChaCha20-Poly1305 under the kiosk's spool key (kept sealed with the
// device's other keys, see internal/keystore), bound to the job's ID.
// Files are written to a temporary name and renamed, so a crash never
// leaves half a job, and readable by the kiosk's user only.
type DirSpool struct {
	dir  string
	aead cipher.AEAD
	mu   sync.Mutex
}

// SpoolKeyLen is the length of a DirSpool's key.
const SpoolKeyLen = chacha20poly1305.KeySize

// Job files: sealed ones, and the clear JSON spools wrote before they were
// sealed, which NewDirSpool seals.
const (
	jobExt   = ".job"
	clearExt = ".json"
)

// NewDirSpool opens (creating if needed) a spool directory whose jobs are
// sealed with key. Jobs an earlier version kept in the clear are sealed
// and their clear files removed.
func NewDirSpool(dir string, key []byte) (*DirSpool, error) {
	if len(key) != SpoolKeyLen {
		return nil, fmt.Errorf("the print spool's key has %d bytes, not %d", len(key), SpoolKeyLen)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.PrivateDir(dir); err != nil {
		return nil, fmt.Errorf("cannot create the print spool directory: %w", err)
	}
	s := &DirSpool{dir: dir, aead: aead}
	if err := s.sealClear(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *DirSpool) Dir() string { return s.dir }

func (s *DirSpool) path(id string) string { return filepath.Join(s.dir, id+jobExt) }

// aad binds a sealed job to its ID: a file renamed to another job's name
// does not open.
func aad(id string) []byte { return []byte("sportello print job v1 " + id) }

func (s *DirSpool) Put(j Job) error {
	if err := checkID(j.ID); err != nil {
		return err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(b)+s.aead.Overhead())
	// XChaCha20's 192-bit nonce makes random nonces safe under one key.
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sealed := s.aead.Seal(nonce, nonce, b, aad(j.ID))
	clear(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := atomicfile.Write(s.path(j.ID), sealed, 0o600); err != nil {
		return fmt.Errorf("cannot write job %s to the spool: %w", j.ID, err)
	}
	return nil
}

func (s *DirSpool) Get(id string) (Job, error) {
	if err := checkID(id); err != nil {
		return Job{}, err
	}
	b, err := os.ReadFile(s.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return Job{}, fmt.Errorf("job %q: %w", id, ErrNoJob)
	}
	if err != nil {
		return Job{}, err
	}
	n := s.aead.NonceSize()
	if len(b) < n+s.aead.Overhead() {
		return Job{}, fmt.Errorf("spooled job %s is cut short", id)
	}
	plain, err := s.aead.Open(nil, b[:n], b[n:], aad(id))
	if err != nil {
		return Job{}, fmt.Errorf("spooled job %s does not open with this kiosk's spool key: it was altered, or written by another kiosk", id)
	}
	var j Job
	if err := json.Unmarshal(plain, &j); err != nil {
		return Job{}, fmt.Errorf("spooled job %s is unreadable: %w", id, err)
	}
	return j, nil
}

func (s *DirSpool) List() ([]Job, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []Job
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), jobExt)
		if !ok || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		j, err := s.Get(id)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	sortJobs(out)
	return out, nil
}

func (s *DirSpool) Delete(id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	err := os.Remove(s.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("job %q: %w", id, ErrNoJob)
	}
	return err
}

// sealClear seals the jobs a spool of an earlier version kept as clear
// JSON, and removes the clear files.
func (s *DirSpool) sealClear() error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), clearExt)
		if !ok || strings.HasPrefix(e.Name(), ".") || checkID(id) != nil {
			continue
		}
		path := filepath.Join(s.dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var j Job
		if err := json.Unmarshal(b, &j); err != nil || j.ID != id {
			return fmt.Errorf("the clear spooled job %s is unreadable; print or remove it before the spool can be sealed", path)
		}
		if err := s.Put(j); err != nil {
			return err
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("job %s is sealed, but its clear copy could not be removed: %w", id, err)
		}
	}
	return nil
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// checkID keeps job IDs to names that are safe as file names.
func checkID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("job ID %q is not 1-100 letters, digits, dots, dashes or underscores", id)
	}
	return nil
}

func sortJobs(js []Job) {
	sort.Slice(js, func(a, b int) bool {
		if !js[a].Created.Equal(js[b].Created) {
			return js[a].Created.Before(js[b].Created)
		}
		return js[a].ID < js[b].ID
	})
}
