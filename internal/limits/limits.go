// Package limits keeps a shop's devices within what a counter plausibly
// does: request-rate limits per device, per named clerk and per shop, daily
// caps, issuance only within the shop's opening hours, and anomaly flags —
// a flood of rate-limited requests, the same subject asked about again and
// again across a shop's devices, bursts at night, a high share of refused
// requests. Each flag has two thresholds, set by the city: the first
// raises an alert for staff, the second also suspends the device until
// staff review it.
//
// A shop device that was tried as an attacker would mapped the registry
// with 400 refused requests in 15 seconds: these limits make that slow,
// visible and, past the second threshold, impossible from that device.
//
// It is pure domain: no HTTP, no storage engine. Alerts and daily counts
// live in a Store (bbolt in package limitsbolt), so they survive a
// restart; the rate buckets and the flags' windows are kept in memory by
// the Guard and start again empty when the hub restarts (a restart gives
// a flooding device one more minute's worth of requests, no more).
package limits

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/registry"
)

// Reason codes of the refusals the Guard decides.
const (
	ReasonRateLimited     = "rate_limited"          // too many requests now: retry after the wait
	ReasonDailyCap        = "daily_cap_reached"     // the day's cap: nothing more until tomorrow
	ReasonOutsideHours    = "outside_opening_hours" // issuance while the shop is closed
	ReasonDeviceSuspended = "device_suspended"      // past a second threshold: staff must review
)

// Reasons lists every refusal reason, for counters that list zeros too.
func Reasons() []string {
	return []string{ReasonDailyCap, ReasonDeviceSuspended, ReasonOutsideHours, ReasonRateLimited}
}

// Kind is what an alert is about.
type Kind string

// Alert kinds.
const (
	Flood           Kind = "flood"            // rate-limited requests from one device
	RepeatedSubject Kind = "repeated_subject" // one subject asked about across a shop's devices
	NightBurst      Kind = "night_burst"      // requests from one device at night
	RefusalRatio    Kind = "refusal_ratio"    // share of a device's requests the hub refused
)

// Kinds lists every kind.
func Kinds() []Kind { return []Kind{Flood, NightBurst, RefusalRatio, RepeatedSubject} }

// Level is how far past its thresholds an alert went.
type Level string

// Levels.
const (
	LevelAlert   Level = "alert"   // first threshold: staff look
	LevelSuspend Level = "suspend" // second threshold: the device is suspended
)

// Alert is one breach, as staff review it.
type Alert struct {
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	Level  Level  `json:"level"`
	Device string `json:"device"`
	Shop   string `json:"shop"`
	Clerk  string `json:"clerk,omitempty"`
	// Figure is what was measured (requests, or a percentage for
	// RefusalRatio) against Threshold, the threshold it reached.
	Figure    int `json:"figure"`
	Threshold int `json:"threshold"`
	// Window is the span the figure was counted over, in minutes.
	Window  int       `json:"window_minutes"`
	Raised  time.Time `json:"raised"`
	Updated time.Time `json:"updated"`
	Review  *Review   `json:"review,omitempty"`
}

// Open reports whether staff have not reviewed the alert yet.
func (a Alert) Open() bool { return a.Review == nil }

// Merge folds a new breach b into the open alert a of the same device and
// kind: the figure and the time are b's latest, the level only goes up.
// It reports whether the level went up. Stores call it in Raise.
func Merge(a *Alert, b Alert) bool {
	a.Updated = b.Updated
	if b.Level == LevelSuspend && a.Level != LevelSuspend {
		a.Level, a.Threshold, a.Figure, a.Window = b.Level, b.Threshold, b.Figure, b.Window
		return true
	}
	if b.Level == a.Level {
		a.Figure, a.Window = max(a.Figure, b.Figure), b.Window
	}
	return false
}

// Review is staff closing an alert (and reinstating the device, when it
// was suspended).
type Review struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Note string    `json:"note"`
}

// Cap is one daily counter and its maximum.
type Cap struct {
	Key string
	Max int
}

// Errors of a Store.
var (
	ErrNotFound = errors.New("no such alert")
)

// Store keeps what must survive a restart: the day's counts and the
// alerts. Every implementation passes package limitstest.
type Store interface {
	// TakeDaily counts one request against each cap on day (YYYY-MM-DD,
	// Europe/Rome) in one step: if any count already stands at its Max,
	// nothing is counted and full is that cap's index; else every count
	// goes up by one and full is -1. counts are the counts after.
	TakeDaily(ctx context.Context, day string, caps []Cap) (full int, counts []int, err error)
	// Flush makes every count taken so far survive a restart. A store may
	// write counts behind, so that a request does not wait for the disk;
	// the hub flushes when it stops.
	Flush(ctx context.Context) error
	// Raise records a, or, when the device already has an open alert of
	// a's kind, updates that one (figure, threshold, level only upwards)
	// and returns it. changed is true when the alert is new or its level
	// went up; the store gives new alerts their ID.
	Raise(ctx context.Context, a Alert) (stored Alert, changed bool, err error)
	// Alerts returns every alert, newest first.
	Alerts(ctx context.Context) ([]Alert, error)
	// Close reviews every open alert of device; ErrNotFound when it has none.
	Close(ctx context.Context, device string, r Review) ([]Alert, error)
}

// Restorer is a Store that takes alerts as another store kept them (hub
// migrate): under their own ids, open or reviewed, into a store holding
// none. Its next alert's id comes after the highest restored, so no id
// is given twice.
type Restorer interface {
	RestoreAlerts(ctx context.Context, as []Alert) error
}

// AlertSeq is the number in alert id ("al-00000012": 12), false for an id
// not of that form.
func AlertSeq(id string) (uint64, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(id, "al-"), 10, 64)
	return n, err == nil && strings.HasPrefix(id, "al-")
}

// Request is one signed request as the Guard weighs it.
type Request struct {
	Device string
	Shop   string
	// Clerk is the named clerk on the request, when the kiosk sent one;
	// empty leaves the clerk's limits out.
	Clerk string
	// Subject is who the request is about (a codice fiscale, a NIS), for
	// the repeated-subject flag; empty for requests about no one.
	Subject string
	// Issuance: the request issues a certificate, allowed only within
	// Hours; look-ups are not bound by them.
	Issuance bool
	// Hours and Calendar are the shop's opening; nil Hours binds nothing
	// (the registry office's own desk).
	Hours    *operators.Hours
	Calendar operators.Calendar
}

// Decision is the Guard's answer.
type Decision struct {
	// Reason is empty when the request may go on, else a Reason* code.
	Reason string
	// RetryAfter is how long until a request may succeed (0: unknown or
	// never without staff).
	RetryAfter time.Duration
	// Message is a sentence for the log and the API's body.
	Message string
	// Alerts are the alerts raised or escalated by this request.
	Alerts []Alert
	// Suspend: the device went past a second threshold; the caller
	// suspends it until staff review it.
	Suspend bool
}

// Allowed reports whether the request may go on.
func (d Decision) Allowed() bool { return d.Reason == "" }

// Guard decides on each request. Its rate buckets and windows are in
// memory; the Store holds the rest.
type Guard struct {
	Store Store
	// Settings reads the city's settings, at each request, so a change
	// holds from the next one; nil uses Defaults.
	Settings func() (Settings, error)
	Now      func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	events    map[string][]time.Time
	outcomes  map[string][]outcome
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

type outcome struct {
	at      time.Time
	refused bool
}

func (g *Guard) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

func (g *Guard) settings() (Settings, error) {
	if g.Settings == nil {
		return Defaults(), nil
	}
	s, err := g.Settings()
	if err != nil {
		return Settings{}, fmt.Errorf("cannot read the city's limits: %w", err)
	}
	return s.Effective(), nil
}

// DayOf is the Rome day of t, as the daily caps count it.
func DayOf(t time.Time) string { return registry.DateOf(t.In(operators.Rome)).String() }

// Check weighs a request before it is served: opening hours, rate, daily
// caps, then the flags its admission feeds. A request that takes a device
// past a second threshold is refused itself, with ReasonDeviceSuspended.
func (g *Guard) Check(ctx context.Context, req Request) (Decision, error) {
	set, err := g.settings()
	if err != nil {
		return Decision{}, err
	}
	now := g.now()
	if req.Issuance && req.Hours != nil && !req.Hours.OpenAt(now, req.Calendar) {
		d := Decision{Reason: ReasonOutsideHours, Message: "the shop is closed now: certificates are issued only within its opening hours"}
		if next, ok := NextOpening(req.Hours, now, req.Calendar); ok {
			d.RetryAfter = next.Sub(now)
			d.Message += "; it opens again at " + next.In(operators.Rome).Format("02/01/2006 15:04")
		}
		return d, nil
	}

	rates := []struct {
		key  string
		rate int
	}{{"device:" + req.Device, set.DeviceRate}, {"shop:" + req.Shop, set.ShopRate}}
	if req.Clerk != "" {
		rates = append(rates, struct {
			key  string
			rate int
		}{"clerk:" + req.Clerk, set.ClerkRate})
	}
	g.mu.Lock()
	g.sweep(now, set)
	var wait time.Duration
	for _, r := range rates {
		wait = max(wait, g.bucketOf(r.key, r.rate, now).wait(r.rate))
	}
	if wait > 0 {
		floods := g.note("flood:"+req.Device, now, minutes(set.FloodWindow))
		g.mu.Unlock()
		d := Decision{Reason: ReasonRateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("too many requests: try again in %d seconds", int(math.Ceil(wait.Seconds())))}
		if err := g.flag(ctx, &d, req, now, Flood, floods, set.FloodAlert, set.FloodSuspend, set.FloodWindow); err != nil {
			return Decision{}, err
		}
		d.suspended()
		return d, nil
	}
	for _, r := range rates {
		g.buckets[r.key].tokens = max(0, g.buckets[r.key].tokens-1)
	}
	g.mu.Unlock()

	caps := []Cap{{"device:" + req.Device, set.DeviceDaily}, {"shop:" + req.Shop, set.ShopDaily}}
	if req.Clerk != "" {
		caps = append(caps, Cap{"clerk:" + req.Clerk, set.ClerkDaily})
	}
	full, _, err := g.Store.TakeDaily(ctx, DayOf(now), caps)
	if err != nil {
		return Decision{}, err
	}
	if full >= 0 {
		who := map[int]string{0: "this device", 1: "this shop", 2: "this clerk"}[full]
		return Decision{Reason: ReasonDailyCap, RetryAfter: nextMidnight(now).Sub(now),
			Message: fmt.Sprintf("%s has reached its cap of %d requests today; it may send more tomorrow", who, caps[full].Max)}, nil
	}

	var d Decision
	g.mu.Lock()
	var repeats int
	if req.Subject != "" {
		repeats = g.note("subject:"+req.Shop+"\x00"+req.Subject, now, minutes(set.RepeatWindow))
	}
	var nights int
	night, start := nightOf(now, set.NightFrom, set.NightTo)
	if night {
		nights = g.note("night:"+req.Device, now, now.Sub(start))
	}
	g.mu.Unlock()
	if err := g.flag(ctx, &d, req, now, RepeatedSubject, repeats, set.RepeatAlert, set.RepeatSuspend, set.RepeatWindow); err != nil {
		return Decision{}, err
	}
	if err := g.flag(ctx, &d, req, now, NightBurst, nights, set.NightAlert, set.NightSuspend, int(now.Sub(start).Minutes())); err != nil {
		return Decision{}, err
	}
	d.suspended()
	return d, nil
}

// suspended turns a decision that suspends the device into its refusal.
func (d *Decision) suspended() {
	if d.Suspend {
		d.Reason, d.RetryAfter = ReasonDeviceSuspended, 0
		d.Message = "this device has been suspended for unusual use; city staff must review it before it may send requests again"
	}
}

// Outcome records how the hub answered an admitted request (refused: a
// refusal of the request itself, such as a subject the requester may not
// see) and flags a device whose refusals pass the thresholds.
func (g *Guard) Outcome(ctx context.Context, req Request, refused bool) (Decision, error) {
	set, err := g.settings()
	if err != nil {
		return Decision{}, err
	}
	now := g.now()
	window := minutes(set.RefusalWindow)
	g.mu.Lock()
	if g.outcomes == nil {
		g.outcomes = map[string][]outcome{}
	}
	key := req.Device
	kept := g.outcomes[key][:0]
	for _, o := range g.outcomes[key] {
		if now.Sub(o.at) < window {
			kept = append(kept, o)
		}
	}
	kept = append(kept, outcome{now, refused})
	g.outcomes[key] = kept
	n, r := len(kept), 0
	for _, o := range kept {
		if o.refused {
			r++
		}
	}
	g.mu.Unlock()
	var d Decision
	if n < set.RefusalMin {
		return d, nil
	}
	return d, g.flag(ctx, &d, req, now, RefusalRatio, r*100/n, set.RefusalAlert, set.RefusalSuspend, set.RefusalWindow)
}

// flag raises an alert of kind when figure reached alertAt, at the suspend
// level when it reached suspendAt.
func (g *Guard) flag(ctx context.Context, d *Decision, req Request, now time.Time, kind Kind, figure, alertAt, suspendAt, window int) error {
	if figure < alertAt {
		return nil
	}
	a := Alert{Kind: kind, Level: LevelAlert, Device: req.Device, Shop: req.Shop, Clerk: req.Clerk,
		Figure: figure, Threshold: alertAt, Window: window, Raised: now, Updated: now}
	if figure >= suspendAt {
		a.Level, a.Threshold = LevelSuspend, suspendAt
	}
	stored, changed, err := g.Store.Raise(ctx, a)
	if err != nil {
		return fmt.Errorf("cannot record the %s alert of device %s: %w", kind, req.Device, err)
	}
	if changed {
		d.Alerts = append(d.Alerts, stored)
	}
	if stored.Level == LevelSuspend {
		d.Suspend = true
	}
	return nil
}

// Reinstate closes the device's open alerts with staff's review and
// forgets what the Guard counted of it, so that the requests that led to
// the suspension do not suspend it again at once.
func (g *Guard) Reinstate(ctx context.Context, device, by, note string) ([]Alert, error) {
	if by == "" || note == "" {
		return nil, fmt.Errorf("%w: say who reviews device %s and what was found", ErrInvalid, device)
	}
	closed, err := g.Store.Close(ctx, device, Review{At: g.now().UTC(), By: by, Note: note})
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.buckets, "device:"+device)
	delete(g.events, "flood:"+device)
	delete(g.events, "night:"+device)
	delete(g.outcomes, device)
	return closed, nil
}

// bucketOf is the token bucket of key, refilled to now; rate is requests
// a minute and the bucket holds a minute's worth.
func (g *Guard) bucketOf(key string, rate int, now time.Time) *bucket {
	if g.buckets == nil {
		g.buckets = map[string]*bucket{}
	}
	b := g.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(rate), at: now}
		g.buckets[key] = b
	}
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(float64(rate), b.tokens+el.Minutes()*float64(rate))
		b.at = now
	}
	return b
}

// wait is how long until the bucket holds a whole token.
func (b *bucket) wait(rate int) time.Duration {
	// The tolerance keeps float rounding from asking for a second more
	// than the refill needs; Retry-After is in whole seconds anyway.
	const tolerance = 1e-9
	if b.tokens >= 1-tolerance {
		return 0
	}
	return time.Duration(math.Ceil((1-b.tokens)*60/float64(rate)-tolerance)) * time.Second
}

// note records an event under key and returns how many fall within window.
func (g *Guard) note(key string, now time.Time, window time.Duration) int {
	if g.events == nil {
		g.events = map[string][]time.Time{}
	}
	kept := g.events[key][:0]
	for _, t := range g.events[key] {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	g.events[key] = kept
	return len(kept)
}

// sweep drops, every few minutes, what no window can count any more, so a
// hub that sees many subjects keeps only the recent ones.
func (g *Guard) sweep(now time.Time, set Settings) {
	if g.outcomes == nil {
		g.outcomes = map[string][]outcome{}
	}
	if now.Sub(g.lastSweep) < 5*time.Minute {
		return
	}
	g.lastSweep = now
	horizon := max(minutes(set.FloodWindow), minutes(set.RepeatWindow), 24*time.Hour)
	for k, ts := range g.events {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= horizon {
			delete(g.events, k)
		}
	}
	for k, os := range g.outcomes {
		if len(os) == 0 || now.Sub(os[len(os)-1].at) >= minutes(set.RefusalWindow) {
			delete(g.outcomes, k)
		}
	}
	for k, b := range g.buckets {
		if now.Sub(b.at) >= time.Minute {
			delete(g.buckets, k) // full again by now: a new bucket is the same
		}
	}
}

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

// nightOf reports whether t (read in Rome) falls in the night from hour
// from to hour to (1–24, 24 midnight), and when that night began.
func nightOf(t time.Time, from, to int) (bool, time.Time) {
	t = t.In(operators.Rome)
	from, to = from%24, to%24
	h := t.Hour()
	in := (from < to && h >= from && h < to) || (from > to && (h >= from || h < to))
	if !in {
		return false, time.Time{}
	}
	start := time.Date(t.Year(), t.Month(), t.Day(), from, 0, 0, 0, operators.Rome)
	if start.After(t) {
		start = time.Date(t.Year(), t.Month(), t.Day()-1, from, 0, 0, 0, operators.Rome)
	}
	return true, start
}

// nextMidnight is the start of the Rome day after t's.
func nextMidnight(t time.Time) time.Time {
	r := t.In(operators.Rome)
	return time.Date(r.Year(), r.Month(), r.Day()+1, 0, 0, 0, 0, operators.Rome)
}

// NextOpening is the first instant after t at which h is open, looking up
// to two weeks ahead.
func NextOpening(h *operators.Hours, t time.Time, cal operators.Calendar) (time.Time, bool) {
	r := t.In(operators.Rome)
	for i := 0; i < 15; i++ {
		day := time.Date(r.Year(), r.Month(), r.Day()+i, 0, 0, 0, 0, operators.Rome)
		var first time.Time
		for _, iv := range h.On(registry.DateOf(day), cal).Spans {
			open := time.Date(day.Year(), day.Month(), day.Day(), iv.Open/60, iv.Open%60, 0, 0, operators.Rome)
			if open.After(t) && (first.IsZero() || open.Before(first)) {
				first = open
			}
		}
		if !first.IsZero() {
			return first, true
		}
	}
	return time.Time{}, false
}
