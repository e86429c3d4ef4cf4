package kiosk

import (
	"time"

	"github.com/sportello/sportello/internal/protocol"
)

// GreetingKey is the catalogue key of the greeting for the hour t reads on
// a clock in Rome, whatever zone the kiosk's system is set to: "Buongiorno"
// from 05:00 until lunch is over (12:59), "Buon pomeriggio" from 13:00 to
// 17:59, "Buonasera" from 18:00 through the night. English follows the
// same hours ("Good morning/afternoon/evening"): one rule, so a citizen
// who switches language is not greeted for another part of the day.
func GreetingKey(t time.Time) string {
	switch h := t.In(protocol.Rome).Hour(); {
	case h >= 5 && h < 13:
		return "choose_hello_morning"
	case h >= 13 && h < 18:
		return "choose_hello_afternoon"
	}
	return "choose_hello_evening"
}
