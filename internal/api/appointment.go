package api

import "time"

// Appointments at the registry offices (issue 17, item 3): a kiosk or a
// shop's counter lists the offices and their free slots, and books, moves
// or cancels an appointment for the citizen it identified; the hub answers
// with the booking reference and the text of the QR code the office scans
// on arrival. Every route is signed.
const (
	// PathAppointmentOffices lists the offices and the services each
	// books: GET.
	PathAppointmentOffices = "/api/v1/appointments/offices"
	// PathAppointmentSlots is one office's slots of one service on one
	// day: GET ?office=ID&service=KIND&day=YYYY-MM-DD.
	PathAppointmentSlots = "/api/v1/appointments/slots"
	// PathAppointmentsMine is the identified citizen's appointments and
	// the services offered to them (the CIE renewal first when theirs
	// expires within 180 days): POST AppointmentIdentity.
	PathAppointmentsMine = "/api/v1/appointments/mine"
	// PathAppointments books: POST AppointmentBooking → 201 Appointment.
	PathAppointments = "/api/v1/appointments"
	// PathAppointmentMove and PathAppointmentCancel change booking {ref}
	// of the identified citizen: POST AppointmentMove, AppointmentIdentity.
	PathAppointmentMove   = "/api/v1/appointments/{ref}/move"
	PathAppointmentCancel = "/api/v1/appointments/{ref}/cancel"
)

// Reasons of the appointments' refusals.
const (
	// ReasonSlotTaken (409): every counter of the slot was booked first;
	// choose another slot.
	ReasonSlotTaken = "appointment_slot_taken"
	// ReasonAppointmentAlreadyBooked (409): the citizen already holds an
	// appointment for this service still to come: move or cancel it.
	ReasonAppointmentAlreadyBooked = "appointment_already_booked"
	// ReasonAppointmentNotASlot (422): the time is not a slot of the
	// office's calendar for the service, or it has begun.
	ReasonAppointmentNotASlot = "appointment_not_a_slot"
	// ReasonAppointmentOfficeClosed (422): a holiday or a closure.
	ReasonAppointmentOfficeClosed = "appointment_office_closed"
	// ReasonAppointmentTooFar (422): beyond the booking horizon.
	ReasonAppointmentTooFar = "appointment_too_far"
	// ReasonAppointmentNotYours (403): the booking is someone else's.
	ReasonAppointmentNotYours = "appointment_not_yours"
	// ReasonAppointmentNotOpen (409): cancelled or already checked in.
	ReasonAppointmentNotOpen = "appointment_not_open"
	// ReasonAppointmentNotToday (409): a check-in on another day.
	ReasonAppointmentNotToday = "appointment_not_today"
	// ReasonAppointmentUnknown (404): no such booking or office.
	ReasonAppointmentUnknown = "appointment_unknown"
	// ReasonAppointmentInvalid (422): a request that does not hold
	// together (an unknown service, a reference that is not one).
	ReasonAppointmentInvalid = "appointment_invalid"
	// ReasonAppointmentNoPerson (404): the person is not a living
	// resident of the registry.
	ReasonAppointmentNoPerson = "appointment_no_person"
)

// AppointmentOffice is an office and the services it books.
type AppointmentOffice struct {
	ID       string               `json:"id"`
	Name     string               `json:"name"`
	Address  string               `json:"address,omitempty"`
	Services []AppointmentService `json:"services"`
}

// AppointmentService is a service an office books and its slot length.
type AppointmentService struct {
	Service string `json:"service"`
	Name    string `json:"name"` // Italian
	Minutes int    `json:"minutes"`
}

// AppointmentSlots are the free slots of a service at an office on a day.
type AppointmentSlots struct {
	Office  string `json:"office"`
	Service string `json:"service"`
	Day     string `json:"day"`
	// Closed is why the office is closed that day (a holiday, a
	// closure); empty when open.
	Closed string            `json:"closed,omitempty"`
	Slots  []AppointmentSlot `json:"slots"`
}

// AppointmentSlot is one slot; Free counters are left of Capacity.
type AppointmentSlot struct {
	Start    time.Time `json:"start"`
	Minutes  int       `json:"minutes"`
	Free     int       `json:"free"`
	Capacity int       `json:"capacity"`
}

// AppointmentIdentity identifies the citizen the request is for, as a
// certificate request's requester: self-service a CIE whose PIN the card
// accepted, at a shop's counter the CIE or the codice fiscale and an
// identity document.
type AppointmentIdentity struct {
	Requester RequesterEvidence `json:"requester"`
	Channel   string            `json:"channel,omitempty"` // ChannelSelfService (default) or ChannelCounter
	// ForCF, when set, is the person the identified citizen acts for as
	// their delegate: a delegation in force from ForCF to them must grant
	// the appointments scope (refused otherwise with
	// delegation_out_of_scope or delegation_not_found), and the
	// appointments listed, booked, moved or cancelled are ForCF's.
	ForCF string `json:"for_cf,omitempty"`
}

// AppointmentBooking books a slot for the identified citizen.
type AppointmentBooking struct {
	AppointmentIdentity
	Office  string    `json:"office"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
}

// AppointmentMove moves a booking to another slot (of the same service).
type AppointmentMove struct {
	AppointmentIdentity
	Office string    `json:"office"`
	Start  time.Time `json:"start"`
}

// Appointment is a booking as the kiosk prints its confirmation.
type Appointment struct {
	Ref string `json:"ref"`
	// RefPrinted is the reference as printed (XXXX-XXXX); QR the text of
	// the QR code the office scans on arrival.
	RefPrinted  string    `json:"ref_printed"`
	QR          string    `json:"qr"`
	Office      string    `json:"office"`
	OfficeName  string    `json:"office_name"`
	Address     string    `json:"address,omitempty"`
	Counter     string    `json:"counter"`
	Service     string    `json:"service"`
	ServiceName string    `json:"service_name"`
	Start       time.Time `json:"start"`
	Minutes     int       `json:"minutes"`
	Name        string    `json:"name"`
	State       string    `json:"state"`
}

// AppointmentsOfPerson are the citizen's appointments still to come and
// the services offered to them, first what they most likely need.
type AppointmentsOfPerson struct {
	Name     string               `json:"name"`
	Upcoming []Appointment        `json:"upcoming"`
	Offer    []AppointmentService `json:"offer"`
	// RenewalExpires is the expiry of the CIE whose renewal is offered
	// (YYYY-MM-DD), when one is.
	RenewalExpires string `json:"renewal_expires,omitempty"`
}
