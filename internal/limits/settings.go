package limits

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by the errors of bad settings.
var ErrInvalid = errors.New("invalid limit setting")

// Settings are the city's thresholds. A zero field is unset and stands for
// the default (Or), so a field never set follows the defaults as they
// change. Rates are requests a minute; windows are minutes; night hours
// are 1–24 (24 is midnight), read in Europe/Rome.
type Settings struct {
	DeviceRate  int `json:"device_rate,omitempty"`
	ClerkRate   int `json:"clerk_rate,omitempty"`
	ShopRate    int `json:"shop_rate,omitempty"`
	DeviceDaily int `json:"device_daily,omitempty"`
	ClerkDaily  int `json:"clerk_daily,omitempty"`
	ShopDaily   int `json:"shop_daily,omitempty"`

	FloodWindow  int `json:"flood_window,omitempty"`
	FloodAlert   int `json:"flood_alert,omitempty"`
	FloodSuspend int `json:"flood_suspend,omitempty"`

	RepeatWindow  int `json:"repeat_window,omitempty"`
	RepeatAlert   int `json:"repeat_alert,omitempty"`
	RepeatSuspend int `json:"repeat_suspend,omitempty"`

	NightFrom    int `json:"night_from,omitempty"`
	NightTo      int `json:"night_to,omitempty"`
	NightAlert   int `json:"night_alert,omitempty"`
	NightSuspend int `json:"night_suspend,omitempty"`

	RefusalWindow  int `json:"refusal_window,omitempty"`
	RefusalMin     int `json:"refusal_min,omitempty"`
	RefusalAlert   int `json:"refusal_alert,omitempty"`
	RefusalSuspend int `json:"refusal_suspend,omitempty"`
}

// Field is one setting: its name (the `hub city set --limit-NAME` flag and
// the console's form field), what it means, its bounds and its default.
type Field struct {
	Name    string
	Help    string
	Min     int
	Max     int
	Default int
	at      func(*Settings) *int
}

// Fields lists every setting, in the order the console and `hub city show`
// print them. The defaults suit a shop counter: a clerk serves a citizen
// every minute or two, so 20 requests a minute from one till is already
// far more than a queue of people, and 300 a day is a busy day's work.
func Fields() []Field {
	return []Field{
		{"device-rate", "requests a minute one device may send (a token bucket holding a minute's worth)", 1, 10000, 20, func(s *Settings) *int { return &s.DeviceRate }},
		{"clerk-rate", "requests a minute one named clerk may send, on any device", 1, 10000, 20, func(s *Settings) *int { return &s.ClerkRate }},
		{"shop-rate", "requests a minute all the devices of one shop may send together", 1, 100000, 60, func(s *Settings) *int { return &s.ShopRate }},
		{"device-daily", "requests one device may send in a day (Europe/Rome)", 1, 1000000, 300, func(s *Settings) *int { return &s.DeviceDaily }},
		{"clerk-daily", "requests one named clerk may send in a day", 1, 1000000, 300, func(s *Settings) *int { return &s.ClerkDaily }},
		{"shop-daily", "requests one shop may send in a day", 1, 1000000, 1000, func(s *Settings) *int { return &s.ShopDaily }},
		{"flood-window", "minutes over which a device's rate-limited requests are counted", 1, 1440, 10, func(s *Settings) *int { return &s.FloodWindow }},
		{"flood-alert", "rate-limited requests in the flood window that raise an alert", 1, 100000, 10, func(s *Settings) *int { return &s.FloodAlert }},
		{"flood-suspend", "rate-limited requests in the flood window that suspend the device", 1, 100000, 50, func(s *Settings) *int { return &s.FloodSuspend }},
		{"repeat-window", "minutes over which requests about one subject are counted across a shop's devices", 1, 10080, 60, func(s *Settings) *int { return &s.RepeatWindow }},
		{"repeat-alert", "requests about the same subject in the repeat window that raise an alert", 1, 10000, 5, func(s *Settings) *int { return &s.RepeatAlert }},
		{"repeat-suspend", "requests about the same subject in the repeat window that suspend the device", 1, 10000, 15, func(s *Settings) *int { return &s.RepeatSuspend }},
		{"night-from", "hour the night starts (1-24, 24 is midnight)", 1, 24, 22, func(s *Settings) *int { return &s.NightFrom }},
		{"night-to", "hour the night ends (1-24, 24 is midnight)", 1, 24, 6, func(s *Settings) *int { return &s.NightTo }},
		{"night-alert", "requests from one device in one night that raise an alert", 1, 100000, 20, func(s *Settings) *int { return &s.NightAlert }},
		{"night-suspend", "requests from one device in one night that suspend it", 1, 100000, 60, func(s *Settings) *int { return &s.NightSuspend }},
		{"refusal-window", "minutes over which a device's refused requests are weighed against its requests", 1, 10080, 60, func(s *Settings) *int { return &s.RefusalWindow }},
		{"refusal-min", "requests in the refusal window before the refusal ratio counts", 1, 100000, 20, func(s *Settings) *int { return &s.RefusalMin }},
		{"refusal-alert", "percentage of refused requests that raises an alert", 1, 100, 50, func(s *Settings) *int { return &s.RefusalAlert }},
		{"refusal-suspend", "percentage of refused requests that suspends the device", 1, 100, 80, func(s *Settings) *int { return &s.RefusalSuspend }},
	}
}

// Defaults are the settings every Field's default gives.
func Defaults() Settings {
	var s Settings
	for _, f := range Fields() {
		*f.at(&s) = f.Default
	}
	return s
}

// field finds a setting by name.
func field(name string) (Field, bool) {
	for _, f := range Fields() {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Get is the value of the named setting (0 when unset or unknown).
func (s Settings) Get(name string) int {
	f, ok := field(name)
	if !ok {
		return 0
	}
	return *f.at(&s)
}

// Set sets the named setting, within its bounds.
func (s *Settings) Set(name string, v int) error {
	f, ok := field(name)
	if !ok {
		return fmt.Errorf("%w: there is no limit called %q", ErrInvalid, name)
	}
	if v < f.Min || v > f.Max {
		return fmt.Errorf("%w: the limit %s (%s) must be between %d and %d", ErrInvalid, f.Name, f.Help, f.Min, f.Max)
	}
	*f.at(s) = v
	return nil
}

// Or is s with each unset field taken from d.
func (s Settings) Or(d Settings) Settings {
	for _, f := range Fields() {
		if p := f.at(&s); *p == 0 {
			*p = *f.at(&d)
		}
	}
	return s
}

// Effective is s with each unset field taken from Defaults.
func (s Settings) Effective() Settings { return s.Or(Defaults()) }

// IsZero reports whether nothing is set (for JSON's omitzero).
func (s Settings) IsZero() bool { return s == Settings{} }

// Validate checks settings as they will be in force: every field within
// its bounds, and each second threshold above the first, or the alert
// would never come before the suspension.
func (s Settings) Validate() error {
	for _, f := range Fields() {
		if v := *f.at(&s); v != 0 && (v < f.Min || v > f.Max) {
			return fmt.Errorf("%w: the limit %s must be between %d and %d", ErrInvalid, f.Name, f.Min, f.Max)
		}
	}
	e := s.Effective()
	var bad []string
	for _, p := range []struct {
		name           string
		alert, suspend int
	}{{"flood", e.FloodAlert, e.FloodSuspend}, {"repeat", e.RepeatAlert, e.RepeatSuspend},
		{"night", e.NightAlert, e.NightSuspend}, {"refusal", e.RefusalAlert, e.RefusalSuspend}} {
		if p.suspend <= p.alert {
			bad = append(bad, fmt.Sprintf("%s-suspend (%d) must be above %s-alert (%d)", p.name, p.suspend, p.name, p.alert))
		}
	}
	if e.NightFrom%24 == e.NightTo%24 {
		bad = append(bad, "the night must start and end at different hours")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(bad, "; "))
	}
	return nil
}
