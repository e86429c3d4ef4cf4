package pdf

import (
	"strconv"
	"strings"
)

// Euro formats integer cents the Italian way: "16,00 €", "1.234,56 €".
func Euro(cents int64) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	units := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	frac := cents % 100
	b.WriteByte(',')
	b.WriteByte(byte('0' + frac/10))
	b.WriteByte(byte('0' + frac%10))
	b.WriteString(" €")
	return b.String()
}
