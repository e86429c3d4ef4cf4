package opbolt

import (
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/operators"
)

func TestBacklog(t *testing.T) {
	s, c := open(t)
	d := enrolled(t, s)
	if b, err := s.Backlog(d.KeyID); err != nil || b != nil {
		t.Fatalf("before any report: %+v, %v", b, err)
	}
	if got := (*Backlog)(nil).Oldest(); !got.IsZero() {
		t.Errorf("no report has an oldest operation at %s", got)
	}
	tests := []struct {
		name    string
		keyID   string
		b       Backlog
		wantErr error
	}{
		{"three queued", d.KeyID, Backlog{Pending: 3, Refused: 1, OldestAge: 90 * time.Minute, AmountCents: 5406}, nil},
		{"drained", d.KeyID, Backlog{Refused: 1}, nil},
		{"unknown device", "dev-nobody", Backlog{}, operators.ErrNotFound},
		{"negative count", d.KeyID, Backlog{Pending: -1}, operators.ErrInvalid},
		{"negative amount", d.KeyID, Backlog{Pending: 1, AmountCents: -200}, operators.ErrInvalid},
		{"age from a broken clock", d.KeyID, Backlog{Pending: 1, OldestAge: 2 * MaxBacklogAge}, operators.ErrInvalid},
		{"an empty queue with money in it", d.KeyID, Backlog{AmountCents: 200}, operators.ErrInvalid},
		{"92 quadrillion euro", d.KeyID, Backlog{Pending: 1, OldestAge: time.Minute, AmountCents: 1<<63 - 1}, operators.ErrInvalid},
		{"more than a thousand euro an operation", d.KeyID, Backlog{Pending: 2, OldestAge: time.Minute, AmountCents: 2*MaxBacklogOpCents + 1}, operators.ErrInvalid},
		{"a thousand euro an operation", d.KeyID, Backlog{Pending: 2, OldestAge: time.Minute, AmountCents: 2 * MaxBacklogOpCents}, nil},
		{"more operations than a kiosk holds", d.KeyID, Backlog{Pending: MaxBacklogOps + 1, OldestAge: time.Minute}, operators.ErrInvalid},
		{"more refusals than a kiosk holds", d.KeyID, Backlog{Refused: 1 << 62}, operators.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Backlog(d.KeyID)
			c.t = c.t.Add(time.Minute)
			got, err := s.SetBacklog(tt.keyID, tt.b)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SetBacklog = %v, want %v", err, tt.wantErr)
				}
				if after, _ := s.Backlog(d.KeyID); (before == nil) != (after == nil) || (after != nil && *after != *before) {
					t.Errorf("a refused report changed the stored one: %+v → %+v", before, after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := s.Backlog(d.KeyID)
			if err != nil || stored == nil || *stored != *got {
				t.Fatalf("stored %+v, %v; SetBacklog returned %+v", stored, err, got)
			}
			want := tt.b
			want.KeyID, want.Reported = d.KeyID, c.t.UTC()
			if *stored != want {
				t.Errorf("stored %+v, want %+v", stored, want)
			}
			if tt.b.Pending > 0 && !stored.Oldest().Equal(c.t.Add(-tt.b.OldestAge)) {
				t.Errorf("oldest %s, want %s", stored.Oldest(), c.t.Add(-tt.b.OldestAge))
			}
			if tt.b.Pending == 0 && !stored.Oldest().IsZero() {
				t.Errorf("an empty backlog's oldest is %s", stored.Oldest())
			}
		})
	}
}
