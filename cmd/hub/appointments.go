package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/appointment"
)

// demoOffices gives the demo city two registry offices that book
// appointments, on its first start (when it has none), so that the
// kiosks and the console have calendars to show.
func demoOffices(ctx context.Context, s *appointment.Service) error {
	have, err := s.Offices(ctx)
	if err != nil || len(have) > 0 {
		return err
	}
	weekdays := func(from, to string) []appointment.Hours {
		var hs []appointment.Hours
		for wd := time.Monday; wd <= time.Friday; wd++ {
			hs = append(hs, appointment.Hours{Weekday: wd, From: from, To: to})
		}
		return hs
	}
	offices := []*appointment.Office{
		{ID: "centrale", Name: "Anagrafe centrale", Address: "Via Larga 12",
			Counters: []appointment.Counter{{Number: 1}, {Number: 2}, {Number: 3}, {Number: 4, Name: "Sportello residenze"}, {Number: 5}},
			Calendars: []appointment.Calendar{
				{Service: appointment.CIEIssue, Minutes: 20, Counters: []int{1, 2}, Hours: weekdays("08:30", "12:30")},
				{Service: appointment.CIERenewal, Minutes: 20, Counters: []int{3}, Hours: append(weekdays("08:30", "12:30"), appointment.Hours{Weekday: time.Thursday, From: "14:00", To: "16:00"})},
				{Service: appointment.Residence, Minutes: 30, Counters: []int{4}, Hours: weekdays("09:00", "12:00")},
				{Service: appointment.Other, Minutes: 15, Counters: []int{5}, Hours: weekdays("08:30", "12:30")},
			}},
		{ID: "municipio-5", Name: "Anagrafe decentrata Municipio 5", Address: "Viale Tibaldi 41",
			Counters: []appointment.Counter{{Number: 1}, {Number: 2}},
			Calendars: []appointment.Calendar{
				{Service: appointment.CIERenewal, Minutes: 20, Counters: []int{1}, Hours: weekdays("08:45", "12:15")},
				{Service: appointment.Other, Minutes: 15, Counters: []int{2}, Hours: weekdays("08:45", "12:15")},
			}},
	}
	for _, o := range offices {
		if err := s.PutOffice(ctx, o); err != nil {
			return fmt.Errorf("cannot add the demo office %s: %w", o.ID, err)
		}
	}
	return nil
}
