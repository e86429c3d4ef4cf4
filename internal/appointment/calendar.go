package appointment

import (
	"slices"
	"time"

	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

// ClosedOn says why office is closed on day, if it is: a national
// holiday (the one calendar of them, operators.Calendar's, which shops'
// opening hours use too) or one of closures. A city's patron saint is not
// a national holiday: it is a closure the city enters.
func ClosedOn(office string, day registry.Date, closures []Closure) (string, bool) {
	if n, ok := (operators.Calendar{}).Holiday(day); ok {
		return n, true
	}
	for i := range closures {
		if closures[i].Covers(office, day) {
			return closures[i].Reason, true
		}
	}
	return "", false
}

// Starts are the starts of cal's slots on day (in Rome), ignoring
// closures: from each opening period's start, every Minutes while a whole
// slot fits before its end.
func (cal Calendar) Starts(day registry.Date) []time.Time {
	var out []time.Time
	wd := day.Time().Weekday()
	for _, h := range cal.Hours {
		if h.Weekday != wd {
			continue
		}
		from, err1 := minutes(h.From)
		to, err2 := minutes(h.To)
		if err1 != nil || err2 != nil {
			continue
		}
		for m := from; m+cal.Minutes <= to; m += cal.Minutes {
			out = append(out, time.Date(day.Year, day.Month, day.Day, m/60, m%60, 0, 0, Rome))
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return slices.CompactFunc(out, time.Time.Equal)
}

// Slot is one bookable time of a service at an office.
type Slot struct {
	Start   time.Time `json:"start"`
	Minutes int       `json:"minutes"`
	// Free are the counters not yet booked, lowest first; Capacity is all
	// the calendar's counters.
	Free     []int `json:"free"`
	Capacity int   `json:"capacity"`
}

// Slots are service k's slots at o on day, each with its free counters:
// none when the office is closed (ClosedOn) or does not book k, and only
// those starting after now. live are the office's live bookings of the
// day (Tx.Day).
func Slots(o *Office, k ServiceKind, day registry.Date, closures []Closure, live []Booking, now time.Time) []Slot {
	cal, ok := o.Calendar(k)
	if !ok {
		return nil
	}
	if _, closed := ClosedOn(o.ID, day, closures); closed {
		return nil
	}
	taken := map[int64]map[int]bool{}
	for _, b := range live {
		if !b.State.Live() || b.OfficeID != o.ID {
			continue
		}
		s := b.Start.UnixNano()
		if taken[s] == nil {
			taken[s] = map[int]bool{}
		}
		taken[s][b.Counter] = true
	}
	counters := slices.Clone(cal.Counters)
	slices.Sort(counters)
	var out []Slot
	for _, st := range cal.Starts(day) {
		if !st.After(now) {
			continue
		}
		s := Slot{Start: st, Minutes: cal.Minutes, Capacity: len(counters), Free: []int{}}
		for _, c := range counters {
			if !taken[st.UnixNano()][c] {
				s.Free = append(s.Free, c)
			}
		}
		out = append(out, s)
	}
	return out
}
