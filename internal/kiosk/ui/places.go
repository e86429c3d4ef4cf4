package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/sportello/sportello/internal/kiosk"
	"github.com/sportello/sportello/internal/protocol"
)

func (u *UI) placesButton(v kiosk.View, others ...fyne.CanvasObject) []fyne.CanvasObject {
	if !v.HasPlaces {
		return others
	}
	b := widget.NewButtonWithIcon(u.t(v, "places_button"), theme.SearchIcon(), func() { u.run(u.flow.ShowPlaces) })
	u.busy(v, b)
	return append(others, b)
}

// placesScreen lists the nearest points of service, saying how old the
// list is when it is the kept copy.
func (u *UI) placesScreen(v kiosk.View) fyne.CanvasObject {
	d := v.Places
	list := container.NewVBox()
	if d.Cached {
		note := widget.NewLabel(u.t(v, "places_cached", d.Fetched.In(protocol.Rome).Format("02/01/2006 15:04"), age(v.PlacesAge)))
		note.Wrapping = fyne.TextWrapWord
		note.Importance = widget.WarningImportance
		list.Add(note)
	}
	for _, p := range d.Places {
		state := u.t(v, "places_closed")
		if p.Open {
			state = u.t(v, "places_open")
		}
		name := widget.NewLabelWithStyle(fmt.Sprintf("%s · %s", p.Name, state), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		detail := fmt.Sprintf("%s · %s · %d m", p.Category, p.Address, p.DistanceM)
		if p.Transit != "" {
			detail += " · " + p.Transit
		}
		if len(p.Spans) > 0 {
			detail += " · " + u.t(v, "places_today", strings.Join(p.Spans, ", "))
		}
		dl := widget.NewLabel(detail)
		dl.Wrapping = fyne.TextWrapWord
		list.Add(name)
		list.Add(dl)
	}
	back := widget.NewButton(u.t(v, "back_button"), func() { u.flow.Back() })
	return container.NewBorder(heading(u.t(v, "places_title")), container.NewHBox(back), nil, nil, container.NewVScroll(list))
}

// age says how old a copy is, in the units an operator reads at a glance.
func age(d time.Duration) string {
	if d < time.Hour {
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
