// Package hubapi is the hub's HTTP API: kiosks' signed requests, public keys,
// verification pages, health and metrics. Handlers translate between HTTP and
// the domain; domain errors map to status codes in one place (statusOf).
package hubapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/certificate/certbolt"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/issuance"
	"github.com/sportello/sportello/internal/operators/opbolt"
	"github.com/sportello/sportello/internal/registry"
)

// badRequest is a malformed request: 400 with its reason code.
type badRequest struct{ reason, msg string }

func (e badRequest) Error() string { return e.msg }

// Server holds what the handlers need.
type Server struct {
	Store registry.Store
	Desk  *issuance.Service // issues certificates; its Keys publish the JWKS
	// Verifier checks RFC 9421 signatures on the kiosk routes; without one
	// those routes refuse every request.
	Verifier *httpsig.Verifier
	// DeviceOperator returns the agreement of the operator whose device
	// holds keyID, checked on every request.
	DeviceOperator func(ctx context.Context, keyID string) (issuance.Operator, error)
	// Operators holds operators, devices and enrolment codes: enrolment and
	// the directory; it backs DeviceOperator when that is nil.
	Operators *opbolt.Store
	// HubSigner signs every /api/v1/ response (the seal's token key, which
	// kiosks pin at enrolment); nil leaves responses unsigned.
	HubSigner *httpsig.Signer
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
	Admin   func(api http.Handler) http.Handler
	started time.Time
}

// Handler returns the hub's routes.
func (s *Server) Handler() http.Handler {
	if s.Now == nil {
		s.Now = time.Now
	}
	s.started = s.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	s.certificateRoutes(mux)
	s.deviceRoutes(mux)
	s.deviceStatusRoutes(mux)
	s.personRoutes(mux)
	var h http.Handler = mux
	if s.Admin != nil {
		h = s.Admin(mux)
	}
	return s.logRequests(s.signAPIResponses(h))
}

// statusOf maps domain errors to HTTP status and reason code.
func statusOf(err error) (int, string) {
	var refusal *certificate.Refusal
	var conflict *certbolt.ConflictError
	var herr *httpsig.Error
	var br badRequest
	var ae apiError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.reason
	case errors.As(err, &herr):
		return herr.Reason.Status(), string(herr.Reason)
	case errors.As(err, &conflict):
		return http.StatusConflict, "idempotency_conflict"
	case errors.As(err, &refusal):
		switch refusal.Reason {
		case certificate.ReasonSubjectNotFound:
			return http.StatusNotFound, refusal.Reason
		case certificate.ReasonOperatorNotAllowed, certificate.ReasonRequesterNotAllowed:
			return http.StatusForbidden, refusal.Reason
		}
		return http.StatusUnprocessableEntity, refusal.Reason
	case errors.Is(err, certbolt.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.As(err, &br):
		return http.StatusBadRequest, br.reason
	case errors.Is(err, registry.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, registry.ErrAmbiguous):
		return http.StatusConflict, "ambiguous"
	case errors.Is(err, registry.ErrConflict):
		return http.StatusConflict, "conflict"
	case errors.Is(err, registry.ErrInvalid):
		return http.StatusUnprocessableEntity, "invalid"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, reason := statusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "the hub could not complete the request; the error has been logged"
	}
	writeJSON(w, status, api.Problem{Reason: reason, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

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
	writeJSON(w, http.StatusOK, api.Health{Status: "ok", Version: s.Version, Persons: n,
		UptimeSeconds: int(s.Now().Sub(s.started).Seconds())})
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
		s.Log.Info("http", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}
