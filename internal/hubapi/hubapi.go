// Package hubapi is the hub's HTTP API: kiosks' signed requests, public keys,
// verification pages, health and metrics. Handlers translate between HTTP and
// the domain; domain errors map to status codes in one place (statusOf).
package hubapi

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fault/hubfault"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/limits"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/payment"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
	"github.com/sportello/sportello/internal/request/desk"
	"github.com/sportello/sportello/internal/store"
)

// Server holds what the handlers need.
type Server struct {
	Store registry.Store
	// Stores is the hub's storage, every domain in one transaction
	// (issue 16: the fields of concrete bbolt stores below move to it).
	Stores store.Store
	Desk   *issuance.Service // issues certificates; its Keys publish the JWKS
	// Verifier checks RFC 9421 signatures on the kiosk routes; without one
	// those routes refuse every request.
	Verifier *httpsig.Verifier
	// DeviceOperator returns the agreement of the operator whose device
	// holds keyID, checked on every request.
	DeviceOperator func(ctx context.Context, keyID string) (issuance.Operator, error)
	// Operators holds operators, devices and enrolment codes: enrolment and
	// the directory; it backs DeviceOperator when that is nil.
	Operators *operators.Service
	// Clerks keeps the shops' named clerks and their sessions (clerks.go);
	// nil serves no clerk log-in.
	Clerks operators.ClerkStore
	// RequireClerk refuses counter look-ups and issuances that name no
	// clerk logged in at the device (clerk_login_required).
	RequireClerk bool
	// CSCAs are the Country Signing CAs a tapped CIE must chain to.
	CSCAs []*x509.Certificate
	// HubSigner signs every /api/v1/ response (the seal's token key, which
	// kiosks pin at enrolment); nil leaves responses unsigned.
	HubSigner *httpsig.Signer
	// KeyHandover goes with every signed answer (header
	// keyhandover.Header) once the response key has been rotated: the chain
	// of hand-overs, each signed by the key it retires, through which a
	// kiosk pinned to an older key accepts HubSigner's.
	KeyHandover string
	// Refusals counts signature refusals for /metrics; give the same
	// counter to Verifier.Metrics.
	Refusals *httpsig.RefusalCounter
	// MetricsAllow are the client addresses that may read /metrics; when
	// empty, loopback only. MetricsToken, when set, lets any address read
	// them with "Authorization: Bearer <token>".
	MetricsAllow []netip.Prefix
	MetricsToken string
	Log          *slog.Logger
	Now          func() time.Time
	Version      string
	// Admin wraps the API's routes with the staff console and the public
	// pages (internal/admin's Console.Wrap); nil serves the API alone.
	Admin func(api http.Handler) http.Handler
	// StorageProbe tells whether the hub's storage takes a write again
	// (nil when it does). While a write has failed for lack of space,
	// /healthz runs it and is ok again once it succeeds; without it only a
	// later write that succeeds (an issuance) ends the degraded state.
	StorageProbe func() error
	// IdentifyRequester verifies the evidence of who asks for their own
	// access log; nil refuses every such request.
	IdentifyRequester RequesterIdentifier
	// Limits weighs every signed request of a limited route (rates, daily
	// caps, opening hours, anomaly flags; see limited); nil applies none.
	Limits *limits.Guard
	// Payments takes the payments of self-service requests (payments.go);
	// nil refuses every payment, so self-service issues only what costs
	// nothing.
	Payments *payment.Service
	// Requests files and reads demographic requests (requests.go); nil
	// refuses them.
	Requests *desk.Desk
	// Appointments books the registry offices' appointments
	// (appointments.go); nil answers every appointment route 404.
	Appointments *appointment.Service
	// AnyHours lets devices issue outside their shop's opening hours: the
	// demo, which people try at any time of day. Never on a city's hub.
	AnyHours bool
	// Versions are the API versions the hub states it serves (versions.go);
	// nil states HubVersions. Tests give a hub retiring a version.
	Versions    *api.Versions
	limitCounts limitCounter
	// httpCounts and allocFailures feed /metrics (metrics.go).
	httpCounts    statusCounter
	allocFailures atomic.Uint64
	started       time.Time

	storage storageHealth
}

// Handler returns the hub's routes.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil { // a nil logger discards, as everywhere in the hub
		s.Log = slog.New(slog.DiscardHandler)
	}
	s.started = s.Now()
	if s.IdentifyRequester == nil && s.Desk != nil {
		s.IdentifyRequester = s.identifyWithDesk
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/versions", s.versions)
	s.certificateRoutes(mux)
	s.deviceRoutes(mux)
	s.deviceStatusRoutes(mux)
	s.personRoutes(mux)
	s.accessLogRoutes(mux)
	s.reminderRoutes(mux)
	s.clerkRoutes(mux)
	s.paymentRoutes(mux)
	s.delegationRoutes(mux)
	s.dossierRoutes(mux)
	s.requestRoutes(mux)
	s.appointmentRoutes(mux)
	var h http.Handler = mux
	if s.Admin != nil {
		h = s.Admin(mux)
	}
	return s.logRequests(s.stateVersions(s.signAPIResponses(h)))
}

// storageFullMessage is what clients read of a full disk: not the paths
// and errors of the hub's files, which the log has.
const storageFullMessage = "the hub's storage is full: nothing of the request was stored; try again later"

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, reason := hubfault.Status(err)
	msg := err.Error()
	if errors.Is(err, protocol.ErrAllocation) {
		s.allocFailures.Add(1)
	}
	switch {
	case status == http.StatusInternalServerError:
		s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "the hub could not complete the request; the error has been logged"
	case reason == api.ReasonStorageFull:
		if s.storage.failed(s.Now()) {
			s.Log.Error("the hub's storage is full: requests that store anything are answered 503 storage_full and /healthz says degraded until a write succeeds again",
				"method", r.Method, "path", r.URL.Path, "err", err)
		}
		msg = storageFullMessage
	case reason == api.ReasonRegisterClockBehind:
		s.Log.Error("the protocol register refused an entry for the hub's clock", "err", err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter(reason))
	}
	writeJSON(w, status, api.Problem{Reason: reason, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// healthz answers 200 {"status": "ok", …} while the hub can serve, as
// monitors and kiosks expect, and 503 {"status": "degraded", "reason": …}
// with Retry-After while it cannot store anything; a degraded hub checks
// its storage again at each call, so it is ok again by itself once space
// is freed.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	var n int
	err := s.Store.View(r.Context(), func(rd registry.Reader) error {
		var err error
		n, err = rd.CountPersons()
		return err
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := api.Health{Status: api.StatusOK, Version: s.Version, Persons: n, UptimeSeconds: int(s.Now().Sub(s.started).Seconds())}
	if full, since := s.probeStorage(); full {
		h.Status, h.Reason, h.Message, h.Since = api.StatusDegraded, api.ReasonStorageFull, storageFullMessage, &since
		w.Header().Set("Retry-After", retryAfter(api.ReasonStorageFull))
		writeJSON(w, fault.Unavailable.Status(), h)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// probeStorage reports whether the storage is still full: when it was, it
// runs StorageProbe (one at a time) and ends the degraded state if the
// probe can write.
func (s *Server) probeStorage() (bool, time.Time) {
	full, since := s.storage.state()
	if !full || s.StorageProbe == nil || !s.storage.probing.TryLock() {
		return full, since
	}
	defer s.storage.probing.Unlock()
	if err := s.StorageProbe(); err != nil {
		return true, since
	}
	s.storageWrote()
	return false, time.Time{}
}

// storageWrote records that a write succeeded, and logs the end of a
// degraded state.
func (s *Server) storageWrote() {
	if s.storage.wrote() {
		s.Log.Info("the hub's storage takes writes again: /healthz is ok")
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection through the
// recorder (httpsig.Middleware sets a read deadline on refused requests).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.httpCounts.add(rec.status)
		if rec.status == http.StatusCreated {
			// Something was stored (a certificate, an enrolment): the
			// storage takes writes, whatever it did before.
			s.storageWrote()
		}
		s.Log.Info("http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}
