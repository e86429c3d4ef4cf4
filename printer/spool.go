package printer

import (
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

// DirSpool is a Spool of one JSON file per job in a directory, so a job
// that failed survives a kiosk restart. Files are written to a temporary
// name and renamed, so a crash never leaves half a job.
type DirSpool struct {
	dir string
	mu  sync.Mutex
}

// NewDirSpool opens (creating if needed) a spool directory.
func NewDirSpool(dir string) (*DirSpool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the print spool directory: %w", err)
	}
	return &DirSpool{dir: dir}, nil
}

func (s *DirSpool) Dir() string { return s.dir }

func (s *DirSpool) path(id string) string { return filepath.Join(s.dir, id+".json") }

func (s *DirSpool) Put(j Job) error {
	if err := checkID(j.ID); err != nil {
		return err
	}
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := atomicfile.Write(s.path(j.ID), b, 0o600); err != nil {
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
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
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
		id, ok := strings.CutSuffix(e.Name(), ".json")
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
