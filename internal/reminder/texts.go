package reminder

import (
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/notify"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/registry"
)

// The constructors below give each kind's reminder its key and its text,
// in Italian with an English paragraph, within App IO's limits
// (notify.Message). Domains fill them with what they know and call
// Enqueue.

// CIEExpiring is the reminder that a CIE expires within 90 days.
type CIEExpiring struct {
	CF      string
	Number  string // the card number printed on the front
	Expires registry.Date
	// BookURL is where the citizen books the renewal appointment (the
	// hub's public appointments page); empty, the text sends them to the
	// registry office.
	BookURL string
}

// Reminder implements the kind: one per card and expiry date.
func (c CIEExpiring) Reminder() Reminder {
	var b strings.Builder
	fmt.Fprintf(&b, "La sua carta d'identità elettronica n. %s scade il **%s**. ", c.Number, c.Expires.Italian())
	b.WriteString("Per rinnovarla serve un appuntamento all'ufficio anagrafe: può chiedere il rinnovo già da 180 giorni prima della scadenza. ")
	if c.BookURL != "" {
		fmt.Fprintf(&b, "Prenoti qui: [%s](%s), oppure a una postazione self-service con la sua CIE.\n\n", c.BookURL, c.BookURL)
	} else {
		b.WriteString("Può prenotare a una postazione self-service con la sua CIE o presso l'ufficio anagrafe.\n\n")
	}
	fmt.Fprintf(&b, "*Your electronic identity card %s expires on %s. Book an appointment at the registry office to renew it.*\n", c.Number, c.Expires)
	return Reminder{Kind: CIEExpiry, Key: c.CF + "/" + c.Number + "/" + c.Expires.String(), CF: c.CF,
		Subject: "La sua carta d'identità scade il " + c.Expires.Italian(), Markdown: clip(b.String()),
		// Worth sending until the card's last day ends: the renewal can
		// still be booked.
		Expires: time.Date(c.Expires.Year, c.Expires.Month, c.Expires.Day+1, 0, 0, 0, 0, protocol.Rome)}
}

// RequestChanged is the reminder that a request changed status.
type RequestChanged struct {
	CF        string
	RequestID string
	// Change identifies this change within the request (its history
	// entry's number, say): the same change gives the same key, and a
	// request asked for more twice is reminded twice.
	Change   string
	Protocol string // the request's protocol number
	Title    string // "Cambio di indirizzo"
	Status   string // in Italian: "accolta", "respinta", "integrazione richiesta"
	// Note is what staff wrote for the citizen (the reasons of a refusal,
	// what more is needed); may be empty.
	Note string
}

// Reminder implements the kind.
func (r RequestChanged) Reminder() Reminder {
	var b strings.Builder
	title := strings.TrimSpace(r.Title)
	if title == "" {
		title = "Pratica anagrafica"
	}
	fmt.Fprintf(&b, "La sua pratica **%s** (protocollo %s) è ora: **%s**.\n\n", title, r.Protocol, r.Status)
	if n := strings.TrimSpace(r.Note); n != "" {
		fmt.Fprintf(&b, "Nota dell'ufficio: %s\n\n", n)
	}
	b.WriteString("Può vedere la pratica e rispondere a una postazione self-service con la sua CIE, o presso l'ufficio anagrafe citando il protocollo.\n\n")
	fmt.Fprintf(&b, "*Your request %s (protocol %s) is now: %s.*\n", title, r.Protocol, r.Status)
	return Reminder{Kind: RequestStatus, Key: r.RequestID + "/" + r.Change, CF: r.CF,
		Subject: subject("Pratica " + r.Protocol + ": " + r.Status), Markdown: clip(b.String())}
}

// AppointmentTomorrow is the reminder of an appointment the day before.
type AppointmentTomorrow struct {
	CF            string
	AppointmentID string
	At            time.Time
	Office        string // the office's name
	Address       string // where it is
	Service       string // "Rilascio CIE"
	// Code is the booking code on the confirmation (its QR), shown at
	// the office.
	Code string
	// SameDay: the reminder goes out on the appointment's own day, late
	// (the hub was stopped the day before), and says "today".
	SameDay bool
}

// Reminder implements the kind: one per appointment and time, so a moved
// appointment is reminded at its new time.
func (a AppointmentTomorrow) Reminder() Reminder {
	at := a.At.In(protocol.Rome)
	var b strings.Builder
	day, dayEN := "domani", "tomorrow"
	if a.SameDay {
		day, dayEN = "oggi", "today"
	}
	fmt.Fprintf(&b, "Le ricordiamo l'appuntamento di %s, **%s alle %s**, presso **%s**", day, at.Format("02/01/2006"), at.Format("15:04"), a.Office)
	if a.Address != "" {
		fmt.Fprintf(&b, " (%s)", a.Address)
	}
	fmt.Fprintf(&b, " per: %s.", a.Service)
	if a.Code != "" {
		fmt.Fprintf(&b, " Codice di prenotazione: **%s**.", a.Code)
	}
	b.WriteString("\n\nSe non può venire, annulli o sposti l'appuntamento a una postazione self-service o presso l'ufficio: il posto andrà a un altro cittadino.\n\n")
	fmt.Fprintf(&b, "*Reminder: your appointment (%s) is %s, %s at %s, at %s.*\n", a.Service, dayEN, at.Format("2006-01-02"), at.Format("15:04"), a.Office)
	// The key is the same on either day, so a reminder sent the day
	// before is not sent again on the day; none goes once it began.
	return Reminder{Kind: Appointment, Key: a.AppointmentID + "/" + a.At.UTC().Format(time.RFC3339), CF: a.CF,
		Subject: subject("Appuntamento " + day + " alle " + at.Format("15:04") + ": " + a.Service), Markdown: clip(b.String()), Expires: a.At}
}

// DelegationActed is the reminder to a delegator that their delegate
// acted for them.
type DelegationActed struct {
	DelegatorCF  string
	DelegationID string
	// ActID identifies the act (a certificate's id, a request's or an
	// appointment's): one reminder per act.
	ActID        string
	DelegateName string // "ROSSI ANNA"
	What         string // "Certificato di residenza", "prenotazione Rilascio CIE"
	At           time.Time
	Place        string // the shop or office, by name
}

// Reminder implements the kind.
func (d DelegationActed) Reminder() Reminder {
	at := d.At.In(protocol.Rome)
	var b strings.Builder
	fmt.Fprintf(&b, "Il %s alle %s **%s**, da lei delegato, ha agito per lei: %s", at.Format("02/01/2006"), at.Format("15:04"), d.DelegateName, d.What)
	if d.Place != "" {
		fmt.Fprintf(&b, ", presso %s", d.Place)
	}
	b.WriteString(".\n\nSe non lo riconosce, revochi la delega a una postazione self-service con la sua CIE o presso l'ufficio anagrafe.\n\n")
	fmt.Fprintf(&b, "*On %s at %s %s, your delegate, acted for you: %s.*\n", at.Format("2006-01-02"), at.Format("15:04"), d.DelegateName, d.What)
	return Reminder{Kind: DelegationUsed, Key: d.DelegationID + "/" + d.ActID, CF: d.DelegatorCF,
		Subject: subject("Il suo delegato " + d.DelegateName + " ha agito per lei"), Markdown: clip(b.String())}
}

// subject keeps s within App IO's subject limits.
func subject(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > notify.SubjectMax {
		r = append(r[:notify.SubjectMax-1], '…')
	}
	return string(r)
}

func clip(md string) string {
	if r := []rune(md); len(r) > notify.MarkdownMax {
		return string(r[:notify.MarkdownMax])
	}
	return md
}
