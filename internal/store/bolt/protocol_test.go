package bolt

import (
	"path/filepath"
	"testing"

	"github.com/sportello/sportello/internal/protocol/protocoltest"
	"github.com/sportello/sportello/internal/store"
)

// TestProtocol runs the protocol register's suite on the hub's file. A
// bbolt file is opened by one process at a time, so the suite's tests of
// several hubs on one store do not apply.
func TestProtocol(t *testing.T) {
	protocoltest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(filepath.Join(t.TempDir(), "hub.db"), testOptions)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, nil)
}
