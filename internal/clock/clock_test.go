package clock

import (
	"testing"
	"time"
)

func TestFakeStandsStillAndMoves(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f := NewFake(start)
	c := f.Clock()
	if got := c(); !got.Equal(start) {
		t.Fatalf("fake reads %v, want %v", got, start)
	}
	f.Advance(90 * time.Minute)
	if got := c(); !got.Equal(start.Add(90 * time.Minute)) {
		t.Fatalf("after Advance the fake reads %v", got)
	}
	later := start.AddDate(1, 0, 0)
	f.Set(later)
	if got := c(); !got.Equal(later) {
		t.Fatalf("after Set the fake reads %v", got)
	}
}

func TestOrAndOffset(t *testing.T) {
	fixed := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := Or(func() time.Time { return fixed })(); !got.Equal(fixed) {
		t.Fatalf("Or kept no given clock: %v", got)
	}
	if Or(nil)().Year() < 2020 {
		t.Fatal("Or(nil) is not the system clock")
	}
	// An offset of a year ahead reads at least 364 days past the system
	// clock read before it: no timing involved, only ordering.
	before := time.Now()
	if got := Offset(365 * 24 * time.Hour)(); got.Sub(before) < 364*24*time.Hour {
		t.Fatalf("Offset(+1y) reads %v, the system clock %v", got, before)
	}
}
