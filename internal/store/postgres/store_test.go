package postgres

import (
	"context"
	"sync"
	"testing"

	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/registry/storetest"
	"github.com/sportello/sportello/internal/store"
)

// storeFactory opens the registry through the hub's Store, whose
// transactions span every domain: the registry's view of them passes the
// same suite as the registry alone.
type storeFactory struct {
	mu    sync.Mutex
	conns map[registry.Store]string
}

func openStore(t *testing.T, conn string) registry.Store {
	t.Helper()
	s, err := OpenStore(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return store.RegistryOf(s)
}

func (f *storeFactory) Open(t *testing.T) registry.Store {
	conn := pg.Database(t)
	s := openStore(t, conn)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conns[s] = conn
	return s
}

func (f *storeFactory) Reopen(t *testing.T, s registry.Store) registry.Store {
	f.mu.Lock()
	conn := f.conns[s]
	f.mu.Unlock()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, conn)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.conns[s2] = conn
	return s2
}

func TestStoreRegistry(t *testing.T) {
	storetest.Run(t, &storeFactory{conns: map[registry.Store]string{}})
}
