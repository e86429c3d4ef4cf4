package hubclient

import (
	"context"
	"net/url"
	"strings"

	"github.com/sportello/sportello/internal/api"
)

// AppointmentOffices lists the registry offices that book appointments
// and their services (GET /api/v1/appointments/offices).
func (c *Client) AppointmentOffices(ctx context.Context) ([]api.AppointmentOffice, error) {
	var out []api.AppointmentOffice
	if _, err := c.callJSON(ctx, "GET", api.PathAppointmentOffices, nil, nil, "", &out); err != nil {
		return nil, err
	}
	return out, nil
}

// AppointmentSlots is office's slots of service on day (YYYY-MM-DD).
func (c *Client) AppointmentSlots(ctx context.Context, office, service, day string) (*api.AppointmentSlots, error) {
	var out api.AppointmentSlots
	q := url.Values{"office": {office}, "service": {service}, "day": {day}}
	if _, err := c.callJSON(ctx, "GET", api.PathAppointmentSlots, q, nil, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MyAppointments is the identified citizen's appointments to come and the
// services offered to them.
func (c *Client) MyAppointments(ctx context.Context, id api.AppointmentIdentity) (*api.AppointmentsOfPerson, error) {
	var out api.AppointmentsOfPerson
	if _, err := c.callJSON(ctx, "POST", api.PathAppointmentsMine, nil, id, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BookAppointment books a slot for the identified citizen. A slot that
// went first is an *api.Refusal with api.ReasonSlotTaken; sent again, the
// same request answers the same booking.
func (c *Client) BookAppointment(ctx context.Context, b api.AppointmentBooking) (*api.Appointment, error) {
	var out api.Appointment
	if _, err := c.callJSON(ctx, "POST", api.PathAppointments, nil, b, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MoveAppointment moves booking ref of the identified citizen.
func (c *Client) MoveAppointment(ctx context.Context, ref string, m api.AppointmentMove) (*api.Appointment, error) {
	var out api.Appointment
	if _, err := c.callJSON(ctx, "POST", strings.Replace(api.PathAppointmentMove, "{ref}", url.PathEscape(ref), 1), nil, m, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelAppointment cancels booking ref of the identified citizen.
func (c *Client) CancelAppointment(ctx context.Context, ref string, id api.AppointmentIdentity) (*api.Appointment, error) {
	var out api.Appointment
	if _, err := c.callJSON(ctx, "POST", strings.Replace(api.PathAppointmentCancel, "{ref}", url.PathEscape(ref), 1), nil, id, "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}
