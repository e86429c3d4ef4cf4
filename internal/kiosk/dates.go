package kiosk

import (
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/registry"
)

// dayLayouts are the ways a date may be typed: as Italians write it, day
// first (28/11/1961, 28.11.1961, 28-11-1961, one-digit day and month too),
// and the ISO form the hub speaks (1961-11-28). A four-digit year is
// required: "28/11/61" could be 1961 or 2061.
var dayLayouts = []string{"2006-01-02", "2/1/2006", "2.1.2006", "2-1-2006"}

// ParseDay reads a date typed on a kiosk screen.
func ParseDay(s string) (registry.Date, error) {
	s = strings.Join(strings.Fields(s), "")
	for _, l := range dayLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return registry.DateOf(t), nil
		}
	}
	return registry.Date{}, fmt.Errorf("%q is not a date written as dd/mm/yyyy (or yyyy-mm-dd)", s)
}
