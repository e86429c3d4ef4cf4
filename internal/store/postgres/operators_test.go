package postgres

import (
	"context"
	"testing"

	"github.com/sportello/sportello/internal/operators/operatorstest"
	"github.com/sportello/sportello/internal/store"
)

// openEmpty opens a Store on a new database; second opens another Store,
// as another hub would, on the database of a Store openEmpty made.
func openEmpty(t *testing.T) store.Store {
	t.Helper()
	conn := pg.Database(t)
	s, err := OpenStore(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func second(t *testing.T, first store.Store) store.Store {
	t.Helper()
	s, err := OpenStore(context.Background(), first.(*Store).conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOperators(t *testing.T) {
	operatorstest.Run(t, openEmpty)
	operatorstest.RunShared(t, openEmpty, second)
}
