package bolt

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/storetest"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/store/bolt/registrybolt"
)

// factory opens the registry through the hub's Store: the registry's view
// of a transaction that spans every domain passes the registry's suite.
type factory struct {
	mu    sync.Mutex
	paths map[registry.Store]string
}

var testOptions = registrybolt.Options{InitialMmapSize: 16 << 20}

func (f *factory) open(t *testing.T, path string) registry.Store {
	t.Helper()
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	r := store.RegistryOf(s)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paths[r] = path
	return r
}

func (f *factory) Open(t *testing.T) registry.Store {
	return f.open(t, filepath.Join(t.TempDir(), "hub.db"))
}

func (f *factory) Reopen(t *testing.T, s registry.Store) registry.Store {
	f.mu.Lock()
	path := f.paths[s]
	f.mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return f.open(t, path)
}

func TestStoreRegistry(t *testing.T) {
	storetest.Run(t, &factory{paths: map[registry.Store]string{}})
}
