package hubapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/httpsig"
	"github.com/sportello/sportello/internal/operators"
)

// deviceStatusRoutes registers the kiosks' reports of their offline
// backlog, which the staff console shows beside each device's last contact.
func (s *Server) deviceStatusRoutes(mux *http.ServeMux) {
	mux.Handle("PUT /api/v1/devices/self/status", s.signed(http.HandlerFunc(s.putDeviceStatus)))
}

// maxStatusBody bounds a status report: four numbers.
const maxStatusBody = 1 << 10

func (s *Server) putDeviceStatus(w http.ResponseWriter, r *http.Request) {
	keyID, _ := httpsig.KeyID(r.Context())
	if s.Operators == nil {
		s.fail(w, r, errors.New("no operator store is configured"))
		return
	}
	var in api.Backlog
	if err := decodeBody(r, maxStatusBody, &in, "the status report is not the expected JSON {pending, refused, oldest_age_seconds, amount_cents}"); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.OldestAgeSeconds < 0 || in.OldestAgeSeconds > int64(operators.MaxBacklogAge/time.Second) {
		s.fail(w, r, fault.New(fault.Malformed, reasonBacklog, fmt.Sprintf("oldest_age_seconds %d is not between zero and %d", in.OldestAgeSeconds, int64(operators.MaxBacklogAge/time.Second))))
		return
	}
	b, err := s.Operators.SetBacklog(keyID, operators.Backlog{Pending: in.Pending, Refused: in.Refused,
		OldestAge: time.Duration(in.OldestAgeSeconds) * time.Second, AmountCents: in.AmountCents})
	if err != nil {
		s.fail(w, r, statusError(err))
		return
	}
	s.touch(keyID)
	writeJSON(w, http.StatusOK, api.DeviceStatus{KeyID: b.KeyID, Reported: b.Reported, Backlog: api.Backlog{
		Pending: b.Pending, Refused: b.Refused, OldestAgeSeconds: int64(b.OldestAge / time.Second), AmountCents: b.AmountCents}})
}

// reasonBacklog refuses a report whose figures cannot be true of a kiosk's
// queue (negative, beyond the bounds of operators.Backlog, or inconsistent): the console
// must never show them, nor add them up.
const reasonBacklog = "implausible_backlog"

// statusError maps an impossible report to 400; other errors keep theirs.
func statusError(err error) error {
	if errors.Is(err, operators.ErrInvalid) {
		return fault.New(fault.Malformed, reasonBacklog, err.Error())
	}
	return err
}
