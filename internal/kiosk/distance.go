package kiosk

import (
	"fmt"
	"strings"
)

// Distance is how far a place is, as a citizen reads it: from 1 km in
// kilometres with one decimal in the language's notation ("1,3 km",
// "1.3 km"); nearer, in metres rounded to ten ("450 m"), as walking
// distances are read on street signs and maps. The hub measures a
// straight line, not a route, so more precision would claim what it does
// not know.
func Distance(m int, lang Lang) string {
	if r := roundedMetres(m); r < 1000 {
		return fmt.Sprintf("%d m", r)
	}
	return Kilometres(m, lang) + " km"
}

// roundedMetres is m to the nearest ten metres.
func roundedMetres(m int) int { return (m + 5) / 10 * 10 }

// Kilometres is m in kilometres with one decimal, rounded half up, with
// the language's decimal separator: 1250 m is "1,3" in Italian, "1.3" in
// English.
func Kilometres(m int, lang Lang) string {
	tenths := (m + 50) / 100
	s := fmt.Sprintf("%d.%d", tenths/10, tenths%10)
	if lang == Italian {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
