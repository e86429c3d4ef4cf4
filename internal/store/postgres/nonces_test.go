package postgres

import (
	"context"
	"testing"

	"github.com/sportello/sportello/internal/httpsig/noncetest"
	"github.com/sportello/sportello/internal/limits/limitstest"
	"github.com/sportello/sportello/internal/store"
)

// reopen closes s and opens its database again, as a restarted hub does.
func reopen(t *testing.T, s store.Store) store.Store {
	t.Helper()
	conn := s.(*Store).conn
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := OpenStore(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	return s2
}

func TestNonces(t *testing.T) {
	noncetest.Run(t, openEmpty, reopen)
	noncetest.RunShared(t, openEmpty, second)
}

func TestLimits(t *testing.T) {
	limitstest.RunStore(t, openEmpty, reopen)
	limitstest.RunShared(t, openEmpty, second)
}
