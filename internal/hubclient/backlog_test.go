package hubclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/hubclient"
)

func TestReportBacklog(t *testing.T) {
	srv, ops, code := realHub(t)
	ctx := context.Background()
	c := &hubclient.Client{Clock: clock}
	p, err := c.Enrol(ctx, srv.URL, code, "Cassa 1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		b      hubclient.Backlog
		reason string // "" when accepted
	}{
		{hubclient.Backlog{Pending: 2, OldestAgeSeconds: 600, AmountCents: 3604}, ""},
		{hubclient.Backlog{Pending: 0, Refused: 1}, ""},
		{hubclient.Backlog{Pending: 1, AmountCents: -1}, "implausible_backlog"},
	}
	for _, tt := range tests {
		err := c.ReportBacklog(ctx, tt.b)
		if tt.reason != "" {
			if !isReason(err, tt.reason) {
				t.Errorf("ReportBacklog(%+v) = %v, want %s", tt.b, err, tt.reason)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ReportBacklog(%+v): %v", tt.b, err)
		}
		got, err := ops.Backlog(p.KeyID)
		if err != nil || got == nil || got.Pending != tt.b.Pending || got.Refused != tt.b.Refused ||
			got.OldestAge != time.Duration(tt.b.OldestAgeSeconds)*time.Second || got.AmountCents != tt.b.AmountCents {
			t.Errorf("the hub stored %+v (%v) for %+v", got, err, tt.b)
		}
	}
}
