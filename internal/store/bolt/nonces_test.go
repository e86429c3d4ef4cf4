package bolt

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/httpsig/noncetest"
	"github.com/sportello/sportello/internal/limits/limitstest"
	"github.com/sportello/sportello/internal/store"
)

// files remembers where each store opened by openFile keeps its data, so
// a test can restart it.
type files struct {
	mu    sync.Mutex
	paths map[store.Store]string
}

func (f *files) open(t *testing.T, path string) store.Store {
	t.Helper()
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paths == nil {
		f.paths = map[store.Store]string{}
	}
	f.paths[s] = path
	return s
}

func (f *files) Open(t *testing.T) store.Store {
	return f.open(t, filepath.Join(t.TempDir(), "hub.db"))
}

func (f *files) Reopen(t *testing.T, s store.Store) store.Store {
	f.mu.Lock()
	path := f.paths[s]
	f.mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f.open(t, path)
}

func TestNonces(t *testing.T) {
	f := &files{}
	noncetest.Run(t, f.Open, f.Reopen)
}

func TestLimits(t *testing.T) {
	f := &files{}
	limitstest.RunStore(t, f.Open, f.Reopen)
}
