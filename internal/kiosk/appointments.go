package kiosk

import (
	"context"
	"errors"
	"time"

	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/printer/receipt"
)

// AppointmentHub is what the appointments' flow asks the hub; the
// kiosk's *hubclient.Client is one. Appointments are never queued in the
// outbox: a slot is only a slot if the hub gives it now.
type AppointmentHub interface {
	AppointmentSlots(ctx context.Context, office, service, day string) (*api.AppointmentSlots, error)
	BookAppointment(ctx context.Context, b api.AppointmentBooking) (*api.Appointment, error)
}

// NextSlots returns up to n slots with a free counter of service at
// office, from day from (Rome) on, looking at most days days ahead and
// skipping the days the office is closed: what the booking screen offers.
func NextSlots(ctx context.Context, h AppointmentHub, office, service string, from time.Time, days, n int) ([]api.AppointmentSlot, error) {
	var out []api.AppointmentSlot
	for d := 0; d < days && len(out) < n; d++ {
		day := from.AddDate(0, 0, d).Format("2006-01-02")
		s, err := h.AppointmentSlots(ctx, office, service, day)
		if err != nil {
			return out, clientErr(err)
		}
		for _, sl := range s.Slots {
			if sl.Free > 0 && len(out) < n {
				out = append(out, sl)
			}
		}
	}
	return out, nil
}

// ErrSlotGone is a booking of a slot someone else took first; the flow
// returns the slots to offer instead.
var ErrSlotGone = errors.New("the slot was just taken")

// BookSlot books b. When the slot went first (api.ReasonSlotTaken) it
// returns ErrSlotGone, with the refusal in the chain for its sentence,
// and the next free slots from that day on, so the screen offers them
// at once instead of a dead end.
func BookSlot(ctx context.Context, h AppointmentHub, b api.AppointmentBooking, days, n int) (*api.Appointment, []api.AppointmentSlot, error) {
	a, err := h.BookAppointment(ctx, b)
	if err == nil {
		return a, nil, nil
	}
	if r, ok := api.Refused(err); ok && r.Reason == api.ReasonSlotTaken {
		next, nerr := NextSlots(ctx, h, b.Office, b.Service, b.Start, days, n)
		if nerr != nil {
			return nil, nil, errors.Join(err, nerr)
		}
		return nil, next, errors.Join(ErrSlotGone, err)
	}
	return nil, nil, clientErr(err)
}

// Confirmation is a's printed confirmation in lang.
func Confirmation(a api.Appointment, lang receipt.Lang) receipt.Appointment {
	return receipt.Appointment{Office: a.OfficeName, Address: a.Address, Counter: a.Counter, Service: a.ServiceName,
		Start: a.Start, Minutes: a.Minutes, Name: a.Name, Ref: a.RefPrinted, QR: a.QR, Lang: lang}
}
