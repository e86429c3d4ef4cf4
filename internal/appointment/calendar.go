package appointment

import (
	"slices"
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// Holiday returns the name of the Italian national holiday on day, if it
// is one: the civil holidays of L. 260/1949 as amended by L. 54/1977 and
// DPR 792/1985 (Epiphany restored), 2 June restored by L. 336/2000, the
// religious feasts of the 1985 Concordat (L. 121/1985) with Easter Monday,
// and 4 October (St Francis of Assisi, patron saint of Italy) restored as
// a holiday from 2026 by L. 8.10.2025 n. 151. A city's patron saint is not here:
// it is a closure the city enters.
func Holiday(day registry.Date) (string, bool) {
	fixed := map[[2]int]string{
		{1, 1}:   "Capodanno",
		{1, 6}:   "Epifania",
		{4, 25}:  "Festa della Liberazione",
		{5, 1}:   "Festa del Lavoro",
		{6, 2}:   "Festa della Repubblica",
		{8, 15}:  "Assunzione",
		{11, 1}:  "Ognissanti",
		{12, 8}:  "Immacolata Concezione",
		{12, 25}: "Natale",
		{12, 26}: "Santo Stefano",
	}
	if n, ok := fixed[[2]int{int(day.Month), day.Day}]; ok {
		return n, true
	}
	if day.Year >= 2026 && day.Month == time.October && day.Day == 4 {
		return "San Francesco d'Assisi", true
	}
	easter := Easter(day.Year)
	if day == easter {
		return "Pasqua", true
	}
	if day == registry.DateOf(easter.Time().AddDate(0, 0, 1)) {
		return "Lunedì dell'Angelo", true
	}
	return "", false
}

// Easter is Easter Sunday of year in the Gregorian calendar (the
// anonymous Gregorian computus, Meeus/Jones/Butcher).
func Easter(year int) registry.Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	dd := (h+l-7*m+114)%31 + 1
	return registry.Date{Year: year, Month: time.Month(month), Day: dd}
}

// ClosedOn says why office is closed on day, if it is: a national
// holiday or one of closures.
func ClosedOn(office string, day registry.Date, closures []Closure) (string, bool) {
	if n, ok := Holiday(day); ok {
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
