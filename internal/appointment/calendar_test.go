package appointment

import (
	"testing"
	"time"

	"github.com/sportello/sportello/internal/registry"
)

func TestClosedOnHolidays(t *testing.T) {
	d := func(s string) registry.Date {
		t.Helper()
		x, err := registry.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for day, want := range map[string]bool{
		"2026-01-06": true, "2026-04-06": true, "2026-04-05": true, "2026-06-02": true, "2026-12-08": true,
		"2026-12-26": true, "2026-10-04": true, "2025-10-04": false, "2026-04-07": false, "2026-12-07": false,
	} {
		if _, got := ClosedOn("centrale", d(day), nil); got != want {
			t.Errorf("ClosedOn(%s) = %v, want %v", day, got, want)
		}
	}
}

func TestSlots(t *testing.T) {
	o := &Office{ID: "nord", Name: "Nord", Counters: []Counter{{Number: 1}, {Number: 2}},
		Calendars: []Calendar{{Service: CIEIssue, Minutes: 20, Counters: []int{2, 1}, Hours: []Hours{
			{Weekday: time.Monday, From: "14:00", To: "15:00"}, {Weekday: time.Monday, From: "08:30", To: "09:30"},
			{Weekday: time.Tuesday, From: "08:30", To: "12:00"}}}}}
	if err := o.Check(); err != nil {
		t.Fatal(err)
	}
	mon := registry.Date{Year: 2026, Month: time.December, Day: 14}
	at := func(h, m int) time.Time { return time.Date(2026, 12, 14, h, m, 0, 0, Rome) }
	live := []Booking{
		{OfficeID: "nord", Start: at(8, 50), Counter: 1, State: Booked},
		{OfficeID: "nord", Start: at(8, 50), Counter: 2, State: CheckedIn},
		{OfficeID: "nord", Start: at(14, 0), Counter: 1, State: Cancelled},
		{OfficeID: "sud", Start: at(14, 20), Counter: 1, State: Booked},
	}
	got := Slots(o, CIEIssue, mon, nil, live, at(8, 30)) // 08:30 itself has begun
	want := []struct {
		start time.Time
		free  []int
	}{{at(8, 50), []int{}}, {at(9, 10), []int{1, 2}}, {at(14, 0), []int{1, 2}}, {at(14, 20), []int{1, 2}}, {at(14, 40), []int{1, 2}}}
	if len(got) != len(want) {
		t.Fatalf("slots %+v, want %d", got, len(want))
	}
	for i, w := range want {
		if !got[i].Start.Equal(w.start) || len(got[i].Free) != len(w.free) || got[i].Capacity != 2 {
			t.Errorf("slot %d: %+v, want %s free %v", i, got[i], w.start, w.free)
		}
	}
	if s := Slots(o, Residence, mon, nil, nil, at(0, 0)); s != nil {
		t.Errorf("a service the office does not book: %v", s)
	}
	closed := []Closure{{ID: "x", From: mon, To: mon, Reason: "Sciopero"}}
	if s := Slots(o, CIEIssue, mon, closed, nil, at(0, 0)); s != nil {
		t.Errorf("a closed day: %v", s)
	}
	if s := Slots(o, CIEIssue, registry.Date{Year: 2026, Month: time.December, Day: 8}, nil, nil, at(0, 0)); s != nil {
		t.Errorf("8 December, a Tuesday and a holiday: %v", s)
	}
}
