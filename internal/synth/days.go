package synth

import (
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// Dates are handled as day numbers (days since 1970-01-01) while generating:
// adding years and drawing a random day is then integer arithmetic, with no
// time.Time built per person. The conversions are Howard Hinnant's
// civil-from-days algorithms for the proleptic Gregorian calendar.

type day int32

func dayOf(d registry.Date) day {
	y, m := d.Year, int(d.Month)
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return day(era*146097 + doe - 719468)
}

func (n day) date() registry.Date {
	z := int(n) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return registry.Date{Year: y, Month: time.Month(m), Day: d}
}

func (n day) time() time.Time { return time.Unix(int64(n)*86400, 0).UTC() }

// addYears returns the same calendar day years later; 29 February becomes
// 1 March in a common year, as Italian offices compute anniversaries.
func (n day) addYears(years int) day {
	d := n.date()
	d.Year += years
	if d.Month == time.February && d.Day == 29 && !leap(d.Year) {
		d.Month, d.Day = time.March, 1
	}
	return dayOf(d)
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

const daysPerYear = 365.2425

func ymd(y int, m time.Month, d int) day { return dayOf(registry.Date{Year: y, Month: m, Day: d}) }
