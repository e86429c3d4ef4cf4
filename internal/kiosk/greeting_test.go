package kiosk

import (
	"testing"
	"time"
)

// TestGreetingByTimeOfDay: the greeting follows the hour on a clock in
// Rome, summer time included, whatever zone the instant is given in.
func TestGreetingByTimeOfDay(t *testing.T) {
	for _, tt := range []struct {
		utc  string
		want string
	}{
		{"2026-11-23T03:59:00Z", "choose_hello_evening"},   // 04:59 in Rome: still night
		{"2026-11-23T04:00:00Z", "choose_hello_morning"},   // 05:00
		{"2026-11-23T11:59:00Z", "choose_hello_morning"},   // 12:59
		{"2026-11-23T12:00:00Z", "choose_hello_afternoon"}, // 13:00
		{"2026-11-23T16:59:00Z", "choose_hello_afternoon"}, // 17:59
		{"2026-11-23T17:00:00Z", "choose_hello_evening"},   // 18:00
		{"2026-07-10T16:30:00Z", "choose_hello_evening"},   // 18:30 CEST: UTC+2 in summer
		{"2026-07-10T10:30:00Z", "choose_hello_morning"},   // 12:30 CEST
		{"2026-07-10T11:30:00Z", "choose_hello_afternoon"}, // 13:30 CEST
	} {
		at, err := time.Parse(time.RFC3339, tt.utc)
		if err != nil {
			t.Fatal(err)
		}
		if got := GreetingKey(at); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.utc, got, tt.want)
		}
	}
	r := newRig(t, Operator)
	r.clock.t = time.Date(2026, 11, 23, 19, 0, 0, 0, time.UTC) // 20:00 in Rome
	if got := r.flow.View().Greeting; got != "choose_hello_evening" {
		t.Errorf("the flow greets with %s at 20:00 in Rome", got)
	}
}
