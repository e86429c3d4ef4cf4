package hubapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/registry"
)

// Appointments (issue 17 item 3): a kiosk, or a shop's counter for the
// person in front of it, lists the offices and their free slots, and
// books, moves or cancels the appointments of the citizen it identified,
// as Milan's newsstands booked registry-office appointments. The person
// booked for is the one identified, or the one whose delegation in force
// grants the identified person the appointments (for_cf): nobody else
// books, moves or cancels in someone else's name.

func (s *Server) appointmentRoutes(mux *http.ServeMux) {
	// The paths are api.PathAppointment…, spelt out for
	// TestOpenAPIMatchesRoutes.
	mux.Handle("GET /api/v1/appointments/offices", s.signed(http.HandlerFunc(s.appointmentOffices)))
	mux.Handle("GET /api/v1/appointments/slots", s.signed(http.HandlerFunc(s.appointmentSlots)))
	mux.Handle("POST /api/v1/appointments/mine", s.signed(http.HandlerFunc(s.appointmentsMine)))
	mux.Handle("POST /api/v1/appointments", s.signed(http.HandlerFunc(s.bookAppointment)))
	mux.Handle("POST /api/v1/appointments/{ref}/move", s.signed(http.HandlerFunc(s.moveAppointment)))
	mux.Handle("POST /api/v1/appointments/{ref}/cancel", s.signed(http.HandlerFunc(s.cancelAppointment)))
}

var noAppointments = fault.New(fault.NotFound, api.ReasonAppointmentUnknown, "this hub books no appointments")

// apiAppointment is b as a kiosk prints it.
func apiAppointment(b appointment.Booking, o appointment.Office) api.Appointment {
	return api.Appointment{Ref: b.Ref, RefPrinted: appointment.FormatRef(b.Ref), QR: appointment.QRText(b.Ref),
		Office: b.OfficeID, OfficeName: o.Name, Address: o.Address, Counter: o.CounterName(b.Counter),
		Service: string(b.Service), ServiceName: b.Service.Italian(), Start: b.Start, Minutes: b.Minutes,
		Name: b.Name, State: string(b.State)}
}

func apiService(o appointment.Office, k appointment.ServiceKind) api.AppointmentService {
	cal, _ := o.Calendar(k)
	return api.AppointmentService{Service: string(k), Name: k.Italian(), Minutes: cal.Minutes}
}

func (s *Server) appointmentOffices(w http.ResponseWriter, r *http.Request) {
	if s.Appointments == nil {
		s.fail(w, r, noAppointments)
		return
	}
	os, err := s.Appointments.Offices(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []api.AppointmentOffice{}
	for _, o := range os {
		ao := api.AppointmentOffice{ID: o.ID, Name: o.Name, Address: o.Address, Services: []api.AppointmentService{}}
		for _, k := range appointment.Services {
			if _, ok := o.Calendar(k); ok {
				ao.Services = append(ao.Services, apiService(o, k))
			}
		}
		out = append(out, ao)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) appointmentSlots(w http.ResponseWriter, r *http.Request) {
	if s.Appointments == nil {
		s.fail(w, r, noAppointments)
		return
	}
	q := r.URL.Query()
	day, err := registry.ParseDate(q.Get("day"))
	if err != nil {
		s.fail(w, r, fault.New(fault.Malformed, "date_invalid", "day must be a date YYYY-MM-DD"))
		return
	}
	a, err := s.Appointments.Available(r.Context(), q.Get("office"), appointment.ServiceKind(q.Get("service")), day)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.AppointmentSlots{Office: a.Office.ID, Service: q.Get("service"), Day: day.String(), Closed: a.Closed, Slots: []api.AppointmentSlot{}}
	for _, sl := range a.Slots {
		out.Slots = append(out.Slots, api.AppointmentSlot{Start: sl.Start.UTC(), Minutes: sl.Minutes, Free: len(sl.Free), Capacity: sl.Capacity})
	}
	writeJSON(w, http.StatusOK, out)
}

// appointmentCitizen identifies the citizen of an appointment request and
// says who acts: the device, at a counter its clerk.
func (s *Server) appointmentCitizen(r *http.Request, id *api.AppointmentIdentity) (*registry.Person, appointment.Actor, error) {
	var by appointment.Actor
	keyID, err := signedKey(r)
	if err != nil {
		return nil, by, err
	}
	if id.Channel, err = requestChannel(id.Channel, api.ChannelSelfService); err != nil {
		return nil, by, err
	}
	if id.Requester.Method == "" {
		return nil, by, fault.New(fault.Malformed, api.ReasonRequesterEvidenceRequired, "an appointment is booked only for the person identified: send their CIE tap (or, at a counter, their document)")
	}
	if s.IdentifyRequester == nil {
		return nil, by, errors.New("no verifier of requester evidence is configured, so no appointment can be booked")
	}
	clerk, err := s.counterClerk(r, id.Channel)
	if err != nil {
		return nil, by, err
	}
	who, err := s.IdentifyRequester(r, id.Requester, id.Channel == api.ChannelSelfService)
	if errors.Is(err, ErrIdentification) {
		s.Log.Info("appointment refused: identification failed", "key_id", keyID, "cause", err)
		return nil, by, identificationFailed
	}
	if err != nil {
		return nil, by, err
	}
	by = appointment.Actor{Audit: audit.Actor{Kind: audit.Device, ID: keyID}, Channel: appointment.Kiosk, Clerk: clerk, ForCF: strings.TrimSpace(id.ForCF)}
	if id.Channel == api.ChannelCounter {
		by.Channel = appointment.Shop
	}
	return who, by, nil
}

func (s *Server) appointmentsMine(w http.ResponseWriter, r *http.Request) {
	if s.Appointments == nil {
		s.fail(w, r, noAppointments)
		return
	}
	var req api.AppointmentIdentity
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel}"); err != nil {
		s.fail(w, r, err)
		return
	}
	who, _, err := s.appointmentCitizen(r, &req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	cf := who.CF
	if req.ForCF != "" {
		if cf, err = s.Appointments.ActingFor(ctx, who.CF, req.ForCF); err != nil {
			s.fail(w, r, err)
			return
		}
		if who, err = s.Appointments.Person(ctx, cf); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	offer, err := s.Appointments.OfferFor(ctx, cf)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	bs, err := s.Appointments.Upcoming(ctx, cf)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.AppointmentsOfPerson{Name: strings.TrimSpace(who.GivenNames + " " + who.Surname), Upcoming: []api.Appointment{}, Offer: []api.AppointmentService{}}
	for _, k := range offer.Services {
		out.Offer = append(out.Offer, api.AppointmentService{Service: string(k), Name: k.Italian(), Minutes: k.DefaultMinutes()})
	}
	if offer.Renewal != nil {
		out.RenewalExpires = offer.Renewal.Expires.String()
	}
	for _, b := range bs {
		o, err := s.Appointments.Office(ctx, b.OfficeID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.Upcoming = append(out.Upcoming, apiAppointment(b, o))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) bookAppointment(w http.ResponseWriter, r *http.Request) {
	if s.Appointments == nil {
		s.fail(w, r, noAppointments)
		return
	}
	var req api.AppointmentBooking
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel, office, service, start}"); err != nil {
		s.fail(w, r, err)
		return
	}
	who, by, err := s.appointmentCitizen(r, &req.AppointmentIdentity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	b, err := s.Appointments.Book(ctx, appointment.Request{Office: req.Office, Service: appointment.ServiceKind(req.Service),
		Start: req.Start, CF: who.CF, RequesterCF: who.CF, By: by})
	status := http.StatusCreated
	if errors.Is(err, appointment.ErrAlreadyBooked) {
		// A retried request (the answer lost on the way) finds its own
		// booking: the same slot of the same service is that booking,
		// answered again rather than refused.
		mineCF := who.CF
		if by.ForCF != "" {
			mineCF = by.ForCF
		}
		if held, ok := s.sameBooking(r, mineCF, req); ok {
			b, err, status = held, nil, http.StatusOK
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.Appointments.Office(ctx, b.OfficeID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, status, apiAppointment(b, o))
}

// sameBooking is cf's upcoming booking of exactly what req asks, if any.
func (s *Server) sameBooking(r *http.Request, cf string, req api.AppointmentBooking) (appointment.Booking, bool) {
	bs, err := s.Appointments.Upcoming(r.Context(), cf)
	if err != nil {
		return appointment.Booking{}, false
	}
	for _, b := range bs {
		if b.OfficeID == req.Office && string(b.Service) == req.Service && b.Start.Equal(req.Start) {
			return b, true
		}
	}
	return appointment.Booking{}, false
}

func (s *Server) moveAppointment(w http.ResponseWriter, r *http.Request) {
	if s.Appointments == nil {
		s.fail(w, r, noAppointments)
		return
	}
	var req api.AppointmentMove
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel, office, start}"); err != nil {
		s.fail(w, r, err)
		return
	}
	who, by, err := s.appointmentCitizen(r, &req.AppointmentIdentity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.Appointments.Move(r.Context(), r.PathValue("ref"), who.CF, req.Office, req.Start, by)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeAppointment(w, r, b)
}

func (s *Server) cancelAppointment(w http.ResponseWriter, r *http.Request) {
	if s.Appointments == nil {
		s.fail(w, r, noAppointments)
		return
	}
	var req api.AppointmentIdentity
	if err := decodeBody(r, maxRequestBody, &req, "the request body is not the expected JSON {requester, channel}"); err != nil {
		s.fail(w, r, err)
		return
	}
	who, by, err := s.appointmentCitizen(r, &req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.Appointments.Cancel(r.Context(), r.PathValue("ref"), who.CF, by)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeAppointment(w, r, b)
}

func (s *Server) writeAppointment(w http.ResponseWriter, r *http.Request, b appointment.Booking) {
	o, err := s.Appointments.Office(r.Context(), b.OfficeID)
	if err != nil {
		s.fail(w, r, fmt.Errorf("booking %s names office %s: %w", b.Ref, b.OfficeID, err))
		return
	}
	writeJSON(w, http.StatusOK, apiAppointment(b, o))
}
