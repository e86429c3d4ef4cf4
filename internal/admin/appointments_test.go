package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/appointment"
	"github.com/sportello/sportello/internal/store"
)

// TestAppointmentDesk books for a citizen at the desk, checks the
// arrival in with the text of the confirmation's QR, refuses a second
// check-in, and keeps the lists from staff who may not read persons.
func TestAppointmentDesk(t *testing.T) {
	f := newFixture(t)
	clock := func() time.Time { return time.Date(2026, 4, 7, 10, 0, 0, 0, appointment.Rome) }
	f.con.Appointments = store.AppointmentsOf(f.con.Stores, clock)
	err := f.con.Appointments.PutOffice(context.Background(), &appointment.Office{ID: "centro", Name: "Anagrafe centrale",
		Counters: []appointment.Counter{{Number: 1}, {Number: 2, Name: "Sportello CIE"}},
		Calendars: []appointment.Calendar{{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{2},
			Hours: []appointment.Hours{{Weekday: time.Tuesday, From: "10:00", To: "11:00"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	c, csrf := f.login(t, "clerk")
	resp, page := get(t, c, f.srv.URL+"/admin/appointments/centro")
	// 10:00 has begun: 10:20 and 10:40 are left.
	if resp.StatusCode != http.StatusOK || strings.Contains(page, ">10:00 (") || !strings.Contains(page, ">10:20 (1/1") {
		t.Fatalf("the day: %d %s", resp.StatusCode, page)
	}
	start := time.Date(2026, 4, 7, 10, 20, 0, 0, appointment.Rome).UTC().Format(time.RFC3339)
	resp, _ = post(t, c, f.srv.URL+"/admin/appointments/centro/book", url.Values{"csrf": {csrf}, "service": {"cie_rilascio"}, "start": {start}, "cf": {strings.ToLower(f.cf)}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=apptbooked") {
		t.Fatalf("book: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	_, page = get(t, c, f.srv.URL+"/admin/appointments/centro?day=2026-04-07")
	m := regexp.MustCompile(`<code>([0-9A-Z]{4}-[0-9A-Z]{4})</code>`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "MARIO ROSSI") || !strings.Contains(page, "Sportello CIE") {
		t.Fatalf("the day's list: %s", page)
	}
	// The slot is full: booking it again is refused with the kiosks' sentence.
	resp, page = post(t, c, f.srv.URL+"/admin/appointments/centro/book", url.Values{"csrf": {csrf}, "service": {"cie_rilascio"}, "start": {start}, "cf": {f.cf}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "Hai già un appuntamento") {
		t.Errorf("booking again: %d %s", resp.StatusCode, page)
	}
	code := appointment.QRText(strings.ReplaceAll(m[1], "-", ""))
	resp, page = post(t, c, f.srv.URL+"/admin/appointments/checkin", url.Values{"csrf": {csrf}, "code": {code}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Arrivo registrato") || !strings.Contains(page, "MARIO ROSSI") || !strings.Contains(page, "Sportello CIE") {
		t.Fatalf("check-in: %d %s", resp.StatusCode, page)
	}
	resp, page = post(t, c, f.srv.URL+"/admin/appointments/checkin", url.Values{"csrf": {csrf}, "code": {code}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(page, "già stato annullato o utilizzato") {
		t.Errorf("a second check-in: %d %s", resp.StatusCode, page)
	}
	resp, page = post(t, c, f.srv.URL+"/admin/appointments/checkin", url.Values{"csrf": {csrf}, "code": {"xyz"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a code that is none: %d %s", resp.StatusCode, page)
	}
	// A closure the admin enters empties that day's calendar.
	a, acsrf := f.login(t, "admin")
	resp, _ = post(t, a, f.srv.URL+"/admin/appointments/closures", url.Values{"csrf": {acsrf}, "from": {"2026-04-14"}, "reason": {"Sciopero"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("closure: %s", resp.Status)
	}
	if _, page := get(t, a, f.srv.URL+"/admin/appointments/centro?day=2026-04-14"); !strings.Contains(page, "Sciopero") || strings.Contains(page, "<option value=") {
		t.Errorf("the closed day: %s", page)
	}
	// The clerk may not change closures; the auditor may not read the lists.
	if resp, _ := post(t, c, f.srv.URL+"/admin/appointments/closures", url.Values{"csrf": {csrf}, "from": {"2026-04-15"}, "reason": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("closure by a clerk: %s", resp.Status)
	}
	au, _ := f.login(t, "auditor")
	if resp, _ := get(t, au, f.srv.URL+"/admin/appointments"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the auditor: %s", resp.Status)
	}
}
