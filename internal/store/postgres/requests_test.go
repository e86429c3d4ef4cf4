package postgres

import (
	"testing"

	"github.com/sportello/sportello/internal/request/requesttest"
)

func TestRequests(t *testing.T) { requesttest.Run(t, openHub, twin) }
