package bolt

import (
	"path/filepath"
	"testing"

	"github.com/sportello/sportello/internal/operators/operatorstest"
	"github.com/sportello/sportello/internal/store"
)

// openEmpty opens a new hub file as a store.Store.
func openEmpty(t *testing.T) store.Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "hub.db"), testOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOperators(t *testing.T) { operatorstest.Run(t, openEmpty) }
