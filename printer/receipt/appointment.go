package receipt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sportello/sportello/printer/escpos"
)

// Appointment is the printed confirmation of a registry-office
// appointment booked at a kiosk or a shop's counter (issue 17): when and
// where, at which counter, for whom, and the booking code large and in a
// QR that the office scans on arrival.
type Appointment struct {
	Office  string
	Address string
	Counter string
	Service string // the service's name, in the receipt's language
	Start   time.Time
	Minutes int
	Name    string
	Ref     string // as printed, "K7P3-9XQD"
	QR      string // the text of the QR code the office's scanner reads
	Lang    Lang
}

var appointmentTexts = map[Lang]struct{ title, when, counter, person, code, bring string }{
	Italian: {"CONFERMA DI APPUNTAMENTO", "Quando", "Sportello", "Intestato a", "Codice di prenotazione",
		"Presentati qualche minuto prima con un documento d'identità e mostra il QR all'accoglienza. Per spostare o annullare l'appuntamento usa un totem o un esercizio convenzionato con la tua CIE."},
	English: {"APPOINTMENT CONFIRMATION", "When", "Counter", "For", "Booking code",
		"Come a few minutes early with an identity document and show the QR at the reception. To move or cancel the appointment use a kiosk or a partner shop with your CIE."},
}

var itWeekdays = [7]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}

// Validate reports the first thing that would make a misleading
// confirmation.
func (a Appointment) Validate() error {
	switch {
	case a.Lang != Italian && a.Lang != English:
		return fmt.Errorf("appointment confirmation language %q is neither it nor en", a.Lang)
	case strings.TrimSpace(a.Office) == "" || strings.TrimSpace(a.Service) == "":
		return fmt.Errorf("appointment confirmation has no office or service")
	case a.Start.IsZero() || a.Minutes <= 0:
		return fmt.Errorf("appointment confirmation has no time")
	case strings.TrimSpace(a.Ref) == "" || strings.TrimSpace(a.QR) == "":
		return fmt.Errorf("appointment confirmation has no booking code, so the office could not find it")
	}
	return nil
}

// EncodeAppointment renders the confirmation as ESC/POS for a printer
// profile; times are Rome's, whatever the kiosk's zone.
func EncodeAppointment(a Appointment, p escpos.Profile, rome *time.Location) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	t := appointmentTexts[a.Lang]
	cols, cp := p.Paper.Columns, p.CodePage
	start := a.Start.In(rome)
	day := start.Format("Monday 02/01/2006")
	if a.Lang == Italian {
		day = itWeekdays[start.Weekday()] + " " + start.Format("02/01/2006")
	}
	e := escpos.NewEncoder(p)
	e.Align(escpos.Center).Bold(true)
	for _, l := range wrap(t.title, cols, cp) {
		e.Line(l)
	}
	e.Bold(false)
	for _, l := range wrap(a.Office, cols, cp) {
		e.Line(l)
	}
	for _, l := range wrap(a.Address, cols, cp) {
		e.Line(l)
	}
	e.Align(escpos.Left).Line(strings.Repeat("-", cols))
	for _, l := range wrap(a.Service, cols, cp) {
		e.Line(l)
	}
	e.Line(t.when + ": " + day)
	e.Bold(true).Size(2, 2).Line(start.Format("15:04")).Size(1, 1).Bold(false)
	e.Line(t.counter + ": " + strings.TrimPrefix(a.Counter, "Sportello ") + " (" + strconv.Itoa(a.Minutes) + " min)")
	for _, l := range wrap(t.person+": "+a.Name, cols, cp) {
		e.Line(l)
	}
	e.Line(strings.Repeat("-", cols))
	e.Align(escpos.Center).Line(t.code)
	e.Bold(true).Size(2, 2).Line(a.Ref).Size(1, 1).Bold(false)
	e.QR(a.QR, qrModule(p), escpos.ECCMedium)
	e.Align(escpos.Left)
	for _, l := range wrap(t.bring, cols, cp) {
		e.Line(l)
	}
	e.Feed(1)
	footer(e, texts[a.Lang]) // the privacy notice, and the cut
	return e.Bytes()
}
