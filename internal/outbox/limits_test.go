package outbox

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestAmountCaps: an operation taken offline that collects more than the
// cap per operation is refused, and so is one that would take the queue past
// the total cap; each refusal names its limit and the amounts.
func TestAmountCaps(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		fill   []int64
		amount int64
		want   LimitKind
		words  []string // the refusal names the limit
	}{
		{"one operation over its cap", Limits{MaxOperationCents: 5000}, nil, 100000000, LimitOperationAmount, []string{"1000000.00 EUR", "50.00 EUR", "cap per operation"}},
		{"one operation at its cap", Limits{MaxOperationCents: 5000}, nil, 5000, "", nil},
		{"the total over its cap", Limits{MaxOperationCents: 5000, MaxAmountCents: 5000}, []int64{1852, 1852}, 1852, LimitAmount, []string{"55.56 EUR", "50.00 EUR", "total cap"}},
		{"the total at its cap", Limits{MaxAmountCents: 5556}, []int64{1852, 1852}, 1852, "", nil},
		{"both, the operation named first", Limits{MaxOperationCents: 1000, MaxAmountCents: 1000}, nil, 1852, LimitOperationAmount, []string{"cap per operation"}},
		{"no caps", Limits{}, []int64{1 << 40}, 1 << 40, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := openTest(t, Options{Clock: newFakeClock()})
			if err := o.SetLimits(tt.limits); err != nil {
				t.Fatal(err)
			}
			for i, a := range tt.fill {
				mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "fill" + string(rune('a'+i)), AmountCents: a})
			}
			_, err := o.Enqueue(context.Background(), Op{Kind: "fee.record", IdempotencyKey: "probe", AmountCents: tt.amount})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || le.Kind != tt.want || le.Limits.MaxOperationCents != tt.limits.MaxOperationCents {
				t.Fatalf("err %v, want a %s LimitError carrying the limits", err, tt.want)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q does not say %q", err, w)
				}
			}
			// Online (the hub has just answered) the offline caps do not apply.
			if _, err := o.Enqueue(context.Background(), Op{Kind: "fee.record", IdempotencyKey: "online", AmountCents: tt.amount, Online: true}); err != nil {
				t.Errorf("online: %v", err)
			}
		})
	}
	o, _ := openTest(t, Options{})
	if err := o.SetLimits(Limits{MaxOperationCents: -1}); err == nil {
		t.Error("SetLimits accepted a negative cap")
	}
	if _, err := Open(t.TempDir()+"/x.db", Options{MaxOperationCents: -5}); err == nil {
		t.Error("Open accepted a negative cap per operation")
	}
}

// TestSteppedBackClockDoesNotReopen: the age limit is measured on a clock
// that cannot be wound back. Setting the wall clock back 48 hours, with the
// outbox open or across a restart, leaves the oldest operation as old as it
// is; the time that passes after the step counts.
func TestSteppedBackClockDoesNotReopen(t *testing.T) {
	probe := func(o *Outbox, key string) error {
		_, err := o.Enqueue(context.Background(), Op{Kind: "fee.record", IdempotencyKey: key, AmountCents: 100})
		return err
	}
	isAge := func(err error) bool {
		var le *LimitError
		return errors.As(err, &le) && le.Kind == LimitAge && strings.Contains(err.Error(), "age limit")
	}

	t.Run("past the limit, stepped back, restarted", func(t *testing.T) {
		clk := newFakeClock()
		o, path := openTest(t, Options{Clock: clk})
		mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "first", AmountCents: 100})
		clk.Advance(25 * time.Hour)
		if err := probe(o, "p1"); !isAge(err) {
			t.Fatalf("25 hours on: %v, want the age limit", err)
		}
		clk.Advance(-48 * time.Hour)
		if err := probe(o, "p2"); !isAge(err) {
			t.Fatalf("stepped back 48 hours: %v, want the age limit still", err)
		}
		if st, _ := o.Stats(); st.OldestAge < 25*time.Hour {
			t.Errorf("oldest age %s after the step back, want at least 25h", st.OldestAge)
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		o2, err := Open(path, Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		defer o2.Close()
		if err := probe(o2, "p3"); !isAge(err) {
			t.Fatalf("restarted with the clock 48 hours back: %v, want the age limit still", err)
		}
	})

	t.Run("inside the limit, stepped back, time passes", func(t *testing.T) {
		clk := newFakeClock()
		o, _ := openTest(t, Options{Clock: clk})
		mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "first", AmountCents: 100})
		clk.Advance(23 * time.Hour)
		if err := probe(o, "p1"); err != nil {
			t.Fatalf("23 hours on: %v", err)
		}
		clk.Advance(-48 * time.Hour)
		// The status bar reads the figures: the fake clock carries no
		// monotonic reading, so this is where the step shows.
		if st, _ := o.Stats(); st.OldestAge != 23*time.Hour {
			t.Errorf("oldest age %s right after the step back, want 23h", st.OldestAge)
		}
		clk.Advance(2 * time.Hour)
		if err := probe(o, "p2"); !isAge(err) {
			t.Fatalf("23h, 48h back, then 2h: %v; the 25 hours that passed must count", err)
		}
	})

	t.Run("a crash, not a close, after the kept reading", func(t *testing.T) {
		clk := newFakeClock()
		o, path := openTest(t, Options{Clock: clk})
		mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "first", AmountCents: 100})
		// The status bar asks for the figures while the kiosk sits idle.
		for i := 0; i < 25; i++ {
			clk.Advance(time.Hour)
			if _, err := o.Stats(); err != nil {
				t.Fatal(err)
			}
		}
		// Copied as a crash would leave it, before any Close.
		crashed := t.TempDir() + "/outbox.db"
		copyFile(t, path, crashed)
		clk.Advance(-48 * time.Hour)
		o2, err := Open(crashed, Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		defer o2.Close()
		if err := probe(o2, "p"); !isAge(err) {
			t.Fatalf("after a crash and a 48-hour step back: %v, want the age limit", err)
		}
	})

	t.Run("time while switched off counts", func(t *testing.T) {
		clk := newFakeClock()
		o, path := openTest(t, Options{Clock: clk})
		mustEnqueue(t, o, Op{Kind: "fee.record", IdempotencyKey: "first", AmountCents: 100})
		o.Close()
		clk.Advance(25 * time.Hour)
		o2, err := Open(path, Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		defer o2.Close()
		if err := probe(o2, "p"); !isAge(err) {
			t.Fatalf("25 hours switched off: %v, want the age limit", err)
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
