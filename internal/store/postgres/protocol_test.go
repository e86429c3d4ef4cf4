package postgres

import (
	"testing"

	"github.com/sportello/sportello/internal/protocol/protocoltest"
)

// TestProtocol runs the protocol register's suite on the database, with
// two hubs' stores on one database numbering one sequence.
func TestProtocol(t *testing.T) { protocoltest.Run(t, openHub, twin) }
