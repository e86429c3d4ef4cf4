package limits_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/limits/limitstest"
	"github.com/sportello/sportello/internal/operators"
)

// clock is the injected time: tests move it, nothing sleeps.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func rome(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, operators.Rome)
}

// guard returns a Guard on a memory store with the defaults changed by set,
// at Friday 4 December 2026, 10:00 in Rome.
func guard(t *testing.T, set limits.Settings) (*limits.Guard, *clock, *limitstest.Memory) {
	t.Helper()
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	c := &clock{rome(2026, time.December, 4, 10, 0)}
	st := limitstest.NewMemory()
	return &limits.Guard{Store: st, Now: c.now, Settings: func() (limits.Settings, error) { return set, nil }}, c, st
}

func check(t *testing.T, g *limits.Guard, r limits.Request) limits.Decision {
	t.Helper()
	d, err := g.Check(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var dev = limits.Request{Device: "dev-a", Shop: "op-1"}

func TestMemoryStore(t *testing.T) {
	limitstest.Run(t, func(*testing.T) limits.Store { return limitstest.NewMemory() }, nil)
}

func TestRateLimitPerDeviceWithRetryAfter(t *testing.T) {
	g, c, _ := guard(t, limits.Settings{DeviceRate: 3})
	for i := range 3 {
		if d := check(t, g, dev); !d.Allowed() {
			t.Fatalf("request %d refused: %+v", i+1, d)
		}
	}
	d := check(t, g, dev)
	if d.Reason != limits.ReasonRateLimited || d.RetryAfter != 20*time.Second {
		t.Fatalf("the 4th request in a minute at 3 a minute: %+v, want rate_limited, retry after 20 s", d)
	}
	// Another device of the same shop has its own bucket.
	if d := check(t, g, limits.Request{Device: "dev-b", Shop: "op-1"}); !d.Allowed() {
		t.Fatalf("another device was limited by the first one's bucket: %+v", d)
	}
	c.add(19 * time.Second)
	if d := check(t, g, dev); d.Reason != limits.ReasonRateLimited || d.RetryAfter != time.Second {
		t.Fatalf("19 s later: %+v, want one more second", d)
	}
	c.add(time.Second)
	if d := check(t, g, dev); !d.Allowed() {
		t.Fatalf("after the wait: %+v", d)
	}
}

func TestRateLimitPerShopAndClerk(t *testing.T) {
	g, _, _ := guard(t, limits.Settings{ShopRate: 2, ClerkRate: 1})
	if d := check(t, g, limits.Request{Device: "dev-a", Shop: "op-1", Clerk: "RSSMRA50B17A558W"}); !d.Allowed() {
		t.Fatal(d)
	}
	// The same clerk on another device of the shop: the clerk's bucket.
	if d := check(t, g, limits.Request{Device: "dev-b", Shop: "op-1", Clerk: "RSSMRA50B17A558W"}); d.Reason != limits.ReasonRateLimited || d.RetryAfter != time.Minute {
		t.Fatalf("the clerk's second request at 1 a minute: %+v", d)
	}
	if d := check(t, g, limits.Request{Device: "dev-b", Shop: "op-1"}); !d.Allowed() {
		t.Fatal(d)
	}
	if d := check(t, g, limits.Request{Device: "dev-c", Shop: "op-1"}); d.Reason != limits.ReasonRateLimited {
		t.Fatalf("the shop's third request at 2 a minute, from a third device: %+v", d)
	}
	if d := check(t, g, limits.Request{Device: "dev-z", Shop: "op-2"}); !d.Allowed() {
		t.Fatalf("another shop: %+v", d)
	}
}

func TestFloodAlertsThenSuspendsAndReinstateResets(t *testing.T) {
	g, _, st := guard(t, limits.Settings{DeviceRate: 2, FloodAlert: 3, FloodSuspend: 6})
	var alerts []limits.Alert
	var last limits.Decision
	n := 0
	for ; n < 50 && !last.Suspend; n++ {
		last = check(t, g, dev)
		alerts = append(alerts, last.Alerts...)
		if len(alerts) == 0 && n >= 2+3 {
			t.Fatalf("request %d: no alert after 3 rate-limited requests", n+1)
		}
	}
	// 2 admitted, then rate-limited: the 3rd refusal alerts, the 6th suspends.
	if n != 2+6 || last.Reason != limits.ReasonDeviceSuspended {
		t.Fatalf("suspended after %d requests with %+v, want after 8 with device_suspended", n, last)
	}
	if len(alerts) != 2 || alerts[0].Level != limits.LevelAlert || alerts[0].Figure != 3 || alerts[1].Level != limits.LevelSuspend || alerts[1].Figure != 6 || alerts[0].ID != alerts[1].ID {
		t.Fatalf("alerts: %+v, want one alert raised at 3 then escalated to suspension at 6", alerts)
	}
	if _, err := g.Reinstate(context.Background(), "dev-a", "staff:rossi", ""); !errors.Is(err, limits.ErrInvalid) {
		t.Fatalf("a review without a note: %v", err)
	}
	closed, err := g.Reinstate(context.Background(), "dev-a", "staff:rossi", "the shop's test script, stopped")
	if err != nil || len(closed) != 1 || closed[0].Review.Note == "" {
		t.Fatalf("reinstate: %+v %v", closed, err)
	}
	// The device starts again with a full bucket and nothing counted.
	if d := check(t, g, dev); !d.Allowed() || len(d.Alerts) != 0 {
		t.Fatalf("after the review: %+v", d)
	}
	all, _ := st.Alerts(context.Background())
	if len(all) != 1 || all[0].Open() {
		t.Fatalf("stored alerts: %+v", all)
	}
}

func TestDailyCapUntilRomeMidnight(t *testing.T) {
	g, c, _ := guard(t, limits.Settings{DeviceDaily: 2})
	c.t = rome(2026, time.December, 4, 23, 30)
	check(t, g, dev)
	check(t, g, dev)
	d := check(t, g, dev)
	if d.Reason != limits.ReasonDailyCap || d.RetryAfter != 30*time.Minute {
		t.Fatalf("the third request with a cap of 2: %+v, want daily_cap_reached until midnight in Rome", d)
	}
	c.add(30 * time.Minute)
	if d := check(t, g, dev); !d.Allowed() {
		t.Fatalf("the next day: %+v", d)
	}
}

func TestOpeningHoursBindIssuanceOnly(t *testing.T) {
	g, c, _ := guard(t, limits.Settings{})
	h := &operators.Hours{}
	h.Week.Set(time.Friday, operators.Interval{Open: 9 * 60, Close: 13 * 60})
	h.Week.Set(time.Monday, operators.Interval{Open: 15 * 60, Close: 19 * 60}, operators.Interval{Open: 8 * 60, Close: 12 * 60})
	issue := limits.Request{Device: "dev-a", Shop: "op-1", Issuance: true, Hours: h, Calendar: operators.Milan}
	if d := check(t, g, issue); !d.Allowed() {
		t.Fatalf("Friday 10:00, open 9-13: %+v", d)
	}
	c.t = rome(2026, time.December, 4, 13, 0)
	d := check(t, g, issue)
	// Monday 7 December is Sant'Ambrogio in Milan: the next opening is
	// Friday 11 at 9:00.
	want := rome(2026, time.December, 11, 9, 0)
	if d.Reason != limits.ReasonOutsideHours || d.RetryAfter != want.Sub(c.t) {
		t.Fatalf("Friday 13:00: %+v, want outside_opening_hours until %s", d, want)
	}
	// A week later Monday is a working day, and its earlier span counts
	// however the spans were listed.
	c.t = rome(2026, time.December, 11, 13, 0)
	want = rome(2026, time.December, 14, 8, 0)
	if d := check(t, g, issue); d.Reason != limits.ReasonOutsideHours || d.RetryAfter != want.Sub(c.t) {
		t.Fatalf("Friday 11 at 13:00: %+v, want outside_opening_hours until %s", d, want)
	}
	lookup := issue
	lookup.Issuance = false
	if d := check(t, g, lookup); !d.Allowed() {
		t.Fatalf("a look-up while closed: %+v", d)
	}
	always := &operators.Hours{OpenOnHolidays: true}
	for day := time.Sunday; day <= time.Saturday; day++ {
		always.Week.Set(day, operators.Interval{Open: 0, Close: 24 * 60})
	}
	c.t = rome(2026, time.December, 8, 3, 0)
	self := issue
	self.Hours = always
	if d := check(t, g, self); !d.Allowed() {
		t.Fatalf("a 24-hour self-service kiosk on a holiday at 3:00: %+v", d)
	}
}

func TestRepeatedSubjectAcrossTheShopsDevices(t *testing.T) {
	g, c, st := guard(t, limits.Settings{RepeatAlert: 3, RepeatSuspend: 5, RepeatWindow: 60})
	ask := func(device, subject string) limits.Decision {
		return check(t, g, limits.Request{Device: device, Shop: "op-1", Subject: subject})
	}
	ask("dev-a", "RSSMRA50B17A558W")
	ask("dev-b", "RSSMRA50B17A558W")
	ask("dev-a", "VRDGPP80A01F205X") // another subject counts apart
	if d := ask("dev-c", "RSSMRA50B17A558W"); len(d.Alerts) != 1 || d.Alerts[0].Kind != limits.RepeatedSubject || d.Alerts[0].Device != "dev-c" || d.Suspend {
		t.Fatalf("the third request about one subject in the shop: %+v, want an alert on the device that made it", d)
	}
	// Another shop asking about the same person is not this shop's pattern.
	if d := check(t, g, limits.Request{Device: "dev-z", Shop: "op-2", Subject: "RSSMRA50B17A558W"}); len(d.Alerts) != 0 {
		t.Fatalf("another shop: %+v", d)
	}
	c.add(61 * time.Minute)
	if d := ask("dev-c", "RSSMRA50B17A558W"); len(d.Alerts) != 0 {
		t.Fatalf("after the window: %+v", d)
	}
	ask("dev-c", "RSSMRA50B17A558W")
	ask("dev-c", "RSSMRA50B17A558W")
	ask("dev-c", "RSSMRA50B17A558W")
	if d := ask("dev-c", "RSSMRA50B17A558W"); !d.Suspend || d.Reason != limits.ReasonDeviceSuspended {
		t.Fatalf("the fifth in the window: %+v, want the device suspended", d)
	}
	all, _ := st.Alerts(context.Background())
	if len(all) != 1 || all[0].Level != limits.LevelSuspend || all[0].Figure != 5 {
		t.Fatalf("alerts: %+v", all)
	}
}

func TestNightBurst(t *testing.T) {
	g, c, _ := guard(t, limits.Settings{NightFrom: 22, NightTo: 6, NightAlert: 3, NightSuspend: 5, DeviceRate: 1000, ShopRate: 1000})
	for range 10 { // daytime requests do not count
		check(t, g, dev)
	}
	c.t = rome(2026, time.December, 4, 23, 0)
	check(t, g, dev)
	c.t = rome(2026, time.December, 5, 1, 0) // the same night, after midnight
	check(t, g, dev)
	d := check(t, g, dev)
	if len(d.Alerts) != 1 || d.Alerts[0].Kind != limits.NightBurst || d.Alerts[0].Figure != 3 {
		t.Fatalf("the third request of the night: %+v", d)
	}
	c.t = rome(2026, time.December, 5, 22, 30) // the next night starts from zero
	if d := check(t, g, dev); len(d.Alerts) != 0 || !d.Allowed() {
		t.Fatalf("the next night: %+v", d)
	}
}

func TestRefusalRatio(t *testing.T) {
	g, _, _ := guard(t, limits.Settings{RefusalMin: 10, RefusalAlert: 50, RefusalSuspend: 80})
	ctx := context.Background()
	out := func(refused bool) limits.Decision {
		d, err := g.Outcome(ctx, dev, refused)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for range 9 { // all refused, but fewer than the minimum
		if d := out(true); len(d.Alerts) != 0 {
			t.Fatalf("below the minimum: %+v", d)
		}
	}
	if d := out(true); !d.Suspend || d.Alerts[0].Kind != limits.RefusalRatio || d.Alerts[0].Figure != 100 {
		t.Fatalf("10 refused of 10: %+v, want suspension", d)
	}
	g2, _, _ := guard(t, limits.Settings{RefusalMin: 10, RefusalAlert: 50, RefusalSuspend: 80})
	var d limits.Decision
	for i := range 10 {
		d, _ = g2.Outcome(ctx, dev, i%2 == 0)
	}
	if len(d.Alerts) != 1 || d.Alerts[0].Level != limits.LevelAlert || d.Alerts[0].Figure != 50 || d.Suspend {
		t.Fatalf("5 refused of 10: %+v, want an alert only", d)
	}
}

func TestSettings(t *testing.T) {
	var s limits.Settings
	if err := s.Set("flood-alert", 60); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); !errors.Is(err, limits.ErrInvalid) {
		t.Fatalf("an alert above the default suspension (50): %v", err)
	}
	if err := s.Set("device-rate", 0); !errors.Is(err, limits.ErrInvalid) {
		t.Fatalf("a rate of 0: %v", err)
	}
	if err := s.Set("no-such", 1); !errors.Is(err, limits.ErrInvalid) {
		t.Fatalf("an unknown limit: %v", err)
	}
	if e := s.Effective(); e.FloodAlert != 60 || e.DeviceRate != limits.Defaults().DeviceRate {
		t.Fatalf("effective: %+v", e)
	}
}
