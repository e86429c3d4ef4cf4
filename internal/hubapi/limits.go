package hubapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fault/hubfault"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
)

// limitActor is who suspends a device that went past a second threshold,
// in the device's history.
const limitActor = "system:limits"

// limitPurpose is what the audit log says of a request the limits refused:
// no personal data was read for it.
const limitPurpose = "richiesta rifiutata dai limiti del programma (rate, tetto giornaliero, orari, anomalie)"

// Route kinds for limited.
type limitRoute struct {
	// issuance binds the route to the shop's opening hours.
	issuance bool
	// subject names who a request is about, for the repeated-subject
	// flag, and its channel; it may read the body, which it must leave
	// readable again.
	subject func(r *http.Request) (subject, channel string)
}

// Limit kinds of the signed routes: what other routes reuse.
var (
	// limitIssuance is POST /api/v1/certificates: opening hours apply, the
	// subject is the body's "cf".
	limitIssuance = limitRoute{issuance: true, subject: bodySubject}
	// limitLookup is a read about a person named in the query (cf or nis).
	limitLookup = limitRoute{subject: identifySubject}
	// limitAccessLog is a citizen's own access log: rates, caps and the
	// refusal ratio apply; the subject is the requester, whom only the
	// evidence in the body names, so the repeated-subject flag does not.
	limitAccessLog = limitRoute{}
	// limitClerkLogIn is a clerk's log-in (CIE and PIN, or password and
	// TOTP): rates and caps bound guessing, and failed log-ins feed the
	// refusal ratio, which suspends a device that keeps guessing.
	limitClerkLogIn = limitRoute{}
	// limitPayment is POST /api/v1/payments, the first step of a
	// self-service sale: it reads the registry as issuing does, and no
	// money is taken outside the hours the shop may then issue in. Its
	// subject is left to the issuance that follows, which counts it once.
	limitPayment = limitRoute{issuance: true, subject: paymentChannel}
	// limitTillConfirm is the counter confirming a till code: rates and
	// caps bound a device trying codes, and unknown codes (404) feed the
	// refusal ratio.
	limitTillConfirm = limitRoute{}
)

// paymentChannel is the channel of the request a payment is for (no
// subject: see limitPayment); the body is put back for the handler.
func paymentChannel(r *http.Request) (string, string) {
	b, ok := peekBody(r)
	if !ok {
		return "", ""
	}
	var in api.PaymentRequest
	if json.Unmarshal(b, &in) != nil {
		return "", ""
	}
	ch := in.Request.Channel
	if ch == "" {
		ch = api.ChannelSelfService
	}
	return "", ch
}

// limited puts the limits (package limits) in front of a signed kiosk route:
// rate per device, clerk and shop, daily caps, opening hours for issuance,
// and the anomaly flags. It goes inside s.signed, so the device is known.
// A refusal is 429 rate_limited or daily_cap_reached with Retry-After, 403
// outside_opening_hours (with Retry-After until the shop opens) or 403
// device_suspended; each is audited and counted for /metrics. The route's
// own refusals (4xx) feed the refusal-ratio flag. A device past a second
// threshold is suspended (opbolt), so its next request is refused as
// key_suspended until staff reinstate it in the console.
func (s *Server) limited(route limitRoute, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Limits == nil {
			h.ServeHTTP(w, r)
			return
		}
		req, err := s.limitRequest(r, route)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d, err := s.Limits.Check(r.Context(), req.Request)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.afterLimits(r, req, d)
		if !d.Allowed() {
			s.refuseLimited(w, r, req, d)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		var refused bool
		switch {
		case rec.status >= 200 && rec.status < 300:
			s.limitCounts.outcome(outcomeServed)
		case rec.status >= 400 && rec.status < 500:
			s.limitCounts.outcome(outcomeRefused)
			refused = true
		default:
			s.limitCounts.outcome(outcomeFailed)
			return // the hub's own failure says nothing of the device
		}
		// The answer is written: a breach now weighs on the next request.
		od, err := s.Limits.Outcome(context.WithoutCancel(r.Context()), req.Request, refused)
		if err != nil {
			s.Log.Error("limits: cannot weigh a request's outcome", "key_id", req.Device, "err", err)
			return
		}
		s.afterLimits(r, req, od)
	})
}

// limitedRequest is a request as the limits see it, and its channel for
// the audit log.
type limitedRequest struct {
	limits.Request
	channel string
}

// limitRequest gathers what the Guard weighs: the device, its shop and its
// hours, the clerk logged in (ClerkOf) and the subject.
func (s *Server) limitRequest(r *http.Request, route limitRoute) (limitedRequest, error) {
	keyID, err := signedKey(r)
	if err != nil {
		return limitedRequest{}, err
	}
	req := limitedRequest{Request: limits.Request{Device: keyID, Issuance: route.issuance}, channel: api.ChannelCounter}
	switch {
	case s.Operators != nil:
		_, o, err := s.Operators.Authorise(keyID)
		if err != nil {
			return req, err
		}
		req.Shop = o.ID
		if !s.AnyHours && hasHours(&o.Hours) {
			hours := o.Hours
			req.Hours, req.Calendar = &hours, s.Operators.CurrentPolicy().Calendar
		}
	case s.DeviceOperator != nil:
		op, err := s.DeviceOperator(r.Context(), keyID)
		if err != nil {
			return req, err
		}
		req.Shop = op.ID
	default:
		return req, errors.New("no operator directory is configured")
	}
	// The clerk's session, resolved from Sportello-Clerk by s.signed: the
	// clerk's own limits apply on whatever device of the shop they use.
	if c, ok := ClerkOf(r.Context()); ok {
		req.Clerk = c.ID
	}
	if route.subject != nil {
		subject, channel := route.subject(r)
		req.Subject = subject
		if channel != "" {
			req.channel = channel
		}
	}
	return req, nil
}

// hasHours reports whether any opening is published. An operator whose
// hours were never set (records older than the opening hours) is not
// bound by them: staff set them in the console.
func hasHours(h *operators.Hours) bool {
	for d := range 7 {
		if len(h.Week.On(time.Weekday(d))) > 0 {
			return true
		}
	}
	return len(h.Exceptions) > 0
}

// afterLimits acts on what a decision raised: it logs and counts alerts
// and suspends a device past a second threshold.
func (s *Server) afterLimits(r *http.Request, req limitedRequest, d limits.Decision) {
	for _, a := range d.Alerts {
		s.Log.Warn("limits: alert", "id", a.ID, "kind", a.Kind, "level", a.Level, "key_id", a.Device, "operator", a.Shop,
			"clerk", a.Clerk, "figure", a.Figure, "threshold", a.Threshold, "window_minutes", a.Window)
	}
	if !d.Suspend || s.Operators == nil {
		return
	}
	reason := "anomaly past the second threshold"
	if len(d.Alerts) > 0 {
		a := d.Alerts[len(d.Alerts)-1]
		reason = fmt.Sprintf("%s: %d (threshold %d) in %d minutes, alert %s", a.Kind, a.Figure, a.Threshold, a.Window, a.ID)
	}
	if _, err := s.Operators.SuspendDevice(req.Device, limitActor, reason); err != nil {
		if !errors.Is(err, operators.ErrTransition) { // already suspended
			s.Log.Error("limits: cannot suspend the device", "key_id", req.Device, "err", err)
		}
		return
	}
	s.Log.Warn("limits: device suspended until staff review it", "key_id", req.Device, "operator", req.Shop, "reason", reason)
}

// refuseLimited answers a refusal of the limits, after recording it in the
// audit log: a refusal that could not be audited is answered 503.
func (s *Server) refuseLimited(w http.ResponseWriter, r *http.Request, req limitedRequest, d limits.Decision) {
	s.limitCounts.refused(d.Reason)
	s.limitCounts.outcome(outcomeLimited)
	subject := req.Subject
	if subject == "" {
		subject = "-"
	}
	entry := audit.Entry{Actor: audit.Actor{Kind: audit.Device, ID: req.Device}, Purpose: limitPurpose, Subject: subject,
		Data: "nessun dato letto: " + d.Message, Channel: req.channel, Request: d.Reason}
	rec, err := s.auditRecorder()
	if err == nil {
		err = rec.Record(context.WithoutCancel(r.Context()), entry)
	}
	if err != nil {
		s.Log.Error("limits: cannot audit a refusal", "key_id", req.Device, "reason", d.Reason, "err", err)
		s.fail(w, r, fault.New(fault.Unavailable, api.ReasonUnavailable, "the hub could not record the refusal of this request in its audit log; try again later"))
		return
	}
	if d.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(d.RetryAfter.Seconds())), 10))
	}
	writeJSON(w, hubfault.LimitKind(d.Reason).Status(), api.Problem{Reason: d.Reason, Message: d.Message})
}

// bodySubject reads the certificate request's subject and channel and puts
// the body back for the handler.
func bodySubject(r *http.Request) (string, string) {
	b, ok := peekBody(r)
	if !ok {
		return "", ""
	}
	var in struct {
		CF      string `json:"cf"`
		Channel string `json:"channel"`
	}
	if json.Unmarshal(b, &in) != nil {
		return "", ""
	}
	return strings.ToUpper(strings.TrimSpace(in.CF)), in.Channel
}

// identifySubject is the person a look-up names (POST
// /api/v1/persons/identify): the requester's codice fiscale, or the NIS of
// their CIE; the body is put back for the handler.
func identifySubject(r *http.Request) (string, string) {
	b, ok := peekBody(r)
	if !ok {
		return "", ""
	}
	var in api.IdentifyRequest
	if json.Unmarshal(b, &in) != nil {
		return "", ""
	}
	if cf := strings.ToUpper(strings.TrimSpace(in.Requester.CF)); cf != "" {
		return cf, in.Channel
	}
	if nis := strings.TrimSpace(in.Requester.NIS); nis != "" {
		return "NIS " + nis, in.Channel
	}
	return "", in.Channel
}

// Outcomes of the requests of the limited routes, for /metrics.
const (
	outcomeServed  = "served"  // answered 2xx
	outcomeRefused = "refused" // refused by the route itself (4xx): counts for the refusal ratio
	outcomeFailed  = "failed"  // the hub failed (5xx)
	outcomeLimited = "limited" // refused by the limits
)

// limitCounter counts the limits' refusals by reason and the limited
// routes' requests by outcome since the hub started, for /metrics.
// (Alerts and suspensions are counted from the limits' store, so those
// counters survive a restart.)
type limitCounter struct {
	mu        sync.Mutex
	byReason  map[string]uint64
	byOutcome map[string]uint64
}

func (c *limitCounter) outcome(o string) { c.add(&c.byOutcome, o) }

func (c *limitCounter) refused(reason string) { c.add(&c.byReason, reason) }

// add counts one more k in *m, which is made on first use, so the zero
// limitCounter is ready.
func (c *limitCounter) add(m *map[string]uint64, k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = map[string]uint64{}
	}
	(*m)[k]++
}

func (c *limitCounter) snapshot() (byReason, byOutcome map[string]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byReason), maps.Clone(c.byOutcome)
}
