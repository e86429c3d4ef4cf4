package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/audit"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/registry"
)

// The registry offices' appointments (issue 17 item 3): the offices and
// their calendars, the city's closures, each office's list of the day,
// the check-in that takes the code scanned from a confirmation's QR, and
// bookings made or cancelled by staff for a citizen on the telephone or at
// the desk. The lists name persons: reading them needs ReadPersons;
// closures are the city's settings (ManageCity).

func (c *Console) appointmentRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/appointments", c.require(staff.ReadPersons, c.appointmentsPage))
	mux.Handle("POST /admin/appointments/checkin", c.require(staff.ReadPersons, c.appointmentCheckIn))
	mux.Handle("POST /admin/appointments/closures", c.require(staff.ManageCity, c.closureAdd))
	mux.Handle("POST /admin/appointments/closures/{id}/delete", c.require(staff.ManageCity, c.closureDelete))
	mux.Handle("GET /admin/appointments/{office}", c.require(staff.ReadPersons, c.appointmentDay))
	mux.Handle("POST /admin/appointments/{office}/book", c.require(staff.ReadPersons, c.appointmentBook))
	mux.Handle("POST /admin/appointments/{office}/cancel", c.require(staff.ReadPersons, c.appointmentCancel))
}

// officeRow is an office with its calendars said in words.
type officeRow struct {
	appointment.Office
	Calendars []calendarRow
}

type calendarRow struct {
	Service  string
	Minutes  int
	Counters string
	Hours    []string
}

var weekdayNames = [2][7]string{
	{"dom", "lun", "mar", "mer", "gio", "ven", "sab"},
	{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
}

func langIndex(lang string) int {
	if lang == "en" {
		return 1
	}
	return 0
}

func officeRowOf(o appointment.Office, lang string) officeRow {
	row := officeRow{Office: o}
	for _, cal := range o.Calendars {
		cr := calendarRow{Service: cal.Service.Italian(), Minutes: cal.Minutes}
		if lang == "en" {
			cr.Service = cal.Service.English()
		}
		var ns []string
		for _, n := range cal.Counters {
			ns = append(ns, o.CounterName(n))
		}
		cr.Counters = strings.Join(ns, ", ")
		for _, h := range cal.Hours {
			cr.Hours = append(cr.Hours, weekdayNames[langIndex(lang)][h.Weekday]+" "+h.From+"–"+h.To)
		}
		row.Calendars = append(row.Calendars, cr)
	}
	return row
}

type appointmentsData struct {
	Off       bool
	Offices   []officeRow
	Closures  []closureRow
	CanManage bool
	Today     string
	// CheckedIn is the booking just checked in, to show to the clerk.
	CheckedIn *bookingRow
}

type closureRow struct {
	appointment.Closure
	OfficeName string
}

type bookingRow struct {
	appointment.Booking
	RefPrinted  string
	Time        string
	Date        string
	Counter     string
	ServiceName string
	OfficeName  string
}

func rowOf(b appointment.Booking, o appointment.Office, lang string) bookingRow {
	st := b.Start.In(appointment.Rome)
	r := bookingRow{Booking: b, RefPrinted: appointment.FormatRef(b.Ref), Time: st.Format("15:04"), Date: st.Format("02/01/2006"),
		Counter: o.CounterName(b.Counter), ServiceName: b.Service.Italian(), OfficeName: o.Name}
	if lang == "en" {
		r.ServiceName = b.Service.English()
	}
	return r
}

func (c *Console) haveAppointments(w http.ResponseWriter, r *http.Request) bool {
	if c.Appointments == nil {
		c.fail(w, r, refused(fault.NotFound, "no_appointments"))
		return false
	}
	return true
}

func staffActor(r *http.Request) appointment.Actor {
	return appointment.Actor{Audit: audit.Actor{Kind: audit.Staff, ID: userOf(r)}, Channel: appointment.Console}
}

func (c *Console) appointmentsData(r *http.Request, lang string) (*appointmentsData, error) {
	d := &appointmentsData{Off: c.Appointments == nil, Today: registry.DateOf(c.now().In(appointment.Rome)).String()}
	if a, _ := authOf(r); a != nil {
		d.CanManage = a.Role.Can(staff.ManageCity)
	}
	if d.Off {
		return d, nil
	}
	ctx := r.Context()
	os, err := c.Appointments.Offices(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	for _, o := range os {
		d.Offices = append(d.Offices, officeRowOf(o, lang))
		names[o.ID] = o.Name
	}
	cs, err := c.Appointments.Closures(ctx)
	if err != nil {
		return nil, err
	}
	for _, cl := range cs {
		n := names[cl.OfficeID]
		if cl.OfficeID == "" {
			n = tr(lang, "appt.alloffices")
		}
		d.Closures = append(d.Closures, closureRow{Closure: cl, OfficeName: n})
	}
	return d, nil
}

// appointmentsPage lists the offices with their calendars, the closures,
// and the check-in form the office's scanner types into.
func (c *Console) appointmentsPage(w http.ResponseWriter, r *http.Request) {
	c.showAppointments(w, r, nil, nil)
}

func (c *Console) showAppointments(w http.ResponseWriter, r *http.Request, checked *bookingRow, failed error) {
	v := c.newView(r, "nav.appointments")
	d, err := c.appointmentsData(r, v.Lang)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.CheckedIn = checked
	if checked != nil {
		v.Flash = tr(v.Lang, "appt.checkedin")
	}
	v.Data = d
	c.renderOr(w, r, "appointments", v, failed)
}

// appointmentCheckIn takes the text a scanner read from a confirmation's
// QR (or the reference typed) and records the arrival.
func (c *Console) appointmentCheckIn(w http.ResponseWriter, r *http.Request) {
	if !c.haveAppointments(w, r) {
		return
	}
	b, err := c.Appointments.CheckIn(r.Context(), r.PostFormValue("code"), r.PostFormValue("office"), staffActor(r))
	if err != nil {
		c.showAppointments(w, r, nil, err)
		return
	}
	o, err := c.Appointments.Office(r.Context(), b.OfficeID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	row := rowOf(b, o, langOf(r))
	c.log().Info("admin: appointment checked in", "ref", b.Ref, "by", userOf(r))
	c.showAppointments(w, r, &row, nil)
}

func (c *Console) closureAdd(w http.ResponseWriter, r *http.Request) {
	if !c.haveAppointments(w, r) {
		return
	}
	from, err1 := registry.ParseDate(r.PostFormValue("from"))
	to, err2 := registry.ParseDate(r.PostFormValue("to"))
	if r.PostFormValue("to") == "" {
		to, err2 = from, nil
	}
	if err1 != nil || err2 != nil {
		c.showAppointments(w, r, nil, refused(fault.Invalid, "closure_dates"))
		return
	}
	cl := &appointment.Closure{OfficeID: r.PostFormValue("office"), From: from, To: to, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if err := c.Appointments.PutClosure(r.Context(), cl); err != nil {
		c.showAppointments(w, r, nil, err)
		return
	}
	c.log().Info("admin: closure added", "id", cl.ID, "by", userOf(r))
	redirect(w, r, "/admin/appointments", "closure")
}

func (c *Console) closureDelete(w http.ResponseWriter, r *http.Request) {
	if !c.haveAppointments(w, r) {
		return
	}
	if err := c.Appointments.DeleteClosure(r.Context(), r.PathValue("id")); err != nil {
		c.showAppointments(w, r, nil, err)
		return
	}
	c.log().Info("admin: closure removed", "id", r.PathValue("id"), "by", userOf(r))
	redirect(w, r, "/admin/appointments", "closuredel")
}

type dayData struct {
	Office   officeRow
	Day      string
	DayLong  string
	Prev     string
	Next     string
	Closed   string
	Rows     []bookingRow
	Services []serviceSlots
}

// serviceSlots is one service's slots of the day, for staff booking.
type serviceSlots struct {
	Service string
	Name    string
	Slots   []slotRow
}

type slotRow struct {
	Value string // RFC 3339
	Time  string
	Free  int
	Of    int
}

// appointmentDay is an office's list of the day: every booking by time
// and counter, with check-in and cancel, and the free slots staff may
// book for a citizen.
func (c *Console) appointmentDay(w http.ResponseWriter, r *http.Request) {
	c.showDay(w, r, nil)
}

func (c *Console) showDay(w http.ResponseWriter, r *http.Request, failed error) {
	if !c.haveAppointments(w, r) {
		return
	}
	v := c.newView(r, "appt.day")
	ctx := r.Context()
	o, err := c.Appointments.Office(ctx, r.PathValue("office"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	day := registry.DateOf(c.now().In(appointment.Rome))
	if s := r.FormValue("day"); s != "" {
		if day, err = registry.ParseDate(s); err != nil {
			c.fail(w, r, refused(fault.Invalid, "closure_dates"))
			return
		}
	}
	d := &dayData{Office: officeRowOf(o, v.Lang), Day: day.String(), DayLong: day.Italian(),
		Prev: registry.DateOf(day.Time().AddDate(0, 0, -1)).String(), Next: registry.DateOf(day.Time().AddDate(0, 0, 1)).String()}
	bs, err := c.Appointments.Day(ctx, o.ID, day)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, b := range bs {
		d.Rows = append(d.Rows, rowOf(b, o, v.Lang))
	}
	for _, k := range appointment.Services {
		if _, ok := o.Calendar(k); !ok {
			continue
		}
		a, err := c.Appointments.Available(ctx, o.ID, k, day)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Closed = a.Closed
		ss := serviceSlots{Service: string(k), Name: k.Italian()}
		if v.Lang == "en" {
			ss.Name = k.English()
		}
		for _, sl := range a.Slots {
			ss.Slots = append(ss.Slots, slotRow{Value: sl.Start.UTC().Format(time.RFC3339), Time: sl.Start.In(appointment.Rome).Format("15:04"), Free: len(sl.Free), Of: sl.Capacity})
		}
		d.Services = append(d.Services, ss)
	}
	v.Title += " · " + o.Name
	v.Data = d
	c.renderOr(w, r, "appointment_day", v, failed)
}

// appointmentBook books a slot for a citizen staff identified at the desk
// or on the telephone.
func (c *Console) appointmentBook(w http.ResponseWriter, r *http.Request) {
	if !c.haveAppointments(w, r) {
		return
	}
	start, err := time.Parse(time.RFC3339, r.PostFormValue("start"))
	if err != nil {
		c.showDay(w, r, refused(fault.Invalid, "appointment_invalid"))
		return
	}
	b, err := c.Appointments.Book(r.Context(), appointment.Request{Office: r.PathValue("office"),
		Service: appointment.ServiceKind(r.PostFormValue("service")), Start: start,
		CF: strings.ToUpper(strings.TrimSpace(r.PostFormValue("cf"))), By: staffActor(r)})
	if err != nil {
		c.showDay(w, r, err)
		return
	}
	c.log().Info("admin: appointment booked", "ref", b.Ref, "by", userOf(r))
	redirect(w, r, "/admin/appointments/"+b.OfficeID+"?day="+b.Day().String(), "apptbooked")
}

func (c *Console) appointmentCancel(w http.ResponseWriter, r *http.Request) {
	if !c.haveAppointments(w, r) {
		return
	}
	b, err := c.Appointments.Cancel(r.Context(), r.PostFormValue("ref"), "", staffActor(r))
	if err != nil {
		c.showDay(w, r, err)
		return
	}
	c.log().Info("admin: appointment cancelled", "ref", b.Ref, "by", userOf(r))
	redirect(w, r, "/admin/appointments/"+b.OfficeID+"?day="+b.Day().String(), "apptcancelled")
}
