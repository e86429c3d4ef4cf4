package operators

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// Rome is the zone every opening time is in.
var Rome = protocol.Rome

// Interval is one opening span of a day, in minutes after midnight; Close
// may be 24:00. Spans across midnight are written as two days' spans.
type Interval struct {
	Open, Close int
}

// ParseInterval reads "HH:MM-HH:MM".
func ParseInterval(s string) (Interval, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Interval{}, fmt.Errorf("opening span %q must be written HH:MM-HH:MM", s)
	}
	open, err1 := parseClock(a)
	close, err2 := parseClock(b)
	if err := errors.Join(err1, err2); err != nil {
		return Interval{}, fmt.Errorf("opening span %q must be written HH:MM-HH:MM: %w", s, err)
	}
	iv := Interval{open, close}
	return iv, iv.validate()
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return hh*60 + mm, nil
}

func (iv Interval) validate() error {
	if iv.Open < 0 || iv.Close > 24*60 || iv.Open >= iv.Close {
		return fmt.Errorf("opening span %s must open before it closes, within one day", iv)
	}
	return nil
}

func (iv Interval) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", iv.Open/60, iv.Open%60, iv.Close/60, iv.Close%60)
}

// MarshalText writes "HH:MM-HH:MM".
func (iv Interval) MarshalText() ([]byte, error) { return []byte(iv.String()), nil }

// UnmarshalText reads "HH:MM-HH:MM".
func (iv *Interval) UnmarshalText(b []byte) error {
	got, err := ParseInterval(string(b))
	if err != nil {
		return err
	}
	*iv = got
	return nil
}

func (iv Interval) contains(minute int) bool { return minute >= iv.Open && minute < iv.Close }

// Week is the regular opening of each weekday; an empty day is closed.
type Week struct {
	Mon []Interval `json:"mon,omitempty"`
	Tue []Interval `json:"tue,omitempty"`
	Wed []Interval `json:"wed,omitempty"`
	Thu []Interval `json:"thu,omitempty"`
	Fri []Interval `json:"fri,omitempty"`
	Sat []Interval `json:"sat,omitempty"`
	Sun []Interval `json:"sun,omitempty"`
}

// On returns the spans of weekday d.
func (w *Week) On(d time.Weekday) []Interval { return *w.day(d) }

// Set replaces the spans of weekday d.
func (w *Week) Set(d time.Weekday, spans ...Interval) { *w.day(d) = spans }

func (w *Week) day(d time.Weekday) *[]Interval {
	switch d {
	case time.Monday:
		return &w.Mon
	case time.Tuesday:
		return &w.Tue
	case time.Wednesday:
		return &w.Wed
	case time.Thursday:
		return &w.Thu
	case time.Friday:
		return &w.Fri
	case time.Saturday:
		return &w.Sat
	default:
		return &w.Sun
	}
}

// Exception replaces the regular hours from From to To inclusive (To zero:
// one day): no spans means closed (holidays of the shop, works), spans mean
// special hours (open on a public holiday, shorter hours in August).
type Exception struct {
	From  registry.Date `json:"from"`
	To    registry.Date `json:"to,omitzero"`
	Spans []Interval    `json:"spans,omitempty"`
	Note  string        `json:"note,omitempty"`
}

func (e Exception) covers(d registry.Date) bool {
	to := e.To
	if to.IsZero() {
		to = e.From
	}
	return !d.Before(e.From) && !to.Before(d)
}

// Hours is when an operator serves the public.
type Hours struct {
	Week Week `json:"week"`
	// OpenOnHolidays keeps the regular hours on public holidays; most
	// shops and every registry office close.
	OpenOnHolidays bool        `json:"open_on_holidays,omitempty"`
	Exceptions     []Exception `json:"exceptions,omitempty"`
}

// Validate checks that every span is well formed and a day's spans do not
// overlap.
func (h *Hours) Validate() error {
	check := func(what string, spans []Interval) error {
		s := append([]Interval(nil), spans...)
		sort.Slice(s, func(i, j int) bool { return s[i].Open < s[j].Open })
		for i, iv := range s {
			if err := iv.validate(); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if i > 0 && s[i-1].Close > iv.Open {
				return fmt.Errorf("%s: opening spans %s and %s overlap", what, s[i-1], iv)
			}
		}
		return nil
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if err := check(d.String(), h.Week.On(d)); err != nil {
			return err
		}
	}
	for _, e := range h.Exceptions {
		if e.From.IsZero() {
			return errors.New("an exception to the opening hours has no start date")
		}
		if !e.To.IsZero() && e.To.Before(e.From) {
			return fmt.Errorf("the exception from %s ends on %s, before it starts", e.From, e.To)
		}
		if err := check("exception from "+e.From.String(), e.Spans); err != nil {
			return err
		}
	}
	return nil
}

// Day is the effective opening of one calendar day and why it differs from
// the regular week, if it does.
type Day struct {
	Date  registry.Date
	Spans []Interval
	Why   string // "" for regular hours; the holiday's name or the exception's note
}

// On returns the opening of date d in cal's holidays: an exception wins,
// then a public holiday (closed unless OpenOnHolidays), then the weekday.
func (h *Hours) On(d registry.Date, cal Calendar) Day {
	// The last matching exception wins, so a later entry can carve a day out
	// of a long closure.
	for i := len(h.Exceptions) - 1; i >= 0; i-- {
		if e := h.Exceptions[i]; e.covers(d) {
			why := e.Note
			if why == "" {
				why = "exception"
			}
			return Day{Date: d, Spans: e.Spans, Why: why}
		}
	}
	if name, ok := cal.Holiday(d); ok && !h.OpenOnHolidays {
		return Day{Date: d, Why: name}
	}
	return Day{Date: d, Spans: h.Week.On(d.Time().Weekday())}
}

// OpenAt reports whether the operator is open at instant t (read in Rome).
func (h *Hours) OpenAt(t time.Time, cal Calendar) bool {
	t = t.In(Rome)
	minute := t.Hour()*60 + t.Minute()
	for _, iv := range h.On(registry.DateOf(t), cal).Spans {
		if iv.contains(minute) {
			return true
		}
	}
	return false
}

// MonthDay is a fixed yearly date.
type MonthDay struct {
	Month time.Month `json:"month"`
	Day   int        `json:"day"`
	Name  string     `json:"name"`
}

// Calendar is the public holidays observed in a comune: the national ones
// (L. 260/1949 as amended, and Easter Monday) plus the patron saint's day.
type Calendar struct {
	Local []MonthDay
}

// Milan's calendar adds Sant'Ambrogio, 7 December.
var Milan = Calendar{Local: []MonthDay{{time.December, 7, "Sant'Ambrogio"}}}

// nationalHolidays are the fixed-date national holidays.
var nationalHolidays = []MonthDay{
	{time.January, 1, "Capodanno"},
	{time.January, 6, "Epifania"},
	{time.April, 25, "Festa della Liberazione"},
	{time.May, 1, "Festa del Lavoro"},
	{time.June, 2, "Festa della Repubblica"},
	{time.August, 15, "Ferragosto"},
	{time.November, 1, "Ognissanti"},
	{time.December, 8, "Immacolata Concezione"},
	{time.December, 25, "Natale"},
	{time.December, 26, "Santo Stefano"},
}

// Holiday reports whether d is a public holiday and its name.
func (c Calendar) Holiday(d registry.Date) (string, bool) {
	for _, list := range [][]MonthDay{nationalHolidays, c.Local} {
		for _, h := range list {
			if h.Month == d.Month && h.Day == d.Day {
				return h.Name, true
			}
		}
	}
	// 4 October (San Francesco) is a national holiday again from 2026
	// (L. 151/2025).
	if d.Year >= 2026 && d.Month == time.October && d.Day == 4 {
		return "San Francesco d'Assisi", true
	}
	easter := Easter(d.Year)
	if d == easter {
		return "Pasqua", true
	}
	if d == registry.DateOf(easter.Time().AddDate(0, 0, 1)) {
		return "Lunedì dell'Angelo", true
	}
	return "", false
}

// Easter is Easter Sunday of the Gregorian year y, by the anonymous
// Gregorian computus (Meeus/Jones/Butcher).
func Easter(y int) registry.Date {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return registry.Date{Year: y, Month: time.Month(month), Day: day}
}

type exceptionJSON struct {
	From  string     `json:"from"`
	To    string     `json:"to,omitempty"`
	Spans []Interval `json:"spans,omitempty"`
	Note  string     `json:"note,omitempty"`
}

// MarshalJSON writes dates as YYYY-MM-DD, the form maps and kiosks read.
func (e Exception) MarshalJSON() ([]byte, error) {
	return json.Marshal(exceptionJSON{From: e.From.String(), To: e.To.String(), Spans: e.Spans, Note: e.Note})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Exception) UnmarshalJSON(b []byte) error {
	var j exceptionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	from, err := registry.ParseDate(j.From)
	if err != nil {
		return fmt.Errorf("exception start: %w", err)
	}
	var to registry.Date
	if j.To != "" {
		if to, err = registry.ParseDate(j.To); err != nil {
			return fmt.Errorf("exception end: %w", err)
		}
	}
	*e = Exception{From: from, To: to, Spans: j.Spans, Note: j.Note}
	return nil
}

var dayNames = map[string]time.Weekday{
	"mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday, "sun": time.Sunday,
	"lun": time.Monday, "mar": time.Tuesday, "mer": time.Wednesday, "gio": time.Thursday,
	"ven": time.Friday, "sab": time.Saturday, "dom": time.Sunday,
}

// ParseWeek reads opening hours as staff type them on the command line:
// "mon-fri 07:00-12:30 15:00-19:00; sat 07:30-13:00". Days are English or
// Italian three-letter names; a range runs Monday to Sunday; a day not
// named is closed.
func ParseWeek(s string) (Week, error) {
	var w Week
	for _, part := range strings.Split(s, ";") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 {
			return Week{}, fmt.Errorf("%w: %q names days but no opening spans", ErrInvalid, strings.TrimSpace(part))
		}
		days, err := parseDays(fields[0])
		if err != nil {
			return Week{}, err
		}
		var spans []Interval
		for _, f := range fields[1:] {
			iv, err := ParseInterval(f)
			if err != nil {
				return Week{}, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			spans = append(spans, iv)
		}
		for _, d := range days {
			w.Set(d, spans...)
		}
	}
	h := Hours{Week: w}
	if err := h.Validate(); err != nil {
		return Week{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return w, nil
}

func parseDays(s string) ([]time.Weekday, error) {
	day := func(n string) (time.Weekday, error) {
		d, ok := dayNames[strings.ToLower(n)]
		if !ok {
			return 0, fmt.Errorf("%w: %q is not a day; use mon, tue, wed, thu, fri, sat, sun", ErrInvalid, n)
		}
		return d, nil
	}
	var out []time.Weekday
	for _, item := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(item, "-")
		from, err := day(a)
		if err != nil {
			return nil, err
		}
		if !isRange {
			out = append(out, from)
			continue
		}
		to, err := day(b)
		if err != nil {
			return nil, err
		}
		// Count from Monday so "mon-sun" is the whole week.
		idx := func(d time.Weekday) int { return (int(d) + 6) % 7 }
		if idx(to) < idx(from) {
			return nil, fmt.Errorf("%w: the day range %q runs backwards; weeks start on Monday", ErrInvalid, item)
		}
		for i := idx(from); i <= idx(to); i++ {
			out = append(out, time.Weekday((i+1)%7))
		}
	}
	return out, nil
}
