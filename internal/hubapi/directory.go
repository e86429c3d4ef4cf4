package hubapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/certificate"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/operators"
)

// Directory query limits: a kiosk screen shows a handful, a map a few dozen.
const (
	defaultDirectoryLimit = 10
	maxDirectoryLimit     = 200
)

func (s *Server) directory(w http.ResponseWriter, r *http.Request) {
	if s.Operators == nil {
		s.fail(w, r, errors.New("no operator store is configured"))
		return
	}
	q, err := s.directoryQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ops, err := s.Operators.List()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The asking kiosk's own shop is where the citizen already stands:
	// it is not one of the places to go to instead.
	if keyID, err := signedKey(r); err == nil {
		if d, err := s.Operators.Device(keyID); err == nil {
			q.Exclude = d.OperatorID
		}
	}
	pol := certificate.Policy{}
	if s.Desk != nil {
		st, err := s.Desk.Settings()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pol = st.Policy
	}
	resp := api.Directory{At: q.At.UTC(), Near: q.Near, Results: []api.DirectoryEntry{}}
	for _, l := range operators.Nearest(ops, q, s.Operators.CurrentPolicy().Calendar) {
		o := l.Operator
		e := api.DirectoryEntry{
			ID: o.ID, Name: o.DisplayName(), Category: o.Category, CategoryLabel: o.Category.Label(),
			Address: o.Address.String(), Lat: o.Address.Lat, Lon: o.Address.Lon,
			DistanceM: int(l.DistanceM + 0.5), Open: l.Open, Hours: o.Hours, Transit: o.Transit,
			Today: api.DirectoryDay{Date: l.Today.Date.String(), Spans: l.Today.Spans, Note: l.Today.Why},
		}
		if e.Today.Spans == nil {
			e.Today.Spans = []operators.Interval{}
		}
		if a := o.Agreement; a != nil {
			fee := a.FeeCents
			e.FeeCents = &fee
			for _, t := range a.Types {
				e.Types = append(e.Types, string(t))
			}
		}
		if total, ok := ordinaryTotal(o, pol); ok {
			e.OrdinaryTotalCents = &total
		}
		resp.Results = append(resp.Results, e)
	}
	w.Header().Set("Cache-Control", "private, max-age=60")
	writeJSON(w, http.StatusOK, resp)
}

// ordinaryTotal is what a citizen pays at o for one ordinary certificate:
// a certificate of residence (or, where o does not issue it, the first
// type it does) in bollo for the ordinary use, computed by the same
// certificate.Fees the issuing runs, on the channel o issues on (a
// self-service kiosk's, the registry office's, else a shop's counter) and
// with o's service fee. A place with an agreement that lists no type
// issues nothing and has no price.
func ordinaryTotal(o *operators.Operator, pol certificate.Policy) (int64, bool) {
	t := certificate.Residenza
	var svc int64
	if a := o.Agreement; a != nil {
		if len(a.Types) == 0 {
			return 0, false
		}
		if !slices.Contains(a.Types, t) {
			t = a.Types[0]
		}
		svc = int64(a.FeeCents)
	}
	ch := certificate.Counter
	switch o.Category {
	case operators.SelfService:
		ch = certificate.SelfService
	case operators.RegistryOffice:
		ch = certificate.Office
	}
	b, err := certificate.Fees(certificate.FeeRequest{Types: []certificate.Type{t}, ServiceCents: svc, Channel: ch}, pol)
	if err != nil {
		return 0, false
	}
	return b.TotalCents, true
}

func (s *Server) directoryQuery(r *http.Request) (operators.Query, error) {
	v := r.URL.Query()
	q := operators.Query{At: s.Now(), Limit: defaultDirectoryLimit}
	coord := func(name string, max float64) (float64, error) {
		x, err := strconv.ParseFloat(v.Get(name), 64)
		if err != nil || x < -max || x > max {
			return 0, fault.New(fault.Malformed, "bad_request", fmt.Sprintf("%s must be a number of degrees between -%g and %g", name, max, max))
		}
		return x, nil
	}
	var err error
	if q.Near.Lat, err = coord("lat", 90); err != nil {
		return q, err
	}
	if q.Near.Lon, err = coord("lon", 180); err != nil {
		return q, err
	}
	if at := v.Get("at"); at != "" {
		if q.At, err = time.Parse(time.RFC3339, at); err != nil {
			return q, fault.New(fault.Malformed, "bad_request", fmt.Sprintf("at must be an RFC 3339 time such as 2026-04-07T10:00:00+02:00, not %q", at))
		}
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxDirectoryLimit {
			return q, fault.New(fault.Malformed, "bad_request", fmt.Sprintf("limit must be a whole number from 1 to %d", maxDirectoryLimit))
		}
		q.Limit = n
	}
	switch v.Get("include_closed") {
	case "", "false", "0":
	case "true", "1":
		q.IncludeClosed = true
	default:
		return q, fault.New(fault.Malformed, "bad_request", "include_closed must be true or false")
	}
	return q, nil
}

func (s *Server) directoryGeoJSON(w http.ResponseWriter, r *http.Request) {
	if s.Operators == nil {
		s.fail(w, r, errors.New("no operator store is configured"))
		return
	}
	ops, err := s.Operators.List()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)
	if err := jsonEncode(w, operators.GeoJSON(ops)); err != nil {
		s.Log.Warn("directory export", "err", err)
	}
}
